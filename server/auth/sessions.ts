import "server-only";
import { randomBytes } from "node:crypto";
import { and, eq, gt, lte, notExists, sql } from "drizzle-orm";
import type { Database } from "@/server/db";
import { accounts, authSessions } from "@/server/db/schema";

/**
 * Browser sessions that can end. The session cookie stays an Auth.js JWT (the Credentials
 * provider needs that strategy), but every JWT names a row of `auth_sessions` in its `sid`
 * claim, and a cookie is a session only while that row exists and has not expired. The row is
 * read on every request, so sign-out, "sign out everywhere" and expiry take effect at once on
 * every instance.
 */

/** What the session cookie's JWT carries, beyond Auth.js's own profile claims. */
export interface SessionClaims {
  /** the row in auth_sessions */
  sid: string;
  userId: string;
  /** signed in with the development sign-in (checked again against linked accounts on each read) */
  devSignIn: boolean;
}

/**
 * The session claims of a decoded JWT; null for a cookie from before session rows existed (no
 * `sid`), which counts as signed out.
 */
export function sessionClaims(token: Record<string, unknown> | null | undefined): SessionClaims | null {
  if (!token || typeof token.sid !== "string" || typeof token.sub !== "string") return null;
  return { sid: token.sid, userId: token.sub, devSignIn: token.devSignIn === true };
}

/** Starts a session for `userId` that lasts `maxAgeSeconds` at most; returns its `sid`. */
export async function startSession(db: Database, userId: string, maxAgeSeconds: number) {
  const sid = randomBytes(32).toString("base64url");
  // The user's sessions that ran out are of no more use; signing in is a cheap moment to drop them.
  await db.delete(authSessions).where(and(eq(authSessions.userId, userId), lte(authSessions.expires, sql`now()`)));
  await db.insert(authSessions).values({ sessionToken: sid, userId, expires: new Date(Date.now() + maxAgeSeconds * 1000) });
  return sid;
}

/**
 * The live session a cookie names, or null when it was ended, ran out or belongs to someone
 * else. One indexed read. A development sign-in is also refused once its account has a linked
 * OAuth account: the dev sign-in refuses such accounts, and this closes the moment between a
 * first Google sign-in creating its user and linking its account.
 */
export async function liveSession(db: Database, claims: SessionClaims) {
  const [row] = await db
    .select({ expires: authSessions.expires })
    .from(authSessions)
    .where(
      and(
        eq(authSessions.sessionToken, claims.sid),
        eq(authSessions.userId, claims.userId),
        gt(authSessions.expires, sql`now()`),
        claims.devSignIn
          ? notExists(db.select({ userId: accounts.userId }).from(accounts).where(eq(accounts.userId, authSessions.userId)))
          : undefined,
      ),
    )
    .limit(1);
  return row ?? null;
}

/** Sign-out: this one session ends. */
export async function endSession(db: Database, sid: string) {
  await db.delete(authSessions).where(eq(authSessions.sessionToken, sid));
}

/** "Sign out everywhere": every session of the user ends, this browser's included. */
export async function endAllSessions(db: Database, userId: string) {
  const ended = await db.delete(authSessions).where(eq(authSessions.userId, userId)).returning({ sid: authSessions.sessionToken });
  return { ended: ended.length };
}
