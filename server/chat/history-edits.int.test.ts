import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeOllama, type FakeOllama } from "@/e2e/fakes/ollama";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import { chatSessions, messages } from "@/server/db/schema";
import { SessionModel } from "@/server/sessions/model";
import type { PositionedEvent } from "./live-reply";
import { ChatService } from "./service";

// Editing, branching and deleting never take more of the conversation than the user asked for.
let ollama: FakeOllama;
const { db, sql } = testDatabase();

beforeAll(async () => {
  ollama = await startFakeOllama({ port: 0, tokenDelayMs: 1 });
  process.env.OLLAMA_HOST = ollama.url;
});
afterAll(async () => {
  await ollama.close();
  await sql.end();
});
beforeEach(() => ollama.reset());

async function drain(events: AsyncIterable<PositionedEvent>) {
  for await (const event of events) void event;
}

/** A chat with the greeting and `turns` exchanges, the last reply regenerated once (two alternatives). */
async function chatWithTurns(turns: number) {
  const user = await createUser(db, "민지");
  const session = await new SessionModel(db, user.id).create({ characterId: "preset-hermione" });
  const chat = new ChatService(db, user);
  for (let i = 1; i <= turns; i++) {
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: `질문 ${i}` });
    await drain(chat.follow(reply.id, 0));
  }
  const last = await conversation(session.id);
  const regenerated = await chat.regenerate(last.at(-1)!.id);
  await drain(chat.follow(regenerated.id, 0));
  return { user, session, chat };
}

/** The conversation as read: active messages in order. */
async function conversation(sessionId: string) {
  const rows = await db.select().from(messages).where(eq(messages.sessionId, sessionId)).orderBy(asc(messages.seq));
  return rows.filter((m) => m.active);
}
const allOf = (sessionId: string) => db.select().from(messages).where(eq(messages.sessionId, sessionId)).orderBy(asc(messages.seq));

describe("editing a message", () => {
  it("changes only that message's text and keeps everything after it, alternatives included", async () => {
    const { session, chat } = await chatWithTurns(3);
    const before = await allOf(session.id);
    const firstQuestion = before.find((m) => m.content === "질문 1")!;
    await chat.editMessage(firstQuestion.id, "고친 질문");
    const after = await allOf(session.id);
    expect(after.map((m) => m.id)).toEqual(before.map((m) => m.id));
    expect(after.find((m) => m.id === firstQuestion.id)!.content).toBe("고친 질문");
  });

  it("edits the character's messages too, dropping the clips spoken from the old text", async () => {
    const { session, chat } = await chatWithTurns(1);
    const reply = (await conversation(session.id)).at(-1)!;
    await db.update(messages).set({ audio: [{ index: 0, key: "a".repeat(64), text: "옛 문장" }] as never }).where(eq(messages.id, reply.id));
    const edited = await chat.editMessage(reply.id, "*고개를 끄덕이며* 새로 쓴 답");
    expect(edited).toMatchObject({ content: "*고개를 끄덕이며* 새로 쓴 답", audio: [] });
  });

  it("refuses another user's message as not found, and changes nothing", async () => {
    const { session } = await chatWithTurns(1);
    const stranger = new ChatService(db, await createUser(db, "남"));
    const reply = (await conversation(session.id)).at(-1)!;
    await expect(stranger.editMessage(reply.id, "가로채기")).rejects.toMatchObject({ code: "not_found" });
    await expect(stranger.branch(reply.id)).rejects.toMatchObject({ code: "not_found" });
    expect((await conversation(session.id)).at(-1)!.content).toBe(reply.content);
  });
});

describe("branching", () => {
  it("makes a new chat with the history up to the message, listed under its parent, and leaves the parent whole", async () => {
    const { session, chat, user } = await chatWithTurns(3);
    const parentBefore = await allOf(session.id);
    const secondReply = (await conversation(session.id)).filter((m) => m.role === "assistant")[2]!; // greeting, reply 1, reply 2
    const { sessionId, reply } = await chat.branch(secondReply.id);
    expect(reply).toBeNull();
    const branch = await conversation(sessionId);
    const parentActive = await conversation(session.id);
    const upTo = parentActive.findIndex((m) => m.id === secondReply.id);
    expect(branch.map((m) => [m.role, m.content])).toEqual(parentActive.slice(0, upTo + 1).map((m) => [m.role, m.content]));
    expect(branch.every((m) => !parentBefore.some((p) => p.id === m.id))).toBe(true);
    expect((await allOf(session.id)).map((m) => m.id)).toEqual(parentBefore.map((m) => m.id));
    const [row] = await db.select().from(chatSessions).where(eq(chatSessions.id, sessionId));
    expect(row).toMatchObject({ parentId: session.id, branchedAtSeq: secondReply.seq, userId: user.id, characterId: session.characterId });
    const listed = await new SessionModel(db, user.id).list({ limit: 10 });
    expect(listed.items.find((item) => item.id === sessionId)).toMatchObject({ parentId: session.id });
  });

  it("keeps a branched reply's alternatives, still switchable in the new chat", async () => {
    const { session, chat } = await chatWithTurns(2);
    const last = (await conversation(session.id)).at(-1)!;
    const { sessionId } = await chat.branch(last.id);
    const branchLast = (await conversation(sessionId)).at(-1)!;
    const copies = (await allOf(sessionId)).filter((m) => m.swipeGroup !== null && m.swipeGroup === branchLast.swipeGroup);
    expect(copies).toHaveLength(2);
    expect(new Set(copies.map((m) => m.swipeGroup)).size).toBe(1);
    expect(copies[0]!.swipeGroup).toBe(copies[0]!.id);
    const active = copies.find((m) => m.active)!;
    const { activeId } = await chat.selectSwipe(active.id, "next");
    expect(copies.map((m) => m.id)).toContain(activeId);
    expect(activeId).not.toBe(active.id);
  });

  it("with new text for a message of the user's, answers it in the new chat", async () => {
    const { session, chat } = await chatWithTurns(3);
    const question = (await conversation(session.id)).find((m) => m.content === "질문 2")!;
    const { sessionId, reply } = await chat.branch(question.id, "다른 질문");
    expect(reply).not.toBeNull();
    await drain(chat.follow(reply!.id, 0));
    const branch = await conversation(sessionId);
    expect(branch.map((m) => m.content).slice(-2, -1)).toEqual(["다른 질문"]);
    expect(branch.at(-1)).toMatchObject({ role: "assistant", status: "complete" });
    // The parent still says what it said.
    expect((await conversation(session.id)).some((m) => m.content === "질문 2")).toBe(true);
    expect(ollama.requests.at(-1)).toMatchObject({ messages: expect.arrayContaining([expect.objectContaining({ role: "user", content: "다른 질문" })]) });
  });
});

describe("deleting a message of the user's", () => {
  it("takes the reply that answered it along, every alternative included, so two replies never follow each other", async () => {
    const { session, chat } = await chatWithTurns(3);
    const question = (await conversation(session.id)).find((m) => m.content === "질문 3")!;
    const before = await allOf(session.id);
    await chat.deleteMessage(question.id);
    const roles = (await conversation(session.id)).map((m) => m.role);
    expect(roles).toEqual(["assistant", "user", "assistant", "user", "assistant"]);
    // The question and both alternatives of its reply went; nothing else did.
    expect(before.length - (await allOf(session.id)).length).toBe(3);
  });

  it("in the middle of a chat, leaves the later exchanges as they were", async () => {
    const { session, chat } = await chatWithTurns(3);
    const question = (await conversation(session.id)).find((m) => m.content === "질문 1")!;
    await chat.deleteMessage(question.id);
    const left = await conversation(session.id);
    expect(left.map((m) => m.content).filter((c) => c.startsWith("질문"))).toEqual(["질문 2", "질문 3"]);
    expect(left.map((m) => m.role)).toEqual(["assistant", "user", "assistant", "user", "assistant"]);
  });
});
