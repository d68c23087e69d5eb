import "server-only";
import { eq, sql } from "drizzle-orm";
import { env } from "@/lib/env.mjs";
import type { Database } from "@/server/db";
import { CHANNELS, notify, watch } from "@/server/db/notify";
import { llmQueue } from "@/server/db/schema";
import { INSTANCE_ID } from "@/server/chat/slots";
import { llmServers, type LlmServer } from "./servers";

/** Serialises claims (not waits): a claim is one short transaction. */
const QUEUE_LOCK = 7_401_338;
/** A lost notification costs at most this much waiting. */
const RECHECK_MS = 1_000;

export interface Turn {
  /** The server the reply runs on. */
  server: LlmServer;
  /** Frees the server for the next reply (idempotent). */
  release(): Promise<void>;
}

export interface WaitOptions {
  messageId: string;
  userId: string;
  model: string;
  /** Stop while queued: the reply leaves the queue at once. */
  signal?: AbortSignal;
  /** Called whenever the number of replies ahead changes while waiting. */
  onWaiting?: (ahead: number) => void;
}

type Waiting = {
  message_id: string;
  model: string;
  pos: number;
};

/**
 * Picks, for the replies waiting in fair order, the server each would run on, and answers the
 * server for `messageId` when it is its turn now. Each user's first waiting reply goes before
 * anyone's second; a reply goes only to a server that has its model (when the server's models are
 * known) and has room.
 */
function placement(waiting: Waiting[], running: Map<string, number>, servers: LlmServer[], messageId: string) {
  const free = new Map(servers.map((s) => [s.url, Math.max(0, s.capacity - (running.get(s.url) ?? 0))]));
  let ahead = 0;
  for (const entry of waiting) {
    const candidates = servers.filter((s) => (free.get(s.url) ?? 0) > 0 && s.serves(entry.model));
    const best = candidates.sort((a, b) => (free.get(b.url) ?? 0) - (free.get(a.url) ?? 0))[0];
    if (entry.message_id === messageId) return { server: best ?? null, ahead };
    if (best) free.set(best.url, (free.get(best.url) ?? 0) - 1);
    ahead += 1;
  }
  return { server: null, ahead };
}

async function tryClaim(db: Database, messageId: string): Promise<{ server: LlmServer | null; ahead: number }> {
  const servers = llmServers().filter((s) => s.available());
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${QUEUE_LOCK})`);
    const [runningRows, waiting] = await Promise.all([
      tx.execute<{ server: string; n: number }>(sql`
        select server, count(*)::int as n from ${llmQueue}
        where server is not null and finished_at is null and lease_until > now() group by server`),
      // Each user's first waiting reply before anyone's second; among equals, the user served
      // least recently (never first), then the earliest.
      tx.execute<Waiting>(sql`
        select message_id, model, row_number() over (order by turn, last_served nulls first, enqueued_at, message_id)::int as pos
        from (select q.message_id, q.model, q.enqueued_at,
                     row_number() over (partition by q.user_id order by q.enqueued_at, q.message_id) as turn,
                     (select max(s.started_at) from ${llmQueue} s where s.user_id = q.user_id) as last_served
              from ${llmQueue} q where q.server is null and q.lease_until > now()) w
        order by pos`),
    ]);
    const running = new Map(runningRows.map((r) => [r.server, r.n]));
    const placed = placement([...waiting], running, servers, messageId);
    if (placed.server) {
      await tx
        .update(llmQueue)
        .set({ server: placed.server.url, startedAt: sql`now()` })
        .where(eq(llmQueue.messageId, messageId));
    }
    return placed;
  });
}

/**
 * Waits, in the app's own queue shared by every instance, until an LLM server has room for this
 * reply — so queueing happens where it can be shown and cancelled, never as a silent request held
 * by Ollama. Resolves with the server; rejects with an AbortError when `signal` aborts first.
 */
export async function waitForTurn(db: Database, options: WaitOptions): Promise<Turn> {
  const { messageId, userId, model, signal } = options;
  const lease = env().GENERATION_LEASE_MS;
  const leaseUntil = sql`now() + ${lease} * interval '1 millisecond'`;
  // A reply written again (continued) queues anew under its id.
  await db
    .insert(llmQueue)
    .values({ messageId, userId, model, instanceId: INSTANCE_ID, leaseUntil })
    .onConflictDoUpdate({
      target: llmQueue.messageId,
      set: { server: null, startedAt: null, finishedAt: null, enqueuedAt: sql`now()`, instanceId: INSTANCE_ID, leaseUntil, model },
    });
  // Those already waiting learn that one more is in the fair order (it may go before them).
  await notify(db, CHANNELS.queue, "enqueued");
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    // A reply that ran stays a while as "served" for the fair order; one that never ran just goes.
    await db.execute(sql`
      with gone as (delete from ${llmQueue} where message_id = ${messageId} and server is null returning 1)
      update ${llmQueue} set finished_at = now() where message_id = ${messageId} and server is not null and finished_at is null`);
    await notify(db, CHANNELS.queue, "released");
    if (Math.random() < 0.05) void forgetServed(db).catch(() => {});
  };
  const moves = await watch(db, CHANNELS.queue);
  try {
    let lastAhead = -1;
    for (;;) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new DOMException("Stopped while waiting", "AbortError");
      const { server, ahead } = await tryClaim(db, messageId);
      if (server) {
        await notify(db, CHANNELS.queue, "started");
        return { server, release };
      }
      if (ahead !== lastAhead) options.onWaiting?.(ahead);
      lastAhead = ahead;
      await moves.next(RECHECK_MS, signal);
    }
  } catch (error) {
    await release().catch(() => {});
    throw error;
  } finally {
    moves.close();
  }
}

/** Served replies older than the fair order needs. */
async function forgetServed(db: Database) {
  await db.execute(sql`delete from ${llmQueue} where finished_at < now() - interval '15 minutes' or lease_until < now() - interval '1 hour'`);
}

/** Keeps a waiting or running reply's place while its instance lives (with the slot heartbeat). */
export async function renewTurn(db: Database, messageId: string) {
  await db
    .update(llmQueue)
    .set({ leaseUntil: sql`now() + ${env().GENERATION_LEASE_MS} * interval '1 millisecond'` })
    .where(eq(llmQueue.messageId, messageId));
}

/** Replies waiting and running per server, for health. */
export async function queueState(db: Database) {
  const rows = await db.execute<{ server: string | null; n: number }>(sql`
    select server, count(*)::int as n from ${llmQueue} where finished_at is null and lease_until > now() group by server`);
  return { waiting: rows.find((r) => r.server === null)?.n ?? 0, running: Object.fromEntries(rows.filter((r) => r.server).map((r) => [r.server!, r.n])) };
}
