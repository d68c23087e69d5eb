import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callersOn } from "@/e2e/support/test-caller";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import { freePort } from "@/e2e/support/ports";
import { messages } from "@/server/db/schema";

const { db, sql } = testDatabase();
beforeAll(async () => {
  process.env.OLLAMA_HOST = `http://127.0.0.1:${await freePort()}`;
});
afterAll(() => sql.end());

const callerFor = callersOn(db);

async function addTurns(sessionId: string, pairs: [string, string][]) {
  for (const [user, assistant] of pairs) {
    await db.insert(messages).values([
      { sessionId, role: "user", content: user },
      { sessionId, role: "assistant", content: assistant },
    ]);
  }
}

describe("sessions", () => {
  it("lists chats most recent first with a preview of the last message, page by page", async () => {
    const user = await createUser(db);
    const me = callerFor(user);
    const ids = [];
    for (const characterId of ["preset-aria", "preset-sunja", "preset-minho"]) ids.push((await me.sessions.create({ characterId })).id);
    await addTurns(ids[0]!, [["항로는?", "*홀로그램이 깜빡인다* 목적지까지 38일 남았어요."]]);
    await db.execute(`update chat_sessions set last_message_at = now() + interval '1 minute' where id = '${ids[0]}'`);

    const page1 = await me.sessions.list({ limit: 2 });
    expect(page1.items.map((s) => s.id)).toEqual([ids[0], ids[2]]);
    expect(page1.items[0]).toMatchObject({ characterName: "아리아", preview: "*홀로그램이 깜빡인다* 목적지까지 38일 남았어요." });
    expect(page1.nextCursor).not.toBeNull();
    const page2 = await me.sessions.list({ limit: 2, cursor: page1.nextCursor });
    expect(page2.items.map((s) => s.id)).toEqual([ids[1]]);
    expect(page2.nextCursor).toBeNull();
    expect((await me.sessions.list({ characterId: "preset-sunja" })).items.map((s) => s.id)).toEqual([ids[1]]);
  });

  it("renames, updates settings and model, clears and deletes a chat", async () => {
    const user = await createUser(db);
    const me = callerFor(user);
    const session = await me.sessions.create({ characterId: "preset-dohyun", settings: { temperature: 0.5 } });
    expect(session.settings).toMatchObject({ temperature: 0.5, maxTokens: 1024 });

    expect(await me.sessions.rename({ id: session.id, title: "비 오는 밤의 사건" })).toMatchObject({ title: "비 오는 밤의 사건", titleSource: "user" });
    await expect(me.sessions.rename({ id: session.id, title: "   " })).rejects.toMatchObject({ code: "BAD_REQUEST" });

    const updated = await me.sessions.update({ id: session.id, model: "llama3.2:3b", settings: { maxTokens: 300 } });
    expect(updated).toMatchObject({ model: "llama3.2:3b", settings: { temperature: 0.5, maxTokens: 300 } });
    await expect(me.sessions.update({ id: session.id, settings: { temperature: 3 } })).rejects.toMatchObject({ code: "BAD_REQUEST" });

    await addTurns(session.id, [["범인은?", "아직 몰라."]]);
    await me.sessions.clear({ id: session.id });
    const cleared = (await me.sessions.messages({ sessionId: session.id })).messages;
    expect(cleared).toHaveLength(1);
    expect(cleared[0]?.content).toContain("폴리스라인");

    await me.sessions.delete({ id: session.id });
    await expect(me.sessions.get({ id: session.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    const left = await db.select().from(messages).where((await import("drizzle-orm")).eq(messages.sessionId, session.id));
    expect(left).toEqual([]);
  });

  it("pages through history newest page first, each page in reading order", async () => {
    const user = await createUser(db);
    const me = callerFor(user);
    const session = await me.sessions.create({ characterId: "preset-minho" });
    await addTurns(session.id, Array.from({ length: 30 }, (_, i) => [`질문 ${i}`, `답 ${i}`] as [string, string]));
    const newest = await me.sessions.messages({ sessionId: session.id, limit: 10 });
    expect(newest.messages.map((m) => m.content)).toEqual(["질문 25", "답 25", "질문 26", "답 26", "질문 27", "답 27", "질문 28", "답 28", "질문 29", "답 29"]);
    const older = await me.sessions.messages({ sessionId: session.id, limit: 10, cursor: newest.nextCursor });
    expect(older.messages[0]?.content).toBe("질문 20");
    expect(older.messages.at(-1)?.content).toBe("답 24");
  });

  it("counts messages and tokens, and knows when the chat was created and last active", async () => {
    const user = await createUser(db);
    const me = callerFor(user);
    const session = await me.sessions.create({ characterId: "preset-minho" });
    await db.insert(messages).values([
      { sessionId: session.id, role: "user", content: "a" },
      { sessionId: session.id, role: "assistant", content: "b", promptTokens: 120, completionTokens: 30, model: "qwen2.5:7b" },
      { sessionId: session.id, role: "user", content: "c" },
      { sessionId: session.id, role: "assistant", content: "d", promptTokens: 160, completionTokens: 25, model: "qwen2.5:7b" },
    ]);
    const stats = await me.sessions.stats({ id: session.id });
    expect(stats).toMatchObject({ messages: { user: 2, assistant: 3 }, tokens: { prompt: 280, completion: 55 }, summarized: false });
    expect(stats.createdAt).toBeInstanceOf(Date);
  });

  it("searches only the user's own messages, Korean substrings included", async () => {
    const owner = await createUser(db);
    const other = await createUser(db);
    const mine = await callerFor(owner).sessions.create({ characterId: "preset-seoyun" });
    const theirs = await callerFor(other).sessions.create({ characterId: "preset-seoyun" });
    await addTurns(mine.id, [["바닐라라테 한 잔 주세요", "네, 바닐라 시럽 듬뿍!"]]);
    await addTurns(theirs.id, [["바닐라라테 두 잔", "네!"]]);

    const found = await callerFor(owner).sessions.search({ q: "닐라라" });
    expect(found.map((m) => m.content)).toEqual(["바닐라라테 한 잔 주세요"]);
    expect(found[0]).toMatchObject({ sessionId: mine.id, characterName: "한서윤" });
    expect((await callerFor(owner).sessions.search({ q: "바닐라" })).map((m) => m.content)).toEqual([
      "네, 바닐라 시럽 듬뿍!",
      "바닐라라테 한 잔 주세요",
      expect.stringContaining("늘 마시던 바닐라 라테로 줄까요"),
    ]);
    expect(await callerFor(owner).sessions.search({ q: "50%" })).toEqual([]);
    await expect(callerFor(null).sessions.search({ q: "바닐라" })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("keeps every procedure scoped to its owner", async () => {
    const owner = callerFor(await createUser(db));
    const other = callerFor(await createUser(db));
    const session = await owner.sessions.create({ characterId: "preset-aria" });
    for (const attempt of [
      () => other.sessions.rename({ id: session.id, title: "x" }),
      () => other.sessions.update({ id: session.id, model: "x" }),
      () => other.sessions.delete({ id: session.id }),
      () => other.sessions.clear({ id: session.id }),
      () => other.sessions.stats({ id: session.id }),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ code: "NOT_FOUND" });
    }
    expect((await owner.sessions.get({ id: session.id })).session.title).toBeNull();
  });
});
