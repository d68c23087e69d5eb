import { afterEach, describe, expect, it } from "vitest";
import { WorkerOutOfMemory, WorkerPool, WorkerPoolBusy, WorkerRefusal, WorkerTimeout } from "./worker-pool";

const FIXTURE = "server/avatars/worker-pool.fixture.mjs";
const task = (name: string) => ({ module: FIXTURE, name });

let pool: WorkerPool;
afterEach(async () => {
  await pool?.close();
});

describe("WorkerPool", () => {
  it("runs a function on another thread; bytes go in and come back by transfer", async () => {
    pool = new WorkerPool({ size: 1 });
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const result = await pool.run<{ bytes: Uint8Array; threadId: number; length: number }>(task("reverse"), [bytes], { transfer: [bytes.buffer], timeoutMs: 10_000 });
    expect(result.threadId).not.toBe(0);
    expect(result.length).toBe(4);
    expect([...result.bytes]).toEqual([4, 3, 2, 1]);
    // Handed over, not copied: the caller's buffer is detached.
    expect(bytes.byteLength).toBe(0);
  });

  it("never runs more threads than its size: many tasks wait in the queue", async () => {
    pool = new WorkerPool({ size: 2 });
    const running: number[] = [];
    const tasks = Array.from({ length: 8 }, () =>
      pool.run<number>(task("sleep"), [20], { timeoutMs: 10_000 }).then((threadId) => {
        running.push(pool.threads);
        return threadId;
      }),
    );
    const threadIds = await Promise.all(tasks);
    expect(new Set(threadIds).size).toBeLessThanOrEqual(2);
    expect(Math.max(...running)).toBeLessThanOrEqual(2);
  });

  it("refuses tasks past its queue's length", async () => {
    pool = new WorkerPool({ size: 1, maxQueued: 2 });
    const first = pool.run(task("sleep"), [50], { timeoutMs: 10_000 });
    const queued = [pool.run(task("sleep"), [1], { timeoutMs: 10_000 }), pool.run(task("sleep"), [1], { timeoutMs: 10_000 })];
    await expect(pool.run(task("sleep"), [1], { timeoutMs: 10_000 })).rejects.toBeInstanceOf(WorkerPoolBusy);
    await Promise.all([first, ...queued]);
  });

  it("terminates a task past its time limit, and the next task gets a fresh thread", async () => {
    pool = new WorkerPool({ size: 1 });
    const before = await pool.run<number>(task("sleep"), [0], { timeoutMs: 10_000 });
    await expect(pool.run(task("spin"), [], { timeoutMs: 200 })).rejects.toBeInstanceOf(WorkerTimeout);
    const after = await pool.run<number>(task("sleep"), [0], { timeoutMs: 10_000 });
    expect(after).not.toBe(before);
  });

  it("ends a thread over its heap limit with WorkerOutOfMemory", async () => {
    pool = new WorkerPool({ size: 1, resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 } });
    await expect(pool.run(task("hog"), [], { timeoutMs: 60_000 })).rejects.toBeInstanceOf(WorkerOutOfMemory);
    await expect(pool.run<number>(task("sleep"), [0], { timeoutMs: 10_000 })).resolves.toBeTypeOf("number");
  });

  it("passes a refusal's reason and params; any other error is a plain Error", async () => {
    pool = new WorkerPool({ size: 1 });
    const refusal = await pool.run(task("refuse"), ["card_charx_bomb", 3], { timeoutMs: 10_000 }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(WorkerRefusal);
    expect(refusal).toMatchObject({ reason: "card_charx_bomb", params: { max: 3 } });
    const crash = await pool.run(task("crash"), [], { timeoutMs: 10_000 }).catch((error: unknown) => error);
    expect(crash).toBeInstanceOf(Error);
    expect(crash).not.toBeInstanceOf(WorkerRefusal);
    await expect(pool.run(task("nothing"), [], { timeoutMs: 10_000 })).rejects.toThrow(/no function nothing/);
    await expect(pool.run({ module: "../../etc/passwd.mjs", name: "x" }, [], { timeoutMs: 10_000 })).rejects.toThrow(/not a task module/);
  });
});
