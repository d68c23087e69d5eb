import "server-only";
import { eq, sql } from "drizzle-orm";
import { env } from "@/lib/env.mjs";
import type { Database } from "@/server/db";
import { CHANNELS, watch } from "@/server/db/notify";
import { llmQueue } from "@/server/db/schema";
import { INSTANCE_ID } from "@/server/chat/slots";
import { llmServers, type LlmServer } from "./servers";

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

/**
 * The servers a reply may go to now, as the queue's functions take them (drizzle/0015): each
 * available one with its capacity and, when known, its models.
 */
function serversParam(): string {
  return JSON.stringify(
    llmServers()
      .filter((s) => s.available())
      .map((s) => ({ url: s.url, capacity: s.capacity, models: s.models() })),
  );
}

/** What a try for a server found: the server (now claimed), or none and how many are ahead. */
function placed(rows: { server: string | null; ahead: number }[]): { server: LlmServer | null; ahead: number } {
  const [row] = rows;
  const server = row?.server ? (llmServers().find((s) => s.url === row.server) ?? null) : null;
  return { server, ahead: row?.ahead ?? 0 };
}

/**
 * One try for a server, in fair order (`llm_claim`, one round trip): each user's first waiting
 * reply goes before anyone's second; a reply goes only to a server that has its model (when the
 * server's models are known) and has room.
 */
async function tryClaim(db: Database, messageId: string) {
  return placed(await db.execute<{ server: string | null; ahead: number }>(sql`select * from llm_claim(${messageId}, ${serversParam()}::jsonb)`));
}

/**
 * Waits, in the app's own queue shared by every instance, until an LLM server has room for this
 * reply — so queueing happens where it can be shown and cancelled, never as a silent request held
 * by Ollama. Resolves with the server; rejects with an AbortError when `signal` aborts first.
 */
export async function waitForTurn(db: Database, options: WaitOptions): Promise<Turn> {
  const { messageId, userId, model, signal } = options;
  signal?.throwIfAborted();
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    // A reply that ran stays a while as "served" for the fair order; one that never ran just goes.
    await db.execute(sql`
      with gone as (delete from ${llmQueue} where message_id = ${messageId} and server is null returning 1),
           done as (update ${llmQueue} set finished_at = now() where message_id = ${messageId} and server is not null and finished_at is null returning 1)
      select pg_notify(${CHANNELS.queue}, 'released')`);
    if (Math.random() < 0.05) void forgetServed(db).catch(() => {});
  };
  // Subscribed first, so a move between taking the place and waiting is not missed.
  const moves = await watch(db, CHANNELS.queue);
  try {
    // A place in the queue (again, for a reply written again), those waiting told, and a first try
    // for a server: one round trip (`llm_enqueue`).
    const enqueue = async () =>
      placed(
        await db.execute<{ server: string | null; ahead: number }>(
          sql`select * from llm_enqueue(${messageId}, ${userId}, ${model}, ${INSTANCE_ID}, ${env().GENERATION_LEASE_MS}, ${serversParam()}::jsonb)`,
        ),
      );
    const first = await enqueue();
    if (first.server) return { server: first.server, release };
    let lastAhead = first.ahead;
    options.onWaiting?.(first.ahead);
    for (;;) {
      await moves.next(RECHECK_MS, signal);
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new DOMException("Stopped while waiting", "AbortError");
      let { server, ahead } = await tryClaim(db, messageId);
      // The place was lost (given back by a late release, or its lease ran out while this
      // instance stalled): take one again, at the back, rather than wait forever.
      if (!server && ahead < 0) ({ server, ahead } = await enqueue());
      if (server) return { server, release };
      if (ahead !== lastAhead) options.onWaiting?.(ahead);
      lastAhead = ahead;
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
