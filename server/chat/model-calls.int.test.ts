import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeReply, fakeThinking, startFakeOllama, tokenize, type FakeOllama } from "@/e2e/fakes/ollama";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import type { SessionSettings } from "@/lib/schemas";
import { preloadDefaultModel } from "@/server/boot";
import { messages } from "@/server/db/schema";
import { SessionModel } from "@/server/sessions/model";
import type { PositionedEvent, ReplyEvent } from "./live-reply";
import { ChatService } from "./service";

/** OLLAMA_NUM_CTX's default, below every fake model's maximum. */
const WINDOW = 8192;
let ollama: FakeOllama;
const { db, sql } = testDatabase();

beforeAll(async () => {
  ollama = await startFakeOllama({ port: 0, tokenDelayMs: 2 });
  process.env.OLLAMA_HOST = ollama.url;
});
afterAll(async () => {
  await ollama.close();
  await sql.end();
});
beforeEach(() => ollama.reset());

interface ChatRequest {
  model: string;
  stream: boolean;
  messages: { role: string; content: string; thinking?: string }[];
  options: { num_ctx?: number; num_predict?: number };
  keep_alive?: unknown;
  think?: unknown;
}
const requests = () => ollama.requests as ChatRequest[];
const replyRequests = () => requests().filter((r) => r.stream);
const titleRequest = () => requests().find((r) => !r.stream && r.messages[0]?.content.includes("You name role-play chats"));

async function newChat(options: { model?: string; settings?: Partial<SessionSettings>; name?: string } = {}) {
  const user = await createUser(db, options.name ?? "민지");
  const sessions = new SessionModel(db, user.id);
  const session = await sessions.create({ characterId: "preset-hermione", model: options.model, settings: options.settings });
  const chat = new ChatService(db, user);
  return { user, session, chat, sessions };
}

async function readAll(events: AsyncIterable<PositionedEvent>) {
  const seen: ReplyEvent[] = [];
  for await (const { event } of events) seen.push(event);
  return seen;
}

const textOf = (events: ReplyEvent[], type: "delta" | "thinking" = "delta") =>
  events.map((event) => (event.type === type ? event.text : "")).join("");

async function until(check: () => boolean | Promise<boolean>, what: string) {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function saved(id: string) {
  const [row] = await db.select().from(messages).where(eq(messages.id, id));
  return row!;
}

describe("every call to a model sends the same runner options", () => {
  it("a reply and the title after it send the same num_ctx and keep_alive, so the model is loaded once", async () => {
    const { chat, session, sessions } = await newChat();
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "마법 수업 같이 듣자" });
    await readAll(chat.follow(reply.id, 0));
    await until(async () => (await sessions.get(session.id)).session.title !== null, "a title");

    const [replyCall] = replyRequests();
    expect(replyCall).toMatchObject({ options: { num_ctx: WINDOW }, keep_alive: "30m" });
    expect(titleRequest()).toMatchObject({ options: { num_ctx: WINDOW }, keep_alive: "30m" });
    expect(ollama.stats).toMatchObject({ loads: 1, reloads: 0 });
  });

  it("boot's preload loads the default model with the options replies use: the first reply finds it loaded", async () => {
    await preloadDefaultModel();
    expect(requests()).toEqual([{ model: "qwen2.5:7b", messages: [], stream: false, keep_alive: "30m", options: { num_ctx: WINDOW } }]);
    expect(ollama.stats).toMatchObject({ loads: 1 });

    const { chat, session } = await newChat();
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "안녕" });
    await readAll(chat.follow(reply.id, 0));
    expect(ollama.stats).toMatchObject({ loads: 1, reloads: 0 });
  });

  it("a failed preload is only logged: start-up goes on", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    ollama.setBehaviour({ fault: "http500", faultCount: 1 });
    await expect(preloadDefaultModel()).resolves.toBeUndefined();
    expect(warn.mock.calls.join(" ")).toContain("could not preload qwen2.5:7b");
    vi.restoreAllMocks();
  });
});

describe("thinking models", () => {
  it("name the chat: titles (like summaries) are asked not to think, and so is a reply unless the chat asks", async () => {
    const { chat, session, sessions } = await newChat({ model: "qwen3:8b" });
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "마법 수업 같이 듣자" });
    const events = await readAll(chat.follow(reply.id, 0));
    expect(events.some((e) => e.type === "thinking")).toBe(false);
    expect(textOf(events)).toBe(fakeReply([{ role: "user", content: "마법 수업 같이 듣자" }]));
    expect(replyRequests()[0]?.think).toBe(false);

    await until(async () => (await sessions.get(session.id)).session.title !== null, "a title");
    expect((await sessions.get(session.id)).session.title).toBe("마법 수업 같이 듣자");
    expect(titleRequest()?.think).toBe(false);
    expect(await saved(reply.id)).toMatchObject({ thinking: null, finishReason: "stop" });
  });

  it("with the chat's thinking on, stream the thoughts as their own events, keep them apart, and never send them back", async () => {
    const { chat, session } = await newChat({ model: "qwen3:8b", settings: { think: true } });
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "오늘 뭐 공부해?" });
    const events = await readAll(chat.follow(reply.id, 0));
    const asked = [{ role: "user", content: "오늘 뭐 공부해?" }];
    expect(replyRequests()[0]?.think).toBe(true);
    expect(textOf(events, "thinking")).toBe(fakeThinking(asked));
    expect(textOf(events)).toBe(fakeReply(asked));
    expect(events.findLastIndex((e) => e.type === "thinking")).toBeLessThan(events.findIndex((e) => e.type === "delta"));
    expect(events.at(-1)).toMatchObject({ type: "done", status: "complete", content: fakeReply(asked), finishReason: "stop" });
    expect(await saved(reply.id)).toMatchObject({ content: fakeReply(asked), thinking: fakeThinking(asked) });

    // A reader that comes back after the text began does not get the thoughts again.
    expect((await readAll(chat.follow(reply.id, 5))).some((e) => e.type === "thinking")).toBe(false);

    const next = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "같이 가자" });
    await readAll(chat.follow(next.reply.id, 0));
    const prompt = replyRequests().at(-1)!.messages;
    expect(prompt.map((m) => m.content)).toContain(fakeReply(asked));
    expect(prompt.some((m) => m.thinking !== undefined || m.content.includes(fakeThinking(asked)))).toBe(false);
  });

  it("gpt-oss gets a level instead of a boolean; a model that can't think just answers", async () => {
    ollama.setBehaviour({ models: [{ name: "gpt-oss:20b", family: "gptoss", contextLength: 131072, thinking: true }, { name: "qwen2.5:7b", family: "qwen2" }] });
    const oss = await newChat({ model: "gpt-oss:20b", settings: { think: true } });
    const first = await oss.chat.send({ sessionId: oss.session.id, clientId: crypto.randomUUID(), text: "안녕" });
    await readAll(oss.chat.follow(first.reply.id, 0));
    expect(replyRequests().at(-1)?.think).toBe("low");

    const plain = await newChat({ settings: { think: true } });
    const second = await plain.chat.send({ sessionId: plain.session.id, clientId: crypto.randomUUID(), text: "안녕" });
    expect((await readAll(plain.chat.follow(second.reply.id, 0))).at(-1)).toMatchObject({ type: "done", status: "complete" });
    expect(replyRequests().at(-1)).toMatchObject({ model: "qwen2.5:7b", think: false });
  });

  it("a reply whose thinking used up num_predict is marked cut off", async () => {
    const { chat, session } = await newChat({ model: "qwen3:8b", settings: { think: true, maxTokens: 16 } });
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "길게 생각해 봐" });
    const events = await readAll(chat.follow(reply.id, 0));
    expect(textOf(events, "thinking").length).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({ type: "done", status: "complete", finishReason: "length" });
  });
});

describe("a reply cut off by its length", () => {
  const LONG = "*책장을 넘기며* 오늘은 변신술 수업이 있어. 맥고나걸 교수님이 고양이로 변하는 걸 보여 주실 거래. 그다음엔 도서관에서 마법의 역사 숙제를 끝내야 하고, 저녁에는 해그리드 오두막에 들를 생각이야. 너도 같이 갈래?";
  const CUT = tokenize(LONG).slice(0, 16).join("");

  it("is marked 'length', and chat.continue appends to the same message, sending its text as the assistant's start", async () => {
    ollama.setBehaviour({ reply: LONG });
    const { chat, session, sessions } = await newChat({ settings: { maxTokens: 16 } });
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "오늘 계획이 뭐야?" });
    const events = await readAll(chat.follow(reply.id, 0));
    expect(textOf(events)).toBe(CUT);
    expect(events.at(-1)).toMatchObject({ type: "done", status: "complete", content: CUT, finishReason: "length" });
    expect(await saved(reply.id)).toMatchObject({ status: "complete", content: CUT, finishReason: "length" });

    ollama.setBehaviour({ reply: " 같이 가자!" });
    const continued = await chat.continue(reply.id);
    expect(continued).toMatchObject({ id: reply.id, status: "streaming" });
    const more = await readAll(chat.follow(reply.id, 0));
    expect(textOf(more)).toBe(`${CUT} 같이 가자!`);
    expect(more.at(-1)).toMatchObject({ type: "done", status: "complete", finishReason: "stop" });

    const request = replyRequests().at(-1)!;
    expect(request.messages.at(-1)).toEqual({ role: "assistant", content: CUT });
    expect(request.messages.at(-2)).toEqual({ role: "user", content: "오늘 계획이 뭐야?" });
    expect(await saved(reply.id)).toMatchObject({ status: "complete", content: `${CUT} 같이 가자!`, finishReason: "stop" });
    const conversation = (await sessions.messages(session.id, { limit: 50 })).messages;
    expect(conversation.map((m) => m.id).filter((id) => id === reply.id)).toHaveLength(1);
    expect(conversation).toHaveLength(3);

    // It ended on its own now: there is nothing to continue, for its owner or anyone else.
    await expect(chat.continue(reply.id)).rejects.toMatchObject({ code: "bad_input" });
    const other = new ChatService(db, await createUser(db, "남"));
    await expect(other.continue(reply.id)).rejects.toMatchObject({ code: "not_found" });
  });

  it("a stopped reply continues too; one still being written or no longer last can't", async () => {
    ollama.setBehaviour({ reply: LONG, tokenDelayMs: 30 });
    const { chat, session } = await newChat();
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "오늘 계획이 뭐야?" });
    for await (const { event } of chat.follow(reply.id, 0)) if (event.type === "delta") break;
    await expect(chat.continue(reply.id)).rejects.toMatchObject({ code: "reply_in_progress" });
    await chat.stop(reply.id);
    const stopped = await readAll(chat.follow(reply.id, 0));
    expect(stopped.at(-1)).toMatchObject({ type: "done", status: "stopped", finishReason: null });
    const partial = (await saved(reply.id)).content;
    expect(partial.length).toBeGreaterThan(0);

    ollama.setBehaviour({ reply: " 끝.", tokenDelayMs: 2 });
    await chat.continue(reply.id);
    expect(textOf(await readAll(chat.follow(reply.id, 0)))).toBe(`${partial} 끝.`);
    expect(replyRequests().at(-1)?.messages.at(-1)).toEqual({ role: "assistant", content: partial });

    const later = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "그다음은?" });
    await readAll(chat.follow(later.reply.id, 0));
    await expect(chat.continue(reply.id)).rejects.toMatchObject({ code: "bad_input" });
    const rows = await db.select().from(messages).where(and(eq(messages.sessionId, session.id), eq(messages.active, true)));
    expect(rows.filter((m) => m.status === "streaming")).toHaveLength(0);
  });
});
