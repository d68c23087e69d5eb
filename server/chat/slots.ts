import { and, count, eq, isNotNull, lt, sql } from "drizzle-orm";
import { env } from "@/lib/env.mjs";
import type { Database } from "@/server/db";
import { generationSlots, messages, chatSessions } from "@/server/db/schema";
import { DomainError } from "@/server/errors";

/** Arbitrary constant: serialises slot accounting across every instance on the database. */
const SLOT_LOCK = 7_401_338;
/** Renewal period: a third of the lease, so two missed beats are still fine. */
export const heartbeatMs = () => Math.floor(env().GENERATION_LEASE_MS / 3);

/** This process, among the app instances sharing the database. */
export const INSTANCE_ID = crypto.randomUUID();

/**
 * Takes one of MAX_CONCURRENT_GENERATIONS slots for a reply, or says "busy" at once. Slots are
 * leases: a crashed instance stops renewing its own, and they return by themselves.
 */
export async function acquireSlot(db: Database, messageId: string, userId: string) {
  const max = env().MAX_CONCURRENT_GENERATIONS;
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${SLOT_LOCK})`);
    await tx.delete(generationSlots).where(lt(generationSlots.leaseUntil, new Date()));
    const [row] = await tx.select({ n: count() }).from(generationSlots);
    if ((row?.n ?? 0) >= max) {
      throw new DomainError("busy", "Many characters are replying right now. Try again shortly.");
    }
    await tx.insert(generationSlots).values({
      messageId,
      userId,
      instanceId: INSTANCE_ID,
      leaseUntil: new Date(Date.now() + env().GENERATION_LEASE_MS),
    });
  });
}

export async function renewSlot(db: Database, messageId: string) {
  await db
    .update(generationSlots)
    .set({ leaseUntil: new Date(Date.now() + env().GENERATION_LEASE_MS) })
    .where(eq(generationSlots.messageId, messageId));
}

export async function releaseSlot(db: Database, messageId: string) {
  await db.delete(generationSlots).where(eq(generationSlots.messageId, messageId));
}

/** Whether a reply is being written right now by any live instance. */
export async function hasLiveSlot(db: Database, messageId: string) {
  const [row] = await db
    .select({ n: count() })
    .from(generationSlots)
    .where(and(eq(generationSlots.messageId, messageId), sql`${generationSlots.leaseUntil} > now()`));
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
        eq(chatSessions.userId, userId),
        // Replies the LLM wrote (greetings and imported history have no model).
        isNotNull(messages.model),
        sql`${messages.createdAt} > now() - interval '1 minute'`,
      ),
    );
  if ((row?.n ?? 0) >= limit) {
    throw new DomainError("rate_limited", `At most ${limit} replies a minute. Wait a moment and try again.`);
  }
}
