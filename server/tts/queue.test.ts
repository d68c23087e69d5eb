import { describe, expect, it } from "vitest";
import { SynthesisQueue } from "./queue";

/** A fake synthesis per name: the test decides when each one finishes. */
function fakeServer(concurrency = 1) {
  const queue = new SynthesisQueue(() => concurrency);
  const started: string[] = [];
  const finish = new Map<string, () => void>();
  const submit = (owner: string, name: string, signal?: AbortSignal) =>
    queue.run(
      owner,
      () =>
        new Promise<string>((resolve) => {
          started.push(name);
          finish.set(name, () => resolve(name));
        }),
      signal,
    );
  /** Finishes `name` and lets the queue send the next request (it does so on the next turn). */
  const done = async (name: string) => {
    finish.get(name)!();
    for (let turn = 0; turn < 2; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  };
  return { queue, started, submit, done };
}

describe("the synthesis queue", () => {
  it("sends one request at a time by default; the rest wait in the app", async () => {
    const { queue, started, submit, done } = fakeServer();
    const first = submit("ann", "a1");
    const second = submit("ann", "a2");
    expect(started).toEqual(["a1"]);
    expect([queue.inFlight, queue.queued]).toEqual([1, 1]);
    await done("a1");
    expect(await first).toBe("a1");
    expect(started).toEqual(["a1", "a2"]);
    await done("a2");
    expect(await second).toBe("a2");
    expect([queue.inFlight, queue.queued]).toEqual([0, 0]);
  });

  it("sends as many at once as its concurrency allows", async () => {
    const { queue, started, submit, done } = fakeServer(2);
    for (const name of ["a1", "a2", "a3"]) void submit("ann", name);
    expect(started).toEqual(["a1", "a2"]);
    expect(queue.inFlight).toBe(2);
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
    expect(queue.inFlight).toBe(1);
    expect(started).toEqual(["a1"]);
    await done("a1");
    expect(await sent).toBe("a1");
    expect(started).toEqual(["a1", "b1"]);
  });

  it("goes on after a failed request", async () => {
    const queue = new SynthesisQueue(() => 1);
    const failed = queue.run("ann", () => Promise.reject(new Error("inference failed")));
    const next = queue.run("ann", () => Promise.resolve("spoken"));
    await expect(failed).rejects.toThrow("inference failed");
    expect(await next).toBe("spoken");
  });
});
