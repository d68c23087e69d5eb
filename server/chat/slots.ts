import { and, count, eq, gt, sql } from "drizzle-orm";
import { env } from "@/lib/env.mjs";
import type { Database } from "@/server/db";
import { generationSlots, replyQuotas } from "@/server/db/schema";
import { DomainError } from "@/server/errors";

/** Renewal period: a third of the lease, so two missed beats are still fine. */
export const heartbeatMs = () => Math.floor(env().GENERATION_LEASE_MS / 3);

/** This process, among the app instances sharing the database. */
export const INSTANCE_ID = crypto.randomUUID();

const holder = globalThis as unknown as { afSlotRowsFor?: number };

/** The slot rows 1…MAX exist once; every instance may create them, only once each. */
export async function ensureSlotRows(db: Database, max: number) {
  if ((holder.afSlotRowsFor ?? 0) >= max) return;
  await db.execute(sql`insert into ${generationSlots} (slot) select generate_series(1, ${max}) on conflict do nothing`);
  holder.afSlotRowsFor = max;
}

export const busy = () => new DomainError("busy", "Many characters are replying right now. Try again shortly.");
export const rateLimited = (limit: number) =>
  new DomainError("rate_limited", `At most ${limit} replies a minute. Wait a moment and try again.`);

/**
 * Claims one free slot (empty, or its lease ran out because its instance crashed) for a reply:
 * an UPDATE whose WHERE may be extended by the caller. FOR UPDATE SKIP LOCKED, so concurrent
 * sends on any instance never wait for each other.
 */
export function claimSlotStatement(claim: { messageId: string; userId: string; max: number; lease: number }) {
  return sql`
    update ${generationSlots}
    set message_id = ${claim.messageId}, user_id = ${claim.userId}, instance_id = ${INSTANCE_ID},
        lease_until = now() + ${claim.lease} * interval '1 millisecond'
    where slot = (
      select slot from ${generationSlots}
      where slot <= ${claim.max} and (message_id is null or lease_until < now())
      order by slot limit 1
      for update skip locked)`;
}

/**
 * Takes one reply from the user's allowance (a token bucket of CHAT_MESSAGES_PER_MINUTE, refilled
 * at that many a minute): a statement that returns a row (`tokens`, what is left) when there was
 * one to take, none when the user is at the limit. `when` gates it (e.g. the chat is the user's).
 * The row is locked by the update, so concurrent sends — from any instance — take turns on it and
 * each sees the others' takings.
 */
export function takeReplyQuotaStatement(userId: string, perMinute: number, when = sql`true`) {
  const refilled = sql`least(${perMinute}::float8, reply_quotas.tokens + greatest(0, extract(epoch from clock_timestamp() - reply_quotas.updated_at)) * ${perMinute}::float8 / 60)`;
  return sql`
    insert into ${replyQuotas} (user_id, tokens, updated_at)
    select ${userId}, ${perMinute}::float8 - 1, clock_timestamp() where ${when}
    on conflict (user_id) do update set tokens = ${refilled} - 1, updated_at = clock_timestamp()
    where ${refilled} >= 1
    returning tokens`;
}

/** Gives back a reply taken from the allowance for a send that was then refused (no free slot). */
export async function returnReplyQuota(db: Database, userId: string) {
  const { CHAT_MESSAGES_PER_MINUTE: perMinute } = env();
  await db.execute(sql`update ${replyQuotas} set tokens = least(${perMinute}::float8, tokens + 1) where user_id = ${userId}`);
}

/** Takes one of MAX_CONCURRENT_GENERATIONS slots for a reply, or says "busy" at once. */
export async function acquireSlot(db: Database, messageId: string, userId: string) {
  const { MAX_CONCURRENT_GENERATIONS: max, GENERATION_LEASE_MS: lease } = env();
  await ensureSlotRows(db, max);
  const claimed = await db.execute<{ slot: number }>(sql`${claimSlotStatement({ messageId, userId, max, lease })} returning slot`);
  if (claimed.length === 0) throw busy();
}

export async function renewSlot(db: Database, messageId: string) {
  await db
    .update(generationSlots)
    .set({ leaseUntil: sql`now() + ${env().GENERATION_LEASE_MS} * interval '1 millisecond'` })
    .where(eq(generationSlots.messageId, messageId));
}

/** Frees the slot a reply held (an UPDATE, to which the caller may add RETURNING). */
export function releaseSlotStatement(messageId: string) {
  return sql`
    update ${generationSlots}
    set message_id = null, user_id = null, instance_id = null, lease_until = now()
    where message_id = ${messageId}`;
}

export async function releaseSlot(db: Database, messageId: string) {
  await db.execute(releaseSlotStatement(messageId));
}

/** Whether a reply is being written right now by any live instance. */
export async function hasLiveSlot(db: Database, messageId: string) {
  const [row] = await db
    .select({ n: count() })
    .from(generationSlots)
    .where(and(eq(generationSlots.messageId, messageId), gt(generationSlots.leaseUntil, sql`now()`)));
  return (row?.n ?? 0) > 0;
}

/** Replies per minute per account, taken from the allowance in the database so every instance agrees. */
export async function checkRateLimit(db: Database, userId: string) {
  const limit = env().CHAT_MESSAGES_PER_MINUTE;
  const taken = await db.execute(takeReplyQuotaStatement(userId, limit));
  if (taken.length === 0) throw rateLimited(limit);
}
