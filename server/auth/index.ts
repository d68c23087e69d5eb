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
import { authConfig } from "./config";

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

/** Which sign-in methods this server offers (for the sign-in page). */
export function signInMethods() {
  const config = env();
  return { google: googleConfigured(config), dev: devLoginEnabled(config) };
}
