import "server-only";

/** A GPT-SoVITS server as the queue sees it. */
export interface SynthesisServer {
  url: string;
  /** Requests it may be sent at once (api_v2 speaks one at a time). */
  capacity: number;
  /** False while it is known to be failing: nothing is sent there. */
  available: boolean;
}

interface Job {
  owner: string;
  /** Servers this job must not go to (one that was unreachable for it). */
  avoid: ReadonlySet<string>;
  start: (server: string) => void;
}

/**
 * Syntheses waiting for the GPT-SoVITS servers (one, or a pool). Each speaks one request at a
 * time, answers nothing else meanwhile, and cannot cancel: a request it has received is
 * synthesised even after its caller gave up. So requests wait here instead of in its socket: a
 * server is sent at most its capacity at once, the least busy available one first; one no longer
 * wanted is dropped before it is sent; and turns go round the waiting owners (users) — each
 * owner's own requests in order — so one long reply doesn't hold everyone else's speech back.
 */
export class SynthesisQueue {
  /** Waiting jobs by owner; the map's order is the order of turns (an owner served goes last). */
  private readonly waiting = new Map<string, Job[]>();
  /** Requests sent and not yet answered, by server. */
  private readonly running = new Map<string, number>();

  constructor(private readonly servers: () => readonly SynthesisServer[]) {}

  /** Requests sent and not yet answered (on `server`, or on all). */
  inFlight(server?: string) {
    if (server !== undefined) return this.running.get(server) ?? 0;
    let count = 0;
    for (const n of this.running.values()) count += n;
    return count;
  }

  /** Requests waiting for their turn. */
  get queued() {
    let count = 0;
    for (const jobs of this.waiting.values()) count += jobs.length;
    return count;
  }

  /**
   * Runs `task` on a server when its turn comes. If `signal` fires before then, the task never
   * runs and this rejects with the signal's reason; once running, the task is left to finish (its
   * server can't be stopped), holding its place in that server's capacity. `avoid` names servers
   * not to use for it.
   */
  run<T>(owner: string, task: (server: string) => Promise<T>, signal?: AbortSignal, avoid: ReadonlySet<string> = new Set()): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        this.remove(job);
        reject(signal!.reason);
      };
      const job: Job = {
        owner,
        avoid,
        start: (server) => {
          signal?.removeEventListener("abort", onAbort);
          this.running.set(server, this.inFlight(server) + 1);
          task(server)
            .then(resolve, reject)
            .finally(() => {
              this.running.set(server, this.inFlight(server) - 1);
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

  /** Sends waiting requests while a server has room (after a server came back, say). */
  pump() {
    for (;;) {
      const free = this.servers().filter((s) => s.available && this.inFlight(s.url) < s.capacity);
      if (free.length === 0) return;
      const next = this.nextJob(free);
      if (!next) return;
      const { job, server } = next;
      const jobs = this.waiting.get(job.owner)!;
      jobs.splice(jobs.indexOf(job), 1);
      // The owner's turn is used: it goes to the back of the line.
      this.waiting.delete(job.owner);
      if (jobs.length > 0) this.waiting.set(job.owner, jobs);
      job.start(server);
    }
  }

  /** The first owner's first job that may go to one of `free` (the least busy), in turn order. */
  private nextJob(free: SynthesisServer[]) {
    for (const jobs of this.waiting.values()) {
      // An owner's requests go in order: only its first one is a candidate.
      const job = jobs[0];
      if (!job) continue;
      const allowed = free.filter((s) => !job.avoid.has(s.url));
      if (allowed.length === 0) continue;
      const server = allowed.reduce((a, b) => (this.inFlight(b.url) / b.capacity < this.inFlight(a.url) / a.capacity ? b : a));
      return { job, server: server.url };
    }
    return null;
  }

  private remove(job: Job) {
    const jobs = this.waiting.get(job.owner);
    if (!jobs) return;
    const at = jobs.indexOf(job);
    if (at >= 0) jobs.splice(at, 1);
    if (jobs.length === 0) this.waiting.delete(job.owner);
  }
}
