// A small pool of worker threads for pure, CPU-heavy functions on untrusted bytes (3D model
// validation and simplification, archive unpacking), so that a hostile file stalls one worker,
// never the event loop every request shares.
//
// - At most POOL_SIZE threads (1 on two cores, 2 from three), whatever the number of uploads:
//   further tasks wait in a queue (at most MAX_QUEUED, then `WorkerPoolBusy`).
// - Each thread has a heap limit (`resourceLimits`) and each task a wall-clock limit: on expiry
//   the thread is terminated (`WorkerTimeout`); a thread over its heap dies (`WorkerOutOfMemory`).
//   The next task gets a fresh thread.
// - The worker is a plain .mjs file found from process.cwd() (the project root, under Vitest and
//   `next start` alike), and runs plain .mjs task modules from the project: nothing here is
//   bundled, so the same files run in tests and in production.
// - Bytes go in by transfer (the caller passes the ArrayBuffers to hand over), and whole-buffer
//   Uint8Arrays in the result come back by transfer.
// - Idle threads do not keep the process alive and end after IDLE_MS.
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Worker, type ResourceLimits } from "node:worker_threads";

/** A task: an exported function of a plain .mjs module, by its path from the project root. */
export interface WorkerTask {
  module: string;
  name: string;
}

export interface RunOptions {
  /** ArrayBuffers handed to the worker (they are detached here). */
  transfer?: ArrayBuffer[];
  /** Wall-clock limit of the run, once a thread has taken it (the wait in the queue is not counted). */
  timeoutMs: number;
}

/** The task function threw an error carrying a `reason` code: an expected refusal. */
export class WorkerRefusal extends Error {
  constructor(
    readonly reason: string,
    readonly params: Record<string, string | number>,
  ) {
    super(reason);
    this.name = "WorkerRefusal";
  }
}
/** The task ran past its time limit; its thread was terminated. */
export class WorkerTimeout extends Error {
  override name = "WorkerTimeout";
}
/** The thread ran out of its heap; it is gone. */
export class WorkerOutOfMemory extends Error {
  override name = "WorkerOutOfMemory";
}
/** Too many tasks are already waiting. */
export class WorkerPoolBusy extends Error {
  override name = "WorkerPoolBusy";
}

export interface PoolOptions {
  size?: number;
  resourceLimits?: ResourceLimits;
  idleMs?: number;
  maxQueued?: number;
}

const POOL_SIZE = Math.max(1, Math.min(2, os.availableParallelism() - 1));
/** Old-generation heap of a worker: a 30 MB model parses in well under this; a million-object JSON does not. */
const HEAP_MB = 512;
const IDLE_MS = 30_000;
const MAX_QUEUED = 64;

interface Job {
  task: WorkerTask;
  args: unknown[];
  options: RunOptions;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker | null;
  job: Job | null;
  jobId: number;
  timer: NodeJS.Timeout | null;
  idleTimer: NodeJS.Timeout | null;
  /** Its last thread is still being terminated: no new one until it is gone. */
  ending: boolean;
}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; refusal?: { reason: string; params: Record<string, string | number> }; message?: string };

export class WorkerPool {
  private readonly slots: Slot[];
  private readonly queue: Job[] = [];
  private readonly root = process.cwd();
  private readonly script = path.join(this.root, "server/avatars/task-worker.mjs");
  private nextId = 1;

  constructor(private readonly options: PoolOptions = {}) {
    this.slots = Array.from({ length: options.size ?? POOL_SIZE }, () => ({ worker: null, job: null, jobId: 0, timer: null, idleTimer: null, ending: false }));
  }

  /** Runs `task(...args)` on a worker thread; rejects with WorkerRefusal, WorkerTimeout, WorkerOutOfMemory, WorkerPoolBusy or an Error. */
  run<T>(task: WorkerTask, args: unknown[], options: RunOptions): Promise<T> {
    if (this.queue.length >= (this.options.maxQueued ?? MAX_QUEUED)) return Promise.reject(new WorkerPoolBusy("too many tasks are waiting"));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ task, args, options, resolve: resolve as (value: unknown) => void, reject });
      this.dispatch();
    });
  }

  /** Threads running now (for tests: never more than the pool's size). */
  get threads(): number {
    return this.slots.filter((slot) => slot.worker !== null).length;
  }

  /** Ends every thread (tasks still running are rejected). */
  async close(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.retire(slot, new Error("the worker pool was closed"))));
  }

  private dispatch() {
    for (const slot of this.slots) {
      if (slot.job || slot.ending || this.queue.length === 0) continue;
      this.start(slot, this.queue.shift()!);
    }
  }

  private start(slot: Slot, job: Job) {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = null;
    let worker: Worker;
    try {
      worker = slot.worker ?? this.spawn(slot);
    } catch (error) {
      job.reject(error instanceof Error ? error : new Error(String(error)));
      return this.dispatch();
    }
    worker.ref();
    slot.job = job;
    slot.jobId = this.nextId++;
    slot.timer = setTimeout(() => {
      void this.retire(slot, new WorkerTimeout(`${job.task.name} ran past ${job.options.timeoutMs} ms`));
    }, job.options.timeoutMs);
    try {
      worker.postMessage({ id: slot.jobId, module: job.task.module, name: job.task.name, args: job.args }, job.options.transfer ?? []);
    } catch (error) {
      // Arguments that cannot be cloned: the thread is fine.
      this.finish(slot);
      job.reject(error instanceof Error ? error : new Error(String(error)));
      this.dispatch();
    }
  }

  private spawn(slot: Slot): Worker {
    if (!existsSync(this.script)) throw new Error(`the worker script is missing (${this.script}); start the app from the project's root`);
    const worker = new Worker(this.script, {
      workerData: { root: this.root },
      resourceLimits: this.options.resourceLimits ?? { maxOldGenerationSizeMb: HEAP_MB, maxYoungGenerationSizeMb: 32 },
    });
    worker.on("message", (reply: Reply) => {
      if (slot.worker !== worker || !slot.job || reply.id !== slot.jobId) return;
      const job = slot.job;
      this.finish(slot);
      if (reply.ok) job.resolve(reply.value);
      else if (reply.refusal) job.reject(new WorkerRefusal(reply.refusal.reason, reply.refusal.params));
      else job.reject(new Error(`${job.task.name} failed in its worker: ${reply.message ?? "unknown error"}`));
      this.dispatch();
    });
    worker.on("error", (error: Error & { code?: string }) => {
      if (slot.worker !== worker) return;
      const lost = error.code === "ERR_WORKER_OUT_OF_MEMORY" ? new WorkerOutOfMemory(error.message) : error;
      void this.retire(slot, lost);
    });
    worker.on("exit", () => {
      if (slot.worker === worker) void this.retire(slot, new Error("the worker thread exited"));
    });
    slot.worker = worker;
    return worker;
  }

  /** The slot's job is done; its thread waits for the next (without keeping the process alive). */
  private finish(slot: Slot) {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.job = null;
    const worker = slot.worker;
    if (!worker) return;
    worker.unref();
    slot.idleTimer = setTimeout(() => {
      if (slot.worker === worker && !slot.job) void this.retire(slot, null);
    }, this.options.idleMs ?? IDLE_MS);
    slot.idleTimer.unref();
  }

  /** Ends the slot's thread; its job (if any) is rejected with `error`; the queue moves on. */
  private async retire(slot: Slot, error: Error | null) {
    const worker = slot.worker;
    const job = slot.job;
    if (slot.timer) clearTimeout(slot.timer);
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.worker = null;
    slot.job = null;
    slot.timer = null;
    slot.idleTimer = null;
    if (job) job.reject(error ?? new Error("the worker thread ended"));
    if (worker) {
      slot.ending = true;
      try {
        await worker.terminate();
      } finally {
        slot.ending = false;
      }
    }
    this.dispatch();
  }
}

const globalPool = globalThis as typeof globalThis & { __avatarForgeWorkerPool?: WorkerPool };

/** The app's one pool (kept on globalThis so that reloaded modules in development share it). */
export function workerPool(): WorkerPool {
  return (globalPool.__avatarForgeWorkerPool ??= new WorkerPool());
}

/**
 * Runs a pure function of a plain .mjs module on the app's worker pool. Pass Uint8Arrays you
 * will not use again through `options.transfer` (their ArrayBuffers), or copy them first.
 */
export function runInWorker<T>(task: WorkerTask, args: unknown[], options: RunOptions): Promise<T> {
  return workerPool().run<T>(task, args, options);
}
