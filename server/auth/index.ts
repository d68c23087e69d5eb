import { DrizzleAdapter } from "@auth/drizzle-adapter";
import NextAuth, { type DefaultSession, type NextAuthConfig, type Session } from "next-auth";
import { decode, type JWT } from "next-auth/jwt";
import Credentials from "next-auth/providers/credentials";
import Google from "next-auth/providers/google";
import { cache } from "react";
import { devLoginEnabled, env, googleConfigured } from "@/lib/env.mjs";
import { getDb } from "@/server/db";
import { accounts, authSessions, users, verificationTokens } from "@/server/db/schema";
import { redirect } from "next/navigation";
import { authConfig, SESSION_MAX_AGE_S, signInUrl } from "./config";
import { authorizeDevSignIn } from "./dev-sign-in";
import { endSession, liveSession, sessionClaims, startSession, type SessionClaims } from "./sessions";

export { signInUrl };

declare module "next-auth" {
  interface Session {
    user: { id: string } & DefaultSession["user"];
  }
}

function providers() {
  const config = env();
  const list = [];
  if (googleConfigured(config)) {
    list.push(
      Google({
        clientId: config.AUTH_GOOGLE_ID,
        clientSecret: config.AUTH_GOOGLE_SECRET,
        ...(config.AUTH_GOOGLE_ISSUER ? { issuer: config.AUTH_GOOGLE_ISSUER } : {}),
      }),
    );
  }
  if (devLoginEnabled(config)) {
    list.push(
      Credentials({
        id: "dev",
        name: "Development",
        credentials: { email: { label: "Email" }, name: { label: "Name" } },
        authorize: (input) => authorizeDevSignIn(getDb(), input),
      }),
    );
  }
  return list;
}

type SignOutMessage = Parameters<NonNullable<NonNullable<NextAuthConfig["events"]>["signOut"]>>[0];

/**
 * Auth.js's `jwt` callback: at sign-in (`user` present) the new cookie gets a session row of its
 * own; on every later read the cookie counts only while that row is live (null signs it out).
 */
export async function sessionRowJwt({
  token,
  user,
  account,
}: {
  token: JWT;
  /** present only at sign-in (Auth.js types it as always there) */
  user?: { id?: string } | null;
  account?: { provider: string } | null;
}): Promise<JWT | null> {
  const db = getDb();
  if (user?.id) {
    const sid = await startSession(db, user.id, SESSION_MAX_AGE_S);
    return { ...token, sub: user.id, sid, ...(account?.provider === "dev" ? { devSignIn: true } : {}) };
  }
  const claims = sessionClaims(token);
  return claims && (await liveSession(db, claims)) ? token : null;
}

/** Auth.js's `signOut` event (it decodes the cookie for JWT sessions): the cookie's row goes. */
export async function endSessionOnSignOut(message: SignOutMessage) {
  const claims = "token" in message ? sessionClaims(message.token) : null;
  if (claims) await endSession(getDb(), claims.sid);
}

let config: NextAuthConfig | undefined;

// Lazy: the database URL is known only after boot, and `next build` must not need it. Built on
// the first request, then reused: Auth.js asks for it on every call.
const nextAuth = NextAuth(
  () =>
    (config ??= {
      ...authConfig,
      providers: providers(),
      adapter: DrizzleAdapter(getDb(), {
        usersTable: users,
        accountsTable: accounts,
        sessionsTable: authSessions,
        verificationTokensTable: verificationTokens,
      }),
      callbacks: { ...authConfig.callbacks, jwt: sessionRowJwt },
      events: { signOut: endSessionOnSignOut },
    }),
);

export const { handlers, signIn, signOut } = nextAuth;

/** The current session, memoised per request for server components (its row is checked). */
export const auth = cache(() => nextAuth.auth());

/** The signed-in user of a page; a visitor is sent to sign in and brought back to `path`. */
export async function requireUser(path: string) {
  const session = await auth();
  if (!session?.user) redirect(signInUrl(path));
  return session.user;
}

/** Auth.js's session cookie: plain or `__Secure-`, possibly split into numbered chunks. */
const SESSION_COOKIE = /(?:^|;\s*)((?:__Secure-)?authjs\.session-token)(?:\.(\d+))?=([^;]*)/g;
const SECURE_NAME = "__Secure-authjs.session-token";

/** The session cookie of a request, its chunks joined in order (the `__Secure-` one first). */
function sessionCookie(header: string | null) {
  const chunks = new Map<string, { index: number; value: string }[]>();
  for (const [, name, index, value] of (header ?? "").matchAll(SESSION_COOKIE)) {
    chunks.set(name!, [...(chunks.get(name!) ?? []), { index: index === undefined ? -1 : Number(index), value: value! }]);
  }
  const name = chunks.has(SECURE_NAME) ? SECURE_NAME : chunks.keys().next().value;
  if (!name) return null;
  const value = chunks.get(name)!.sort((a, b) => a.index - b.index).map((chunk) => chunk.value).join("");
  return value ? { name, value } : null;
}

interface DecodedCookie {
  claims: SessionClaims;
  user: Session["user"];
}

/** A cookie that didn't decode is tried again after this long. */
const UNDECODABLE_CACHE_MS = 60_000;
const DECODED_CACHE_SIZE = 2_000;
const decoded = new Map<string, { cookie: DecodedCookie | null; until: number }>();

/**
 * Decrypting the cookie costs milliseconds on Node's thread pool, and a chat makes many requests
 * with the same cookie, whose content never changes: the result is kept until the JWT expires.
 * Only the decryption is kept; whether the session is still live is asked every time.
 */
async function decodeSessionCookie(cookie: { name: string; value: string }): Promise<DecodedCookie | null> {
  const key = `${cookie.name}=${cookie.value}`;
  const hit = decoded.get(key);
  if (hit && hit.until > Date.now()) return hit.cookie;
  const secret = env().AUTH_SECRET;
  const token = secret ? await decode({ token: cookie.value, secret, salt: cookie.name }).catch(() => null) : null;
  const claims = sessionClaims(token);
  const result =
    token && claims
      ? {
          claims,
          user: {
            id: claims.userId,
            name: typeof token.name === "string" ? token.name : null,
            email: typeof token.email === "string" ? token.email : null,
            image: typeof token.picture === "string" ? token.picture : null,
          },
        }
      : null;
  const until = result && typeof token?.exp === "number" ? token.exp * 1000 : Date.now() + UNDECODABLE_CACHE_MS;
  if (decoded.size >= DECODED_CACHE_SIZE) decoded.delete(decoded.keys().next().value!);
  decoded.set(key, { cookie: result, until });
  return result;
}

/**
 * The session for an API request, from its own headers. No cookie means no session, without
 * decrypting anything; a cookie counts only while its session row is live (one indexed read per
 * request, so a session ended on any instance is refused at once by all of them).
 */
export async function sessionFromHeaders(headers: Headers): Promise<Session | null> {
  const cookie = sessionCookie(headers.get("cookie"));
  if (!cookie) return null;
  const session = await decodeSessionCookie(cookie);
  if (!session) return null;
  const live = await liveSession(getDb(), session.claims);
  return live ? { user: session.user, expires: live.expires.toISOString() } : null;
}

/** Which sign-in methods this server offers (for the sign-in page). */
export function signInMethods() {
  const config = env();
  return { google: googleConfigured(config), dev: devLoginEnabled(config) };
}
