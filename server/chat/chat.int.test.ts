import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeOllama, fakeReply, type FakeOllama } from "@/e2e/fakes/ollama";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import { messages } from "@/server/db/schema";
import { SessionModel } from "@/server/sessions/model";
import type { PositionedEvent } from "./live-reply";
import { ChatService } from "./service";

let ollama: FakeOllama;
const { db, sql } = testDatabase();

beforeAll(async () => {
  ollama = await startFakeOllama({ port: 0, tokenDelayMs: 5 });
  process.env.OLLAMA_HOST = ollama.url;
});
afterAll(async () => {
  await ollama.close();
  await sql.end();
});
beforeEach(() => ollama.reset());

async function newChat(name = "민지") {
  const user = await createUser(db, name);
  const session = await new SessionModel(db, user.id).create({ characterId: "preset-hermione" });
  return { user, session, chat: new ChatService(db, user) };
}

async function readAll(events: AsyncIterable<PositionedEvent>) {
  const seen: PositionedEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

const textOf = (events: PositionedEvent[]) =>
  events.map(({ event }) => (event.type === "delta" ? event.text : "")).join("");

async function until(check: () => boolean | Promise<boolean>, what: string) {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("chat.send", () => {
  it("saves the message, streams the reply from Ollama and saves it with token counts", async () => {
    const { chat, session } = await newChat();
    const { userMessage, reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "안녕, 오늘 뭐 공부해?" });
    expect(userMessage.content).toBe("안녕, 오늘 뭐 공부해?");
    expect(reply.status).toBe("streaming");

    const events = await readAll(chat.follow(reply.id, 0));
    const expected = fakeReply([{ role: "user", content: "안녕, 오늘 뭐 공부해?" }]);
    expect(textOf(events)).toBe(expected);
    expect(events.filter((e) => e.event.type === "delta").length).toBeGreaterThan(1);
    const last = events.at(-1)!.event;
    expect(last.type).toBe("done");

    const [saved] = await db.select().from(messages).where(eq(messages.id, reply.id));
    expect(saved).toMatchObject({ content: expected, status: "complete", model: "qwen2.5:7b" });
    expect(saved!.completionTokens).toBeGreaterThan(0);
    expect(saved!.promptTokens).toBeGreaterThan(0);
    expect(saved!.timeToFirstTokenMs).not.toBeNull();
  });

  it("keeps the first-token time the reader experienced, once, for a reply of theirs only", async () => {
    const { chat, session } = await newChat();
    const { userMessage, reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "빨리 답해 줘" });
    await readAll(chat.follow(reply.id, 0));
    expect(await chat.recordSeenFirstToken(reply.id, 412)).toEqual({ recorded: true });
    // A second report (another tab, a retry of the request) changes nothing.
    expect(await chat.recordSeenFirstToken(reply.id, 9)).toEqual({ recorded: false });
    const [saved] = await db.select().from(messages).where(eq(messages.id, reply.id));
    expect(saved).toMatchObject({ seenFirstTokenMs: 412 });
    expect(saved!.timeToFirstTokenMs).not.toBe(412);
    await expect(chat.recordSeenFirstToken(userMessage.id, 100)).rejects.toMatchObject({ code: "not_found" });
    const stranger = await newChat("낯선 사람");
    await expect(stranger.chat.recordSeenFirstToken(reply.id, 100)).rejects.toMatchObject({ code: "not_found" });
  });

  it("sends Ollama the persona, the scenario and the conversation, greeting first", async () => {
    const { chat, session } = await newChat("지우");
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "도서관 가자" });
    await readAll(chat.follow(reply.id, 0));
    const request = ollama.requests.at(-1) as { model: string; stream: boolean; messages: { role: string; content: string }[]; options: Record<string, unknown> };
    expect(request.model).toBe("qwen2.5:7b");
    expect(request.stream).toBe(true);
    expect(request.options).toMatchObject({ temperature: 0.8, num_predict: 1024 });
    expect(request.messages[0]?.role).toBe("system");
    expect(request.messages[0]?.content).toContain("헤르미온느 그레인저는 호그와트 마법학교");
    expect(request.messages[0]?.content).toContain("지우 is: 헤르미온느와 같은 학년의 그리핀도르 친구");
    expect(request.messages.slice(1).map((m) => m.role)).toEqual(["assistant", "user"]);
    expect(request.messages.at(-1)?.content).toBe("도서관 가자");
  });

  it("does not store a retried send twice", async () => {
    const { chat, session } = await newChat();
    const clientId = crypto.randomUUID();
    const first = await chat.send({ sessionId: session.id, clientId, text: "한 번만" });
    const again = await chat.send({ sessionId: session.id, clientId, text: "한 번만" });
    expect(again.userMessage.id).toBe(first.userMessage.id);
    expect(again.reply.id).toBe(first.reply.id);
    await readAll(chat.follow(first.reply.id, 0));
    const rows = await db.select().from(messages).where(eq(messages.sessionId, session.id));
    expect(rows.filter((m) => m.role === "user")).toHaveLength(1);
    const streamed = (ollama.requests as { stream?: boolean }[]).filter((r) => r.stream);
    expect(streamed).toHaveLength(1);
  });

  it("refuses a second message while the reply is still being written", async () => {
    ollama.setBehaviour({ tokenDelayMs: 50 });
    const { chat, session } = await newChat();
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "첫 번째" });
    await expect(chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "두 번째" })).rejects.toMatchObject({
      code: "reply_in_progress",
    });
    await chat.stop(reply.id);
    await readAll(chat.follow(reply.id, 0));
  });

  it("resumes a reply from where the reader left off, without repeating text", async () => {
    const { chat, session } = await newChat();
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "이어서 읽기" });
    const full = textOf(await readAll(chat.follow(reply.id, 0)));
    const resumed = await readAll(chat.follow(reply.id, 10));
    expect(textOf(resumed)).toBe(full.slice(10));
  });

  it("keeps what the user wrote when the model is not installed, and says which model", async () => {
    ollama.setBehaviour({ fault: "unknown-model" });
    const { chat, session } = await newChat();
    const { userMessage, reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "모델 없음" });
    const last = (await readAll(chat.follow(reply.id, 0))).at(-1)!.event;
    expect(last).toMatchObject({ type: "error", code: "llm_model_missing" });
    expect(last.type === "error" && last.message).toBe("model qwen2.5:7b is not installed on the Ollama server (`ollama pull qwen2.5:7b`)");
    const [savedUser] = await db.select().from(messages).where(eq(messages.id, userMessage.id));
    expect(savedUser?.content).toBe("모델 없음");
    const [savedReply] = await db.select().from(messages).where(eq(messages.id, reply.id));
    expect(savedReply?.status).toBe("error");
  });

  it("keeps the partial text of a reply that fails mid-stream, marked as failed, and can try again", async () => {
    ollama.setBehaviour({ fault: "midstream-error", faultCount: 1 });
    const { chat, session } = await newChat();
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "중간 실패" });
    const events = await readAll(chat.follow(reply.id, 0));
    expect(textOf(events).length).toBeGreaterThan(0);
    const [failed] = await db.select().from(messages).where(eq(messages.id, reply.id));
    expect(failed).toMatchObject({ status: "error", content: textOf(events), errorCode: "llm_failed" });

    const retried = await chat.retry(reply.id);
    const again = await readAll(chat.follow(retried.id, 0));
    expect(textOf(again)).toBe(fakeReply([{ role: "user", content: "중간 실패" }]));
    const rows = await db.select().from(messages).where(and(eq(messages.sessionId, session.id), eq(messages.active, true))).orderBy(messages.seq);
    expect(rows.map((m) => [m.role, m.status])).toEqual([
      ["assistant", "complete"],
      ["user", "complete"],
      ["assistant", "complete"],
    ]);
  });
});

describe("a reader that goes away", () => {
  it("does not stop the reply: it is finished and saved (a closed tab loses nothing)", async () => {
    ollama.setBehaviour({ tokenDelayMs: 30 });
    const { chat, session } = await newChat();
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "탭을 닫아도 돼?" });
    const tab = new AbortController();
    for await (const { event } of chat.follow(reply.id, 0, tab.signal)) {
      if (event.type === "delta") break;
    }
    tab.abort();
    const expected = fakeReply([{ role: "user", content: "탭을 닫아도 돼?" }]);
    await until(async () => (await db.select().from(messages).where(eq(messages.id, reply.id)))[0]?.status === "complete", "the reply to finish");
    const [saved] = await db.select().from(messages).where(eq(messages.id, reply.id));
    expect(saved?.content).toBe(expected);
    expect(ollama.stats.abortedChatStreams).toBe(0);
  });
});

describe("chat.stop", () => {
  it("closes the connection to Ollama and keeps the partial reply, marked stopped", async () => {
    ollama.setBehaviour({ tokenDelayMs: 40 });
    const { chat, session } = await newChat();
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "길게 말해 줘" });
    const events: PositionedEvent[] = [];
    const reading = (async () => {
      for await (const event of chat.follow(reply.id, 0)) events.push(event);
    })();
    // Stopped once its first words are out (another chat's title may be ahead of it at Ollama).
    await until(() => events.some((e) => e.event.type === "delta"), "the first words");
    expect(await chat.stop(reply.id)).toEqual({ stopped: true });
    await reading;
    expect(events.at(-1)?.event).toMatchObject({ type: "done", status: "stopped" });
    await until(() => ollama.stats.abortedChatStreams === 1, "Ollama to see the connection closed");
    const [saved] = await db.select().from(messages).where(eq(messages.id, reply.id));
    expect(saved?.status).toBe("stopped");
    expect(saved!.content.length).toBeGreaterThan(0);
    const full = fakeReply([{ role: "user", content: "길게 말해 줘" }]);
    expect(full.startsWith(saved!.content)).toBe(true);
    expect(saved!.content.length).toBeLessThan(full.length);
  });

  it("does not let one user stop or read another user's reply", async () => {
    const owner = await newChat();
    const other = await newChat("다른 사람");
    const { reply } = await owner.chat.send({ sessionId: owner.session.id, clientId: crypto.randomUUID(), text: "비밀" });
    await expect(other.chat.stop(reply.id)).rejects.toMatchObject({ code: "not_found" });
    await expect(readAll(other.chat.follow(reply.id, 0))).rejects.toMatchObject({ code: "not_found" });
    await expect(other.chat.send({ sessionId: owner.session.id, clientId: crypto.randomUUID(), text: "끼어들기" })).rejects.toMatchObject({
      code: "not_found",
    });
    await readAll(owner.chat.follow(reply.id, 0));
  });
});

describe("reply alternatives, edits and deletes", () => {
  async function active(sessionId: string, userId: string) {
    return (await new SessionModel(db, userId).messages(sessionId, { limit: 50 })).messages;
  }

  it("offers the greeting's alternates as swipes of the first message", async () => {
    const { chat, session, user } = await newChat();
    const [greeting] = await active(session.id, user.id);
    expect(greeting).toMatchObject({ swipeIndex: 0, swipeCount: 3 });
    const { activeId } = await chat.selectSwipe(greeting!.id, "next");
    const [second] = await active(session.id, user.id);
    expect(second?.id).toBe(activeId);
    expect(second?.content).toContain("루모스");
    expect(second).toMatchObject({ swipeIndex: 1, swipeCount: 3 });
    await chat.selectSwipe(activeId, "previous");
    expect((await active(session.id, user.id))[0]?.id).toBe(greeting!.id);
  });

  it("regenerates the last reply as a new alternative and switches between them; the prompt uses the active one", async () => {
    const { chat, session, user } = await newChat();
    const first = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "첫 질문" });
    await readAll(chat.follow(first.reply.id, 0));
    ollama.setBehaviour({ reply: "*고개를 갸웃하며* 다른 대답이에요." });
    const second = await chat.regenerate(first.reply.id);
    expect(second.id).not.toBe(first.reply.id);
    expect(textOf(await readAll(chat.follow(second.id, 0)))).toBe("*고개를 갸웃하며* 다른 대답이에요.");

    let messagesNow = await active(session.id, user.id);
    expect(messagesNow.map((m) => m.role)).toEqual(["assistant", "user", "assistant"]);
    expect(messagesNow.at(-1)).toMatchObject({ id: second.id, swipeIndex: 1, swipeCount: 2 });

    await chat.selectSwipe(second.id, "previous");
    messagesNow = await active(session.id, user.id);
    expect(messagesNow.at(-1)).toMatchObject({ id: first.reply.id, swipeIndex: 0, swipeCount: 2 });

    ollama.setBehaviour({ reply: null });
    const next = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "다음 질문" });
    await readAll(chat.follow(next.reply.id, 0));
    const prompt = (ollama.requests.filter((r) => (r as { stream?: boolean }).stream).at(-1) as { messages: { content: string }[] }).messages;
    expect(prompt.map((m) => m.content)).toContain(fakeReply([{ role: "user", content: "첫 질문" }]));
    expect(prompt.map((m) => m.content)).not.toContain("*고개를 갸웃하며* 다른 대답이에요.");
    await expect(chat.regenerate(first.reply.id)).rejects.toMatchObject({ code: "bad_input" });
  });

  it("edits a user message and answers it again, dropping what came after", async () => {
    const { chat, session, user } = await newChat();
    const a = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "원래 질문" });
    await readAll(chat.follow(a.reply.id, 0));
    const b = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "두 번째 질문" });
    await readAll(chat.follow(b.reply.id, 0));

    const edited = await chat.editAndRegenerate(a.userMessage.id, "고친 질문");
    expect(edited.userMessage.content).toBe("고친 질문");
    expect(textOf(await readAll(chat.follow(edited.reply.id, 0)))).toBe(fakeReply([{ role: "user", content: "고친 질문" }]));
    const now = await active(session.id, user.id);
    expect(now.map((m) => m.content)).toEqual([now[0]!.content, "고친 질문", fakeReply([{ role: "user", content: "고친 질문" }])]);
    await expect(chat.editAndRegenerate(edited.reply.id, "답장 수정")).rejects.toMatchObject({ code: "bad_input" });
  });

  it("deletes a message", async () => {
    const { chat, session, user } = await newChat();
    const sent = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "지울 메시지" });
    await readAll(chat.follow(sent.reply.id, 0));
    await chat.deleteMessage(sent.reply.id);
    expect((await active(session.id, user.id)).map((m) => m.id)).not.toContain(sent.reply.id);
  });
});

describe("titles", () => {
  it("names the chat from the first exchange, in its language, after the reply; a rename wins", async () => {
    const { chat, session, user } = await newChat();
    const sent = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "마법 수업 같이 듣자" });
    await readAll(chat.follow(sent.reply.id, 0));
    const sessions = new SessionModel(db, user.id);
    await until(async () => (await sessions.get(session.id)).session.title !== null, "a title");
    expect((await sessions.get(session.id)).session).toMatchObject({ title: "마법 수업 같이 듣자", titleSource: "auto" });
    const titleRequest = ollama.requests.find((r) => (r as { stream?: boolean }).stream === false) as { messages: { role: string; content: string }[] };
    expect(titleRequest.messages[0]?.content).toContain("same language as the conversation");

    await sessions.rename(session.id, "내가 정한 제목");
    const more = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "또 이야기하자" });
    await readAll(chat.follow(more.reply.id, 0));
    await new Promise((r) => setTimeout(r, 200));
    expect((await sessions.get(session.id)).session).toMatchObject({ title: "내가 정한 제목", titleSource: "user" });
  });
});
