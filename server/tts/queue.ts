import "server-only";

interface Job {
  owner: string;
  start: () => void;
}

/**
 * Syntheses waiting for one GPT-SoVITS server. It speaks one request at a time, answers nothing
 * else meanwhile, and cannot cancel: a request it has received is synthesised even after its
 * caller gave up. So requests wait here instead of in its socket: at most `concurrency` are sent
 * at once, one no longer wanted is dropped before it is sent, and turns go round the waiting
 * owners (users) — each owner's own requests in order — so one long reply doesn't hold everyone
 * else's speech back.
 */
export class SynthesisQueue {
  /** Waiting jobs by owner; the map's order is the order of turns (an owner served goes last). */
  private readonly waiting = new Map<string, Job[]>();
  private running = 0;

  constructor(private readonly concurrency: () => number) {}

  /** Requests sent and not yet answered. */
  get inFlight() {
    return this.running;
  }

  /** Requests waiting for their turn. */
  get queued() {
    let count = 0;
    for (const jobs of this.waiting.values()) count += jobs.length;
    return count;
  }

  /**
   * Runs `task` when its turn comes. If `signal` fires before then, the task never runs and this
   * rejects with the signal's reason; once running, the task is left to finish (its server can't
   * be stopped), holding its place in the concurrency.
   */
  run<T>(owner: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        this.remove(job);
        reject(signal!.reason);
      };
      const job: Job = {
        owner,
        start: () => {
          signal?.removeEventListener("abort", onAbort);
          this.running += 1;
          task()
            .then(resolve, reject)
            .finally(() => {
              this.running -= 1;
              // On the next turn of the event loop: callers reacting to this result (a failed
              // sentence ends the rest of its reply) drop their other requests before one is sent.
              setImmediate(() => this.pump());
            });
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const jobs = this.waiting.get(owner);
      if (jobs) jobs.push(job);
      else this.waiting.set(owner, [job]);
      this.pump();
    });
  }

  private remove(job: Job) {
    const jobs = this.waiting.get(job.owner);
    if (!jobs) return;
    const at = jobs.indexOf(job);
    if (at >= 0) jobs.splice(at, 1);
    if (jobs.length === 0) this.waiting.delete(job.owner);
  }

  private pump() {
    while (this.running < this.concurrency()) {
      const next = this.waiting.entries().next();
      if (next.done) return;
      const [owner, jobs] = next.value;
      const job = jobs.shift()!;
      // The owner's turn is used: it goes to the back of the line.
      this.waiting.delete(owner);
      if (jobs.length > 0) this.waiting.set(owner, jobs);
      job.start();
    }
  }
}
