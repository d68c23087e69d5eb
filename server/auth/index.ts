import { DrizzleAdapter } from "@auth/drizzle-adapter";
import { eq } from "drizzle-orm";
import NextAuth, { type DefaultSession, type NextAuthConfig } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import Google from "next-auth/providers/google";
import { cache } from "react";
import { devLoginEnabled, env, googleConfigured } from "@/lib/env.mjs";
import { devSignInSchema } from "@/lib/schemas";
import { getDb } from "@/server/db";
import { accounts, authSessions, users, verificationTokens } from "@/server/db/schema";
import { redirect } from "next/navigation";
import { authConfig, signInUrl } from "./config";

export { signInUrl };

declare module "next-auth" {
  interface Session {
    user: { id: string } & DefaultSession["user"];
  }
}

/** Finds or creates the account for a development sign-in (no password: never offered in production). */
async function devUser(input: unknown) {
  const parsed = devSignInSchema.safeParse(input);
  if (!parsed.success) return null;
  const { email, name } = parsed.data;
  const db = getDb();
  const [existing] = await db.select().from(users).where(eq(users.email, email)).limit(1);
  if (existing) return existing;
  const [created] = await db.insert(users).values({ email, name: name || email.split("@")[0] }).returning();
  return created ?? null;
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
        authorize: devUser,
      }),
    );
  }
  return list;
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
    }),
);

export const { handlers, signIn, signOut } = nextAuth;

/** The current session, memoised per request for server components. */
export const auth = cache(() => nextAuth.auth());

/** The signed-in user of a page; a visitor is sent to sign in and brought back to `path`. */
export async function requireUser(path: string) {
  const session = await auth();
  if (!session?.user) redirect(signInUrl(path));
  return session.user;
}

/** Auth.js's session cookie (plain or `__Secure-`, possibly split into numbered chunks). */
const SESSION_COOKIE = /(?:^|;\s*)((?:__Secure-)?authjs\.session-token(?:\.\d+)?)=([^;]*)/g;
const SESSION_CACHE_MS = 10_000;
const SESSION_CACHE_SIZE = 2_000;
const decoded = new Map<string, { session: Awaited<ReturnType<typeof auth>>; until: number }>();

/**
 * The session for an API request. Decrypting the session cookie costs milliseconds and runs on
 * Node's thread pool, and a chat makes many requests with the same cookie: the result is reused
 * for a few seconds. No cookie means no session, without asking Auth.js at all.
 */
export async function sessionFromHeaders(headers: Headers) {
  const key = [...(headers.get("cookie") ?? "").matchAll(SESSION_COOKIE)].map((m) => `${m[1]}=${m[2]}`).join(";");
  if (!key) return null;
  const hit = decoded.get(key);
  if (hit && hit.until > Date.now()) return hit.session;
  const session = await nextAuth.auth();
  if (decoded.size >= SESSION_CACHE_SIZE) decoded.delete(decoded.keys().next().value!);
  decoded.set(key, { session, until: Date.now() + SESSION_CACHE_MS });
  return session;
}

/** Which sign-in methods this server offers (for the sign-in page). */
export function signInMethods() {
  const config = env();
  return { google: googleConfigured(config), dev: devLoginEnabled(config) };
}
