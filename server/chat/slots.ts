import { and, count, eq, gt, isNotNull, sql } from "drizzle-orm";
import { env } from "@/lib/env.mjs";
import type { Database } from "@/server/db";
import { chatSessions, generationSlots, messages } from "@/server/db/schema";
import { DomainError } from "@/server/errors";

/** Renewal period: a third of the lease, so two missed beats are still fine. */
export const heartbeatMs = () => Math.floor(env().GENERATION_LEASE_MS / 3);

/** This process, among the app instances sharing the database. */
export const INSTANCE_ID = crypto.randomUUID();

const holder = globalThis as unknown as { afSlotRowsFor?: number };

/** The slot rows 1…MAX exist once; every instance may create them, only once each. */
async function ensureSlotRows(db: Database, max: number) {
  if ((holder.afSlotRowsFor ?? 0) >= max) return;
  await db.execute(sql`insert into ${generationSlots} (slot) select generate_series(1, ${max}) on conflict do nothing`);
  holder.afSlotRowsFor = max;
}

/**
 * Takes one of MAX_CONCURRENT_GENERATIONS slots for a reply, or says "busy" at once. One
 * statement: a free slot (empty, or its lease ran out because its instance crashed) is claimed
 * with FOR UPDATE SKIP LOCKED, so concurrent sends on any instance never wait for each other.
 */
export async function acquireSlot(db: Database, messageId: string, userId: string) {
  const { MAX_CONCURRENT_GENERATIONS: max, GENERATION_LEASE_MS: lease } = env();
  await ensureSlotRows(db, max);
  const claimed = await db.execute<{ slot: number }>(sql`
    update ${generationSlots}
    set message_id = ${messageId}, user_id = ${userId}, instance_id = ${INSTANCE_ID},
        lease_until = now() + ${lease} * interval '1 millisecond'
    where slot = (
      select slot from ${generationSlots}
      where slot <= ${max} and (message_id is null or lease_until < now())
      order by slot limit 1
      for update skip locked)
    returning slot`);
  if (claimed.length === 0) {
    throw new DomainError("busy", "Many characters are replying right now. Try again shortly.");
  }
}

export async function renewSlot(db: Database, messageId: string) {
  await db
    .update(generationSlots)
    .set({ leaseUntil: sql`now() + ${env().GENERATION_LEASE_MS} * interval '1 millisecond'` })
    .where(eq(generationSlots.messageId, messageId));
}

export async function releaseSlot(db: Database, messageId: string) {
  await db
    .update(generationSlots)
    .set({ messageId: null, userId: null, instanceId: null, leaseUntil: sql`now()` })
    .where(eq(generationSlots.messageId, messageId));
}

/** Whether a reply is being written right now by any live instance. */
export async function hasLiveSlot(db: Database, messageId: string) {
  const [row] = await db
    .select({ n: count() })
    .from(generationSlots)
    .where(and(eq(generationSlots.messageId, messageId), gt(generationSlots.leaseUntil, sql`now()`)));
  return (row?.n ?? 0) > 0;
}

/** Replies per minute per account, counted in the database so every instance agrees. */
export async function checkRateLimit(db: Database, userId: string) {
  const limit = env().CHAT_MESSAGES_PER_MINUTE;
  const [row] = await db
    .select({ n: count() })
    .from(messages)
    .innerJoin(chatSessions, eq(chatSessions.id, messages.sessionId))
    .where(
      and(
        // Replies the LLM wrote (greetings and imported history have no model); the partial
        // index on created_at keeps this to the last minute's replies, however long the history.
        isNotNull(messages.model),
        sql`${messages.createdAt} > now() - interval '1 minute'`,
        eq(chatSessions.userId, userId),
      ),
    );
  if ((row?.n ?? 0) >= limit) {
    throw new DomainError("rate_limited", `At most ${limit} replies a minute. Wait a moment and try again.`);
  }
}
