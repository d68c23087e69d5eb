import "server-only";
import { eq } from "drizzle-orm";
import { CredentialsSignin } from "next-auth";
import { env } from "@/lib/env.mjs";
import { devSignInSchema } from "@/lib/schemas";
import type { Database } from "@/server/db";
import { accounts, users } from "@/server/db/schema";
import { DomainError } from "@/server/errors";
import { consume, global, HOUR } from "@/server/limits/rate-limit";

/** The address belongs to an account that signs in with Google (or another OAuth provider). */
export class LinkedAccountSignIn extends CredentialsSignin {
  override code = "linked_account";
}

/** Too many accounts were created in the last hour (SIGNUPS_PER_HOUR). */
export class SignUpLimitSignIn extends CredentialsSignin {
  override code = "sign_up_limit";
}

/** The sign-in error codes the sign-in page has a sentence for (`?error=<code>`). */
export const SIGN_IN_ERROR_CODES = ["linked_account", "sign_up_limit"] as const;

async function userByEmail(db: Database, email: string) {
  const [user] = await db.select().from(users).where(eq(users.email, email)).limit(1);
  return user;
}

/**
 * Whether the user has a linked OAuth account. Such a user proved who they are to Google; an
 * email typed into a passwordless form proves nothing, so it must never open their account.
 */
export async function hasLinkedAccount(db: Database, userId: string) {
  const [row] = await db.select({ userId: accounts.userId }).from(accounts).where(eq(accounts.userId, userId)).limit(1);
  return Boolean(row);
}

async function refuseLinked(db: Database, user: typeof users.$inferSelect) {
  if (await hasLinkedAccount(db, user.id)) throw new LinkedAccountSignIn();
  return user;
}

/**
 * The development sign-in (any email, no password): the account of that address, created on
 * first use. Refuses accounts with a linked OAuth account; new accounts count against the
 * app-wide sign-up limit. Returns null for input that isn't an email address.
 */
export async function authorizeDevSignIn(db: Database, input: unknown) {
  const parsed = devSignInSchema.safeParse(input);
  if (!parsed.success) return null;
  const { email, name } = parsed.data;
  const existing = await userByEmail(db, email);
  if (existing) return refuseLinked(db, existing);

  try {
    await consume(db, [global("sign_up", env().SIGNUPS_PER_HOUR, HOUR)]);
  } catch (error) {
    if (error instanceof DomainError && error.code === "limit_reached") throw new SignUpLimitSignIn();
    throw error;
  }
  const [created] = await db
    .insert(users)
    .values({ email, name: name || email.split("@")[0] })
    .onConflictDoNothing({ target: users.email })
    .returning();
  if (created) return created;
  // The address was taken a moment ago (a Google sign-in, another tab): the same rules apply to it.
  const raced = await userByEmail(db, email);
  return raced ? refuseLinked(db, raced) : null;
}
