import "server-only";
import { sql } from "drizzle-orm";
import type { Database } from "./client";

/**
 * Postgres LISTEN/NOTIFY between app instances: what one instance does to a reply (Stop, a
 * partial save, a free LLM server) reaches the others at once, without polling. One listening
 * connection per pool; handlers subscribe by channel and get each payload.
 */
export const CHANNELS = {
  /** payload: a message id whose reply must stop, wherever it is being written */
  stop: "af_stop",
  /** payload: a message id whose stored reply changed (a partial save, the end) */
  reply: "af_reply",
  /** payload: a server whose queue moved (a reply started or ended) */
  queue: "af_queue",
  /** payload: the key of a streamed clip now complete in the audio cache */
  audio: "af_audio",
  /** payload: an avatar generation job id whose row changed, or "queue" when one was queued */
  avatar: "af_avatar",
} as const;
export type Channel = (typeof CHANNELS)[keyof typeof CHANNELS];

type Handler = (payload: string) => void;

interface Hub {
  handlers: Map<Channel, Set<Handler>>;
  listening: Map<Channel, Promise<unknown>>;
}

const hubs = new WeakMap<object, Hub>();

function hubOf(db: Database): Hub {
  const client = db.$client;
  let hub = hubs.get(client);
  if (!hub) hubs.set(client, (hub = { handlers: new Map(), listening: new Map() }));
  return hub;
}

/**
 * Calls `handler` with every payload sent on `channel` by any instance (this one included) until
 * the returned function is called. Resolves once the subscription is live, so a notification
 * sent after it is never missed.
 */
export async function listen(db: Database, channel: Channel, handler: Handler): Promise<() => void> {
  const hub = hubOf(db);
  let set = hub.handlers.get(channel);
  if (!set) hub.handlers.set(channel, (set = new Set()));
  set.add(handler);
  let ready = hub.listening.get(channel);
  if (!ready) {
    ready = db.$client.listen(channel, (payload: string) => {
      for (const h of hub.handlers.get(channel) ?? []) h(payload);
    });
    // A failed LISTEN is tried again by the next subscriber; callers keep a polling fallback.
    ready.catch((error: unknown) => {
      hub.listening.delete(channel);
      console.warn(`[notify] could not listen on ${channel}`, error);
    });
    hub.listening.set(channel, ready);
  }
  await ready.catch(() => {});
  return () => set.delete(handler);
}

/** Sends `payload` on `channel` to every instance listening (delivered when the transaction commits). */
export async function notify(db: Pick<Database, "execute">, channel: Channel, payload: string) {
  await db.execute(sql`select pg_notify(${channel}, ${payload})`);
}

/**
 * A subscription for a check-then-wait loop: subscribe, check the database, then `next()` waits
 * for a matching notification — one that arrived since the last `next()` counts, so nothing sent
 * between the check and the wait is lost. `ms` is the fallback should a notification be lost.
 */
export async function watch(db: Database, channel: Channel, matches: (payload: string) => boolean = () => true) {
  let pending = false;
  let wake: () => void = () => {};
  const stop = await listen(db, channel, (payload) => {
    if (!matches(payload)) return;
    pending = true;
    wake();
  });
  return {
    async next(ms: number, signal?: AbortSignal) {
      if (!pending && !signal?.aborted) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const onAbort = () => wake();
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, ms);
          signal?.addEventListener("abort", onAbort, { once: true });
        });
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        wake = () => {};
      }
      pending = false;
    },
    close: stop,
  };
}
