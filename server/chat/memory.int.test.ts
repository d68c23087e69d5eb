import { and, eq, lte } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeOllama, type FakeOllama } from "@/e2e/fakes/ollama";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import { chatSessions, messages } from "@/server/db/schema";
import { SessionModel } from "@/server/sessions/model";
import { budgetFor, estimateMessages } from "./budget";
import type { PositionedEvent } from "./live-reply";
import { SUMMARY_BACKOFF_MS } from "./memory";
import { ChatService } from "./service";

const WINDOW = 2048;
let ollama: FakeOllama;
const { db, sql } = testDatabase();

beforeAll(async () => {
  ollama = await startFakeOllama({ port: 0, tokenDelayMs: 1 });
  process.env.OLLAMA_HOST = ollama.url;
  process.env.OLLAMA_NUM_CTX = String(WINDOW);
});
afterAll(async () => {
  await ollama.close();
  await sql.end();
});
beforeEach(() => ollama.reset());

async function readAll(events: AsyncIterable<PositionedEvent>) {
  const seen: PositionedEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

async function until(check: () => boolean | Promise<boolean>, what: string) {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

type ChatRequest = { stream: boolean; messages: { role: string; content: string }[]; options: { num_ctx?: number }; keep_alive?: unknown; think?: unknown };

const requests = () => ollama.requests as ChatRequest[];
const isSummary = (r: ChatRequest) => r.stream === false && (r.messages[0]?.content.includes("memory of a long role-play") ?? false);
/** Summary calls (of `user`'s chat: the transcript names the speakers). */
const summaryRequests = (user = "") => requests().filter((r) => isSummary(r) && r.messages[1]!.content.includes(`${user}:`));
const replyRequests = () => requests().filter((r) => r.stream);

/** A chat far over the window: the greeting, then 40 earlier exchanges. */
async function longChat(name: string) {
  const user = await createUser(db, name);
  const session = await new SessionModel(db, user.id).create({ characterId: "preset-seoyun" });
  for (let i = 0; i < 40; i++) {
    await db.insert(messages).values([
      { sessionId: session.id, role: "user", content: `${i}번째 이야기: 오늘 회사에서 있었던 일을 자세히 말해 줄게요. 점심에는 김치찌개를 먹었어요.` },
      { sessionId: session.id, role: "assistant", content: `*라테를 건네며* ${i}번째 이야기 잘 들었어요. 김치찌개 맛있었겠다! 다음엔 저도 데려가요.` },
    ]);
  }
  const chat = new ChatService(db, user);
  const say = async (text: string) => {
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text });
    return readAll(chat.follow(reply.id, 0));
  };
  const memory = async () => (await db.select().from(chatSessions).where(eq(chatSessions.id, session.id)))[0]!;
  return { session, chat, say, memory };
}

describe("long chats", () => {
  it("answers at once with the recent turns that fit, then folds older turns into the summary after the reply", async () => {
    const { say, memory } = await longChat("민지");
    const events = await say("오늘도 고마워요");
    expect(events.at(-1)?.event.type).toBe("done");
    expect(events.some((e) => e.event.type === "notice")).toBe(false);

    // The reply went out first, without a summary: the oldest turns that don't fit are left out.
    const prompt = replyRequests()[0]!;
    expect(requests().indexOf(prompt)).toBe(0);
    expect(prompt.options.num_ctx).toBe(WINDOW);
    expect(prompt.messages[0]?.content).toContain("연남동에서 작은 카페");
    expect(prompt.messages.filter((m) => m.role === "system")).toHaveLength(1);
    expect(prompt.messages.at(-1)?.content).toBe("오늘도 고마워요");
    expect(prompt.messages.some((m) => m.content.startsWith("0번째 이야기:"))).toBe(false);
    expect(estimateMessages(prompt.messages)).toBeLessThanOrEqual(budgetFor(WINDOW, 1024).prompt);

    // Then, in the background, the oldest turns are folded with the same model options.
    await until(async () => (await memory()).summaryThroughSeq !== null, "the summary");
    const summary = summaryRequests("민지")[0]!;
    expect(requests().indexOf(summary)).toBeGreaterThan(requests().indexOf(prompt));
    expect(summary.messages[1]?.content).toContain("0번째 이야기");
    expect(summary).toMatchObject({ options: { num_ctx: WINDOW }, keep_alive: prompt.keep_alive, think: false });
    const saved = await memory();
    // One summary call reads only what fits in the window beside the summary it writes.
    expect(estimateMessages(summary.messages, saved.tokenScale!) + 512).toBeLessThanOrEqual(WINDOW);
    expect(saved.summary).toContain("이야기를 나눴다");
    expect(saved).toMatchObject({ summaryFailures: 0, summaryRetryAt: null });
    // The real prompt size reported by Ollama tunes the next estimate.
    expect(saved.tokenScale).toBeGreaterThan(0);

    // The next reply starts from the summary, and tells how many older turns it holds now.
    const nextEvents = await say("내일 또 올게요");
    const folded = await db.select().from(messages).where(and(eq(messages.sessionId, saved.id), eq(messages.active, true), lte(messages.seq, saved.summaryThroughSeq!)));
    expect(nextEvents.find((e) => e.event.type !== "stage")?.event).toEqual({ type: "notice", kind: "memory_summarized", turns: folded.length });
    const next = replyRequests().at(-1)!;
    expect(next.messages[1]?.role).toBe("system");
    expect(next.messages[1]?.content).toMatch(/^Summary of the earlier conversation:\n.+이야기를 나눴다/);
    expect(next.messages.some((m) => m.content.startsWith("0번째 이야기:"))).toBe(false);
  });

  it("backs off after a failed summary: no summary call on the next replies until the wait is over, then folds and resets", async () => {
    ollama.setBehaviour({ tokenDelayMs: 10 });
    const { say, memory, session } = await longChat("지우");
    const first = say("첫 번째");
    // The reply's request has been taken: the fault hits the next call, the summary after it.
    await until(() => replyRequests().length === 1, "the reply's request");
    ollama.setBehaviour({ fault: "http500", faultCount: 1 });
    await first;
    await until(async () => (await memory()).summaryFailures === 1, "the failure to be counted");
    const failed = await memory();
    const wait = failed.summaryRetryAt!.getTime() - Date.now();
    expect(wait).toBeGreaterThan(SUMMARY_BACKOFF_MS[0] - 10_000);
    expect(wait).toBeLessThanOrEqual(SUMMARY_BACKOFF_MS[0]);
    const attempts = summaryRequests("지우").length;
    expect(attempts).toBe(1);

    // Two more replies within the back-off: a summary after the first would reach Ollama while
    // the second is written.
    await say("두 번째");
    await say("세 번째");
    expect(summaryRequests("지우")).toHaveLength(attempts);
    expect(replyRequests()).toHaveLength(3);

    // Once the wait is over, the next reply folds again, and a success resets the count.
    await db.update(chatSessions).set({ summaryRetryAt: new Date(Date.now() - 1000) }).where(eq(chatSessions.id, session.id));
    await say("네 번째");
    await until(async () => (await memory()).summaryFailures === 0, "the count to be reset");
    expect(summaryRequests("지우")).toHaveLength(attempts + 1);
    expect(await memory()).toMatchObject({ summaryRetryAt: null, summary: expect.stringContaining("이야기를 나눴다") });
  });

  it("sends a short chat whole, without summarising", async () => {
    const user = await createUser(db);
    const session = await new SessionModel(db, user.id).create({ characterId: "preset-seoyun" });
    const chat = new ChatService(db, user);
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "안녕하세요" });
    await readAll(chat.follow(reply.id, 0));
    const prompt = replyRequests().at(-1)!;
    expect(prompt.messages.map((m) => m.role)).toEqual(["system", "assistant", "user"]);
    // The title of the first exchange is the only call after it.
    await until(async () => (await new SessionModel(db, user.id).get(session.id)).session.title !== null, "a title");
    expect(summaryRequests()).toHaveLength(0);
  });
});
