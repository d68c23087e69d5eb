import { describe, expect, it } from "vitest";
import { LiveReply, type PositionedEvent } from "./live-reply";

async function collect(iterable: AsyncIterable<PositionedEvent>) {
  const events: PositionedEvent[] = [];
  for await (const event of iterable) events.push(event);
  return events;
}

const done = { type: "done", status: "complete", content: "안녕하세요", stats: { promptTokens: 1, completionTokens: 2, timeToFirstTokenMs: 3, durationMs: 4, tokensPerSecond: 5 } } as const;

describe("LiveReply", () => {
  it("gives a late reader everything so far in one delta, then the rest live", async () => {
    const reply = new LiveReply("m", "s");
    reply.append("안녕");
    const reading = collect(reply.follow(0));
    reply.append("하세요");
    reply.finish(done);
    const events = await reading;
    expect(events.filter((e) => e.event.type === "delta").map((e) => (e.event as { text: string }).text).join("")).toBe("안녕하세요");
    expect(events.at(-1)).toEqual({ offset: 5, event: done });
  });

  it("resumes from an offset without repeating text", async () => {
    const reply = new LiveReply("m", "s");
    reply.append("안녕하세요");
    reply.finish(done);
    expect(await collect(reply.follow(2))).toEqual([
      { offset: 5, event: { type: "delta", text: "하세요" } },
      { offset: 5, event: done },
    ]);
  });

  it("stops following when the reader goes away", async () => {
    const reply = new LiveReply("m", "s");
    const controller = new AbortController();
    const reading = collect(reply.follow(0, controller.signal));
    reply.append("a");
    await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    const events = await reading;
    expect(events).toEqual([{ offset: 1, event: { type: "delta", text: "a" } }]);
  });

  it("ignores text after the end", async () => {
    const reply = new LiveReply("m", "s");
    reply.finish(done);
    reply.append("late");
    expect(reply.text).toBe("");
  });
});
