import { describe, expect, it } from "vitest";
import { LiveReply, parsePosition, positionId, type PositionedEvent } from "./live-reply";

async function collect(iterable: AsyncIterable<PositionedEvent>) {
  const events: PositionedEvent[] = [];
  for await (const event of iterable) events.push(event);
  return events;
}

const done = {
  type: "done",
  status: "complete",
  content: "안녕하세요",
  stats: { promptTokens: 1, completionTokens: 2, timeToFirstTokenMs: 3, durationMs: 4, tokensPerSecond: 5 },
  finishReason: "stop",
} as const;

describe("LiveReply", () => {
  it("gives a late reader everything so far in one delta, then the rest live", async () => {
    const reply = new LiveReply("m", "s");
    reply.append("안녕");
    const reading = collect(reply.follow(0));
    reply.append("하세요");
    reply.finish(done);
    const events = await reading;
    expect(events.filter((e) => e.event.type === "delta").map((e) => (e.event as { text: string }).text).join("")).toBe("안녕하세요");
    expect(events.at(-1)).toEqual({ offset: 5, id: "5.0.0.1", event: done });
  });

  it("resumes from an offset without repeating text", async () => {
    const reply = new LiveReply("m", "s");
    reply.append("안녕하세요");
    reply.finish(done);
    expect(await collect(reply.follow(2))).toEqual([
      { offset: 5, id: "5.0.0.0", event: { type: "delta", text: "하세요" } },
      { offset: 5, id: "5.0.0.1", event: done },
    ]);
  });

  it("streams a thinking model's thoughts as their own events, apart from the reply's text", async () => {
    const reply = new LiveReply("m", "s");
    reply.appendThinking("인사를 ");
    const reading = collect(reply.follow(0));
    reply.appendThinking("해야겠다.");
    reply.append("안녕하세요");
    reply.finish(done);
    const events = (await reading).map((e) => e.event);
    const thinking = events.filter((e) => e.type === "thinking").map((e) => e.text).join("");
    expect(thinking).toBe("인사를 해야겠다.");
    expect(events.filter((e) => e.type === "delta").map((e) => e.text).join("")).toBe("안녕하세요");
    expect(events.findIndex((e) => e.type === "thinking")).toBeLessThan(events.findIndex((e) => e.type === "delta"));
    expect(reply.text).toBe("안녕하세요");
  });

  it("gives a reader from the start all the thinking so far, and one resuming mid-reply none again", async () => {
    const reply = new LiveReply("m", "s");
    reply.appendThinking("생각 중");
    reply.append("안녕하세요");
    reply.finish(done);
    expect((await collect(reply.follow(0))).map((e) => e.event.type)).toEqual(["thinking", "delta", "done"]);
    expect((await collect(reply.follow(2))).map((e) => e.event.type)).toEqual(["delta", "done"]);
  });

  it("stops following when the reader goes away", async () => {
    const reply = new LiveReply("m", "s");
    const controller = new AbortController();
    const reading = collect(reply.follow(0, controller.signal));
    reply.append("a");
    await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    const events = await reading;
    expect(events).toEqual([{ offset: 1, id: "1.0.0.0", event: { type: "delta", text: "a" } }]);
  });

  it("gives every event its own id, and a reader resuming from any id gets each later clip and the final event exactly once", async () => {
    const reply = new LiveReply("m", "s");
    reply.startSpeaking();
    reply.setStage("queued", 2);
    reply.setStage("writing");
    reply.append("첫 문장. ");
    reply.speak({ type: "audio", index: 0, text: "첫 문장.", url: "/api/audio/a" });
    reply.append("둘째 문장.");
    reply.finish(done);
    // Speech goes on after the text: the clip arrives after the final event.
    reply.speak({ type: "audio", index: 1, text: "둘째 문장.", url: "/api/audio/b" });
    reply.stopSpeaking();
    const all = await collect(reply.follow(0));
    const ids = all.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    const durable = (events: PositionedEvent[]) => events.filter((e) => e.event.type === "audio" || e.event.type === "done").map((e) => e.event);
    for (const [i, from] of all.entries()) {
      const rest = await collect(reply.follow(parsePosition(from.id)));
      expect(durable(rest), `resuming after event ${i} (${from.id})`).toEqual(durable(all.slice(i + 1)));
      expect(rest.filter((e) => e.event.type === "delta").map((e) => (e.event as { text: string }).text).join("")).toBe(reply.text.slice(parsePosition(from.id).text));
    }
    expect(positionId(parsePosition("12.3.1.1"))).toBe("12.3.1.1");
  });

  it("tells readers the stage as it changes, a reader joining late only the current one, and none once it is done", async () => {
    const reply = new LiveReply("m", "s");
    const reading = collect(reply.follow(0));
    reply.setStage("queued", 1);
    await new Promise((r) => setTimeout(r, 1));
    reply.setStage("queued", 0);
    await new Promise((r) => setTimeout(r, 1));
    reply.setStage("loading");
    await new Promise((r) => setTimeout(r, 1));
    const joining = reply.follow(0);
    expect((await joining.next()).value?.event).toEqual({ type: "stage", stage: "loading" });
    await joining.return(undefined);
    reply.append("안녕");
    reply.finish(done);
    const stages = (await reading).filter((e) => e.event.type === "stage").map((e) => e.event);
    expect(stages).toEqual([
      { type: "stage", stage: "queued", ahead: 1 },
      { type: "stage", stage: "queued", ahead: 0 },
      { type: "stage", stage: "loading" },
    ]);
    const late = (await collect(reply.follow(0))).filter((e) => e.event.type === "stage");
    expect(late).toEqual([]);
  });

  it("ignores text after the end", async () => {
    const reply = new LiveReply("m", "s");
    reply.finish(done);
    reply.append("late");
    expect(reply.text).toBe("");
  });
});
