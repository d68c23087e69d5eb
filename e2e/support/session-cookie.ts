import { randomBytes } from "node:crypto";
import { encode } from "next-auth/jwt";
import type { Database } from "@/server/db";
import { authSessions } from "@/server/db/schema";

/** Auth.js's session cookie on plain http; its name is also the JWT's salt. */
export const SESSION_COOKIE = "authjs.session-token";

/**
 * A session cookie as the app sets it after sign-in: a row in auth_sessions, named by the
 * encrypted JWT's `sid` (server/auth/sessions.ts). For tests and benchmarks that talk to the
 * app or its API without going through a sign-in page.
 */
export async function signedInCookie(
  db: Database,
  user: { id: string; name: string | null; email: string | null },
  { secret, maxAgeSeconds = 3_600 }: { secret: string; maxAgeSeconds?: number },
) {
  const sid = randomBytes(32).toString("base64url");
  await db.insert(authSessions).values({ sessionToken: sid, userId: user.id, expires: new Date(Date.now() + maxAgeSeconds * 1000) });
  const jwt = await encode({ token: { sub: user.id, sid, name: user.name, email: user.email }, secret, salt: SESSION_COOKIE, maxAge: maxAgeSeconds });
  return { sid, cookie: `${SESSION_COOKIE}=${jwt}` };
}
