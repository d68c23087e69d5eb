import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeOllama, type FakeOllama } from "@/e2e/fakes/ollama";
import { isolatedDatabase } from "@/e2e/support/isolated-db";
import { users } from "@/server/db/schema";
import { SessionModel } from "@/server/sessions/model";
import type { PositionedEvent, ReplyEvent } from "./live-reply";
import { hasLiveSlot } from "./slots";
import { ChatService } from "./service";

// Against the fake's real default: one reply at a time per model (OLLAMA_NUM_PARALLEL=1).
let ollama: FakeOllama;
let isolated: Awaited<ReturnType<typeof isolatedDatabase>>;

beforeAll(async () => {
  ollama = await startFakeOllama({ port: 0, tokenDelayMs: 20 });
  process.env.OLLAMA_HOST = ollama.url;
  process.env.OLLAMA_NUM_PARALLEL = "1";
  isolated = await isolatedDatabase();
}, 60_000);
afterAll(async () => {
  await ollama.close();
  await isolated?.drop();
});
beforeEach(() => ollama.reset());

async function newChat(name: string) {
  const [user] = await isolated.db.insert(users).values({ email: `${crypto.randomUUID()}@example.com`, name }).returning();
  const session = await new SessionModel(isolated.db, user!.id).create({ characterId: "preset-hermione", settings: { maxTokens: 40 } });
  return { chat: new ChatService(isolated.db, user!), session };
}

/** Reads a reply's events as they come, so a test can wait for one without a clock. */
function reader(events: AsyncIterable<PositionedEvent>) {
  const seen: ReplyEvent[] = [];
  let waiters: (() => void)[] = [];
  const done = (async () => {
    for await (const { event } of events) {
      seen.push(event);
      for (const wake of waiters) wake();
      waiters = [];
    }
  })();
  const until = async (check: (events: ReplyEvent[]) => boolean) => {
    while (!check(seen)) await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), done]);
  };
  return { seen, done, until };
}

describe("replies wait their turn in the app", () => {
  it("gives the second of two users its place in line, then its reply", async () => {
    const first = await newChat("하나");
    const second = await newChat("둘");
    const a = await first.chat.send({ sessionId: first.session.id, clientId: crypto.randomUUID(), text: "길게 이야기해 줘" });
    const aEvents = reader(first.chat.follow(a.reply.id, 0));
    await aEvents.until((events) => events.some((e) => e.type === "delta"));

    const b = await second.chat.send({ sessionId: second.session.id, clientId: crypto.randomUUID(), text: "나도 안녕" });
    const bEvents = reader(second.chat.follow(b.reply.id, 0));
    await bEvents.until((events) => events.some((e) => e.type === "stage" && e.stage === "queued"));
    // While it waits, nothing of it reached the model: the queue is the app's, not Ollama's.
    expect(bEvents.seen.some((e) => e.type === "delta")).toBe(false);
    expect(ollama.stats.queuedChatRequests).toBe(0);

    await aEvents.done;
    await bEvents.done;
    const stages = bEvents.seen.filter((e) => e.type === "stage").map((e) => (e as { stage: string }).stage);
    expect(stages[0]).toBe("queued");
    expect(stages).toContain("loading");
    expect(stages.indexOf("writing")).toBeGreaterThan(stages.indexOf("queued"));
    expect(bEvents.seen.at(-1)).toMatchObject({ type: "done", status: "complete" });
  });

  it("lets Stop take a queued reply out of line at once, freeing its slot, before it ever reaches the model", async () => {
    const first = await newChat("하나");
    const second = await newChat("둘");
    const a = await first.chat.send({ sessionId: first.session.id, clientId: crypto.randomUUID(), text: "길게 이야기해 줘" });
    const aEvents = reader(first.chat.follow(a.reply.id, 0));
    await aEvents.until((events) => events.some((e) => e.type === "delta"));
    const requestsBefore = ollama.requests.length;

    const b = await second.chat.send({ sessionId: second.session.id, clientId: crypto.randomUUID(), text: "기다릴게" });
    const bEvents = reader(second.chat.follow(b.reply.id, 0));
    await bEvents.until((events) => events.some((e) => e.type === "stage" && e.stage === "queued"));
    await second.chat.stop(b.reply.id);
    await bEvents.done;
    expect(bEvents.seen.at(-1)).toMatchObject({ type: "done", status: "stopped", content: "" });
    expect(await hasLiveSlot(isolated.db, b.reply.id)).toBe(false);
    // The first reply is still being written: the stopped one never got to the model.
    expect(aEvents.seen.some((e) => e.type === "done")).toBe(false);
    expect(ollama.requests.length).toBe(requestsBefore);
    await aEvents.done;
  });

  it("lets Stop end a reply whose model is still loading, closing the request before any header", async () => {
    ollama.setBehaviour({ loadDelayMs: 5_000 });
    const { chat, session } = await newChat("셋");
    // Another model than the loaded one: this reply pays a (long) load before its first token.
    await new SessionModel(isolated.db, (await chat.chatOf(session.id)).session.userId).update(session.id, { model: "llama3.2:3b" });
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "안녕" });
    const events = reader(chat.follow(reply.id, 0));
    await events.until((seen) => seen.some((e) => e.type === "stage" && e.stage === "loading"));
    await chat.stop(reply.id);
    await events.done;
    expect(events.seen.at(-1)).toMatchObject({ type: "done", status: "stopped" });
    expect(await hasLiveSlot(isolated.db, reply.id)).toBe(false);
  });
});
