import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedDatabase } from "@/e2e/support/isolated-db";
import { llmQueue } from "@/server/db/schema";
import { waitForTurn, type Turn } from "./scheduler";

// Its own database: the queue is shared by everything on a database, as it is across instances.
let isolated: Awaited<ReturnType<typeof isolatedDatabase>>;
beforeAll(async () => {
  process.env.OLLAMA_HOST = "http://127.0.0.1:1";
  process.env.OLLAMA_NUM_PARALLEL = "1";
  isolated = await isolatedDatabase();
}, 60_000);
afterAll(() => isolated?.drop());

const id = () => crypto.randomUUID();

/** A waiter whose progress can be read without timing: its turn, or the "ahead" counts it saw. */
function queueUp(userId: string, options: { signal?: AbortSignal } = {}) {
  const messageId = id();
  const seen: number[] = [];
  let turn: Turn | null = null;
  const done = waitForTurn(isolated.db, { messageId, userId, model: "qwen2.5:7b", signal: options.signal, onWaiting: (ahead) => seen.push(ahead) }).then(
    (t) => (turn = t),
  );
  return { messageId, seen, done, turn: () => turn };
}

async function until(check: () => boolean, what: string | (() => string)) {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
}

describe("the LLM queue", () => {
  it("runs one reply at a time per server and tells the next how many are ahead, then starts it when the first ends", async () => {
    const first = queueUp(id());
    await first.done;
    const second = queueUp(id());
    await until(() => second.seen.length > 0, "the second to wait");
    const third = queueUp(id());
    await until(() => third.seen.length > 0, "the third to wait");
    expect(second.turn()).toBeNull();
    expect(second.seen.at(-1)).toBe(0);
    expect(third.seen.at(-1)).toBe(1);

    await first.turn()!.release();
    await second.done;
    await until(() => third.seen.at(-1) === 0, "the third to move up");
    expect(third.turn()).toBeNull();
    await second.turn()!.release();
    await third.done;
    await third.turn()!.release();
  });

  it("is fair between users: each user's first waiting reply goes before anyone's second", async () => {
    const busy = queueUp(id());
    await busy.done;
    const greedy = id();
    const a1 = queueUp(greedy);
    await until(() => a1.seen.length > 0, "a1 to wait");
    const a2 = queueUp(greedy);
    await until(() => a2.seen.length > 0, "a2 to wait");
    const other = queueUp(id());
    await until(() => other.seen.length > 0, "the other user to wait");
    // The other user's only reply goes before the greedy user's second, which moves back.
    expect(other.seen.at(-1)).toBe(1);
    await until(() => a2.seen.at(-1) === 2, "the greedy user's second reply to move back");

    const order: string[] = [];
    for (const w of [a1, a2, other]) void w.done.then(() => order.push(w.messageId));
    await busy.turn()!.release();
    await until(() => order.length === 1, "a1 to start");
    await a1.turn()!.release();
    await until(() => order.length === 2, "the next to start");
    expect(order[1]).toBe(other.messageId);
    await other.turn()!.release();
    await a2.done;
    await a2.turn()!.release();
  });

  it("lets a reply leave the queue at once when it is stopped, and the rest move up", async () => {
    const busy = queueUp(id());
    await busy.done;
    const stop = new AbortController();
    const stopped = queueUp(id(), { signal: stop.signal });
    await until(() => stopped.seen.length > 0, "the reply to be stopped to wait");
    const after = queueUp(id());
    await until(() => after.seen.at(-1) === 1, () => `the later reply to wait behind (saw ${JSON.stringify(after.seen)}, ${JSON.stringify(stopped.seen)})`);
    stop.abort();
    await expect(stopped.done).rejects.toThrow();
    await until(() => after.seen.at(-1) === 0, "the later reply to move up");
    const rows = await isolated.db.select().from(llmQueue).where(sql`${llmQueue.messageId} = ${stopped.messageId}`);
    expect(rows).toEqual([]);
    await busy.turn()!.release();
    await after.done;
    await after.turn()!.release();
  });

  it("does not wait for a reply of an instance that crashed (its lease ran out)", async () => {
    await isolated.db
      .insert(llmQueue)
      .values({ messageId: id(), userId: id(), model: "qwen2.5:7b", server: "http://127.0.0.1:1", instanceId: "gone", leaseUntil: sql`now() - interval '1 second'` });
    const next = queueUp(id());
    await next.done;
    await next.turn()!.release();
  });

  it("takes a place again when its place was lost while waiting, instead of waiting forever", async () => {
    const busy = queueUp(id());
    await busy.done;
    const waiter = queueUp(id());
    await until(() => waiter.seen.length > 0, "the reply to wait");
    // A late release (or a lease that ran out) removes the waiting place under the waiter.
    await isolated.db.delete(llmQueue).where(sql`${llmQueue.messageId} = ${waiter.messageId}`);
    await busy.turn()!.release();
    await waiter.done;
    const [row] = await isolated.db.select().from(llmQueue).where(sql`${llmQueue.messageId} = ${waiter.messageId}`);
    expect(row?.server).toBe("http://127.0.0.1:1");
    await waiter.turn()!.release();
  });
});
