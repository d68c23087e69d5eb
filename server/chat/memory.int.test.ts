import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeOllama, type FakeOllama } from "@/e2e/fakes/ollama";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import { chatSessions, messages } from "@/server/db/schema";
import { SessionModel } from "@/server/sessions/model";
import { budgetFor, estimateMessages, VERBATIM_TURNS } from "./budget";
import type { PositionedEvent } from "./live-reply";
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

async function readAll(events: AsyncIterable<PositionedEvent>) {
  const seen: PositionedEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

type ChatRequest = { stream: boolean; messages: { role: string; content: string }[]; options: { num_ctx?: number } };

describe("long chats", () => {
  it("folds older turns into the running summary near 80% of the window, keeps the last 16 verbatim, and fits the budget", async () => {
    const user = await createUser(db, "민지");
    const session = await new SessionModel(db, user.id).create({ characterId: "preset-seoyun" });
    // The greeting, then 40 earlier exchanges: the whole chat is far over the window.
    for (let i = 0; i < 40; i++) {
      await db.insert(messages).values([
        { sessionId: session.id, role: "user", content: `${i}번째 이야기: 오늘 회사에서 있었던 일을 자세히 말해 줄게요. 점심에는 김치찌개를 먹었어요.` },
        { sessionId: session.id, role: "assistant", content: `*라테를 건네며* ${i}번째 이야기 잘 들었어요. 김치찌개 맛있었겠다! 다음엔 저도 데려가요.` },
      ]);
    }
    const chat = new ChatService(db, user);
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "오늘도 고마워요" });
    const events = await readAll(chat.follow(reply.id, 0));

    expect(events.find((e) => e.event.type === "notice")?.event).toEqual({ type: "notice", kind: "memory_summarized", turns: 1 + 80 + 1 - VERBATIM_TURNS });
    expect(events.at(-1)?.event.type).toBe("done");

    const summaryRequest = ollama.requests.find((r) => (r as ChatRequest).stream === false) as ChatRequest;
    expect(summaryRequest.messages[0]?.content).toContain("memory of a long role-play");
    expect(summaryRequest.messages[1]?.content).toContain("0번째 이야기");

    const prompt = (ollama.requests.filter((r) => (r as ChatRequest).stream).at(-1) as ChatRequest);
    expect(prompt.options.num_ctx).toBe(WINDOW);
    expect(prompt.messages[0]?.content).toContain("연남동에서 작은 카페");
    expect(prompt.messages[1]?.role).toBe("system");
    expect(prompt.messages[1]?.content).toMatch(/^Summary of the earlier conversation:\n.+이야기를 나눴다/);
    const turns = prompt.messages.slice(2);
    expect(turns.at(-1)?.content).toBe("오늘도 고마워요");
    expect(turns.length).toBeLessThanOrEqual(VERBATIM_TURNS);
    expect(turns.some((m) => m.content.includes("0번째 이야기:"))).toBe(false);
    expect(estimateMessages(prompt.messages)).toBeLessThanOrEqual(budgetFor(WINDOW, 1024).prompt);

    const [saved] = await db.select().from(chatSessions).where(eq(chatSessions.id, session.id));
    expect(saved?.summary).toContain("이야기를 나눴다");
    expect(saved?.summaryThroughSeq).not.toBeNull();
    // The real prompt size reported by Ollama tunes the next estimate.
    expect(saved?.tokenScale).toBeGreaterThan(0);

    // The next reply starts from the summary: no new summary until the chat grows again.
    const before = ollama.requests.filter((r) => (r as ChatRequest).stream === false).length;
    const next = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "내일 또 올게요" });
    const nextEvents = await readAll(chat.follow(next.reply.id, 0));
    expect(nextEvents.some((e) => e.event.type === "notice")).toBe(false);
    expect(ollama.requests.filter((r) => (r as ChatRequest).stream === false).length).toBe(before);
  });

  it("sends a short chat whole, without summarising", async () => {
    const user = await createUser(db);
    const session = await new SessionModel(db, user.id).create({ characterId: "preset-seoyun" });
    const chat = new ChatService(db, user);
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "안녕하세요" });
    const events = await readAll(chat.follow(reply.id, 0));
    expect(events.some((e) => e.event.type === "notice")).toBe(false);
    const prompt = ollama.requests.filter((r) => (r as ChatRequest).stream).at(-1) as ChatRequest;
    expect(prompt.messages.map((m) => m.role)).toEqual(["system", "assistant", "user"]);
  });
});
