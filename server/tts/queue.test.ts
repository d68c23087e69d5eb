import { describe, expect, it } from "vitest";
import { SynthesisQueue, type SynthesisServer } from "./queue";

/** A fake synthesis per name: the test decides when each one finishes. */
function fakeServer(concurrency = 1, servers: SynthesisServer[] = [{ url: "tts-1", capacity: concurrency, available: true }]) {
  const queue = new SynthesisQueue(() => servers);
  const started: string[] = [];
  /** Where each request went. */
  const sentTo = new Map<string, string>();
  const finish = new Map<string, () => void>();
  const submit = (owner: string, name: string, signal?: AbortSignal, avoid?: ReadonlySet<string>) =>
    queue.run(
      owner,
      (server) =>
        new Promise<string>((resolve) => {
          started.push(name);
          sentTo.set(name, server);
          finish.set(name, () => resolve(name));
        }),
      signal,
      avoid,
    );
  /** Finishes `name` and lets the queue send the next request (it does so on the next turn). */
  const done = async (name: string) => {
    finish.get(name)!();
    for (let turn = 0; turn < 2; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  };
  return { queue, started, sentTo, submit, done, servers };
}

describe("the synthesis queue", () => {
  it("sends one request at a time by default; the rest wait in the app", async () => {
    const { queue, started, submit, done } = fakeServer();
    const first = submit("ann", "a1");
    const second = submit("ann", "a2");
    expect(started).toEqual(["a1"]);
    expect([queue.inFlight(), queue.queued]).toEqual([1, 1]);
    await done("a1");
    expect(await first).toBe("a1");
    expect(started).toEqual(["a1", "a2"]);
    await done("a2");
    expect(await second).toBe("a2");
    expect([queue.inFlight(), queue.queued]).toEqual([0, 0]);
  });

  it("sends as many at once as its concurrency allows", async () => {
    const { queue, started, submit, done } = fakeServer(2);
    for (const name of ["a1", "a2", "a3"]) void submit("ann", name);
    expect(started).toEqual(["a1", "a2"]);
    expect(queue.inFlight()).toBe(2);
    await done("a2");
    expect(started).toEqual(["a1", "a2", "a3"]);
  });

  it("takes turns between owners instead of first come first served, each owner's requests in order", async () => {
    const { started, submit, done } = fakeServer();
    for (const name of ["a1", "a2", "a3"]) void submit("ann", name);
    for (const name of ["b1", "b2"]) void submit("bob", name);
    void submit("cho", "c1");
    for (const name of ["a1", "a2", "b1", "c1", "a3"]) await done(name);
    expect(started).toEqual(["a1", "a2", "b1", "c1", "a3", "b2"]);
  });

  it("drops a request whose signal fires while it waits: it is never sent", async () => {
    const { queue, started, submit, done } = fakeServer();
    void submit("ann", "a1");
    const stop = new AbortController();
    const dropped = submit("bob", "b1", stop.signal);
    const kept = submit("bob", "b2");
    stop.abort(new Error("the reply was stopped"));
    await expect(dropped).rejects.toThrow("the reply was stopped");
    expect(queue.queued).toBe(1);
    await done("a1");
    await done("b2");
    expect(await kept).toBe("b2");
    expect(started).toEqual(["a1", "b2"]);
    await expect(submit("bob", "b3", stop.signal)).rejects.toThrow("the reply was stopped");
    expect(started).not.toContain("b3");
  });

  it("lets a request already sent finish (the server can't be stopped), holding its place", async () => {
    const { queue, started, submit, done } = fakeServer();
    const stop = new AbortController();
    const sent = submit("ann", "a1", stop.signal);
    void submit("bob", "b1");
    stop.abort();
    expect(queue.inFlight()).toBe(1);
    expect(started).toEqual(["a1"]);
    await done("a1");
    expect(await sent).toBe("a1");
    expect(started).toEqual(["a1", "b1"]);
  });

  it("goes on after a failed request", async () => {
    const queue = new SynthesisQueue(() => [{ url: "tts-1", capacity: 1, available: true }]);
    const failed = queue.run("ann", () => Promise.reject(new Error("inference failed")));
    const next = queue.run("ann", () => Promise.resolve("spoken"));
    await expect(failed).rejects.toThrow("inference failed");
    expect(await next).toBe("spoken");
  });

  it("spreads requests over a pool, each server within its capacity, the least busy first", async () => {
    const servers = [
      { url: "tts-1", capacity: 1, available: true },
      { url: "tts-2", capacity: 2, available: true },
    ];
    const { queue, started, sentTo, submit, done } = fakeServer(1, servers);
    for (const name of ["a1", "a2", "a3", "a4"]) void submit("ann", name);
    expect(started).toEqual(["a1", "a2", "a3"]);
    expect([queue.inFlight("tts-1"), queue.inFlight("tts-2")]).toEqual([1, 2]);
    await done("a1");
    expect(sentTo.get("a4")).toBe("tts-1");
  });

  it("sends nothing to a server marked failing, and resumes it when pumped after it recovers", async () => {
    const servers = [
      { url: "tts-1", capacity: 1, available: false },
      { url: "tts-2", capacity: 1, available: true },
    ];
    const { queue, sentTo, submit, done } = fakeServer(1, servers);
    void submit("ann", "a1");
    void submit("bob", "b1");
    expect(sentTo.get("a1")).toBe("tts-2");
    expect(queue.queued).toBe(1);
    servers[0]!.available = true;
    queue.pump();
    expect(sentTo.get("b1")).toBe("tts-1");
    await done("a1");
  });

  it("keeps a request off the servers it must avoid, letting others' requests pass it", async () => {
    const servers = [
      { url: "tts-1", capacity: 1, available: true },
      { url: "tts-2", capacity: 1, available: true },
    ];
    const { sentTo, submit, done } = fakeServer(1, servers);
    void submit("ann", "a1", undefined, new Set(["tts-1"])); // goes to tts-2
    void submit("ann", "a2", undefined, new Set(["tts-1"])); // waits for tts-2, the one server it may use
    void submit("bob", "b1");
    expect(sentTo.get("a1")).toBe("tts-2");
    expect(sentTo.get("b1")).toBe("tts-1");
    expect(sentTo.has("a2")).toBe(false);
    await done("a1");
    expect(sentTo.get("a2")).toBe("tts-2");
  });
});
