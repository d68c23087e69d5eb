import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIMITS } from "@/lib/schemas";
import { callersOn } from "@/e2e/support/test-caller";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import { freePort } from "@/e2e/support/ports";

const { db, sql } = testDatabase();

beforeAll(async () => {
  // Nothing listens on these ports: the LLM and TTS servers are down for this file.
  process.env.OLLAMA_HOST = `http://127.0.0.1:${await freePort()}`;
  process.env.SOVITS_URL = `http://127.0.0.1:${await freePort()}`;
});
afterAll(() => sql.end());

const callerFor = callersOn(db);

describe("characters", () => {
  it("shows at least four Korean presets to everyone, signed in or not", async () => {
    const presets = await callerFor(null).characters.presets();
    expect(presets.length).toBeGreaterThanOrEqual(4);
    for (const preset of presets) {
      expect(preset.ownerId).toBeNull();
      expect(preset.persona).toMatch(/[가-힣]/);
      expect(preset.imageUrl).toMatch(/^\/characters\/.+\.png$/);
    }
    expect((await callerFor(null).characters.get({ id: "preset-hermione" })).name).toBe("헤르미온느 그레인저");
  });

  it("answers NOT_FOUND for an unknown character", async () => {
    await expect(callerFor(null).characters.get({ id: "nope" })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("sessions", () => {
  it("needs a signed-in user", async () => {
    await expect(callerFor(null).sessions.list()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(callerFor(null).sessions.create({ characterId: "preset-aria" })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("creates a chat whose first message is the character's greeting, with the scene pre-filled or given", async () => {
    const user = await createUser(db);
    const caller = callerFor(user);
    const session = await caller.sessions.create({ characterId: "preset-aria" });
    expect(session.scenario.situation).toBe("긴 동면에서 막 깨어난 아침, 조종실.");
    expect(session.model).toBe("qwen2.5:7b");
    expect(session.settings).toMatchObject({ temperature: 0.8, maxTokens: 1024 });
    const { messages } = await caller.sessions.messages({ sessionId: session.id });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ role: "assistant", status: "complete" });
    expect(messages[0]?.content).toContain("좋은 아침이에요, 함장님");

    const custom = await caller.sessions.create({
      characterId: "preset-aria",
      scenario: { opponent: "새로 온 정비사", situation: "엔진실", background: "" },
    });
    expect(custom.scenario).toEqual({ opponent: "새로 온 정비사", situation: "엔진실", background: "" });
    expect((await caller.sessions.list()).items.map((s) => s.id)).toEqual([custom.id, session.id]);
  });

  it("hides one user's chats from another (NOT_FOUND, never FORBIDDEN)", async () => {
    const owner = callerFor(await createUser(db));
    const other = callerFor(await createUser(db));
    const session = await owner.sessions.create({ characterId: "preset-sunja" });
    await expect(other.sessions.get({ id: session.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(other.sessions.messages({ sessionId: session.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await other.sessions.list()).items).toEqual([]);
  });

  it("rejects bad input with field errors and creates nothing", async () => {
    const user = await createUser(db);
    const caller = callerFor(user);
    const error = await caller.sessions
      .create({ characterId: "preset-aria", scenario: { opponent: "가".repeat(LIMITS.scenarioField + 1), situation: "", background: "" } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "BAD_REQUEST" });
    expect((await caller.sessions.list()).items).toEqual([]);
    await expect(caller.sessions.create({ characterId: "preset-aria", settings: { temperature: 5 } })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
  });
});

describe("chat", () => {
  it("saves the user's message even though the language model is unreachable, and says so without the server's address", async () => {
    const user = await createUser(db);
    const caller = callerFor(user);
    const session = await caller.sessions.create({ characterId: "preset-minho" });
    const { userMessage, reply } = await caller.chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "선배, 질문 있어요" });
    const events = [];
    // Server-side calls get tracked events as the raw [id, data] envelopes the procedure yields.
    for await (const event of await caller.chat.reply({ messageId: reply.id })) {
      events.push((event as unknown as [string, unknown])[1]);
    }
    expect(events.at(-1)).toMatchObject({ type: "error", code: "llm_unreachable", message: "The language model server is unreachable." });
    const { messages } = await caller.sessions.messages({ sessionId: session.id });
    expect(messages.find((m) => m.id === userMessage.id)?.content).toBe("선배, 질문 있어요");
    expect(messages.at(-1)).toMatchObject({ id: reply.id, status: "error" });
  });

  it("rejects an empty or oversized message without saving anything", async () => {
    const user = await createUser(db);
    const caller = callerFor(user);
    const session = await caller.sessions.create({ characterId: "preset-minho" });
    await expect(caller.chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "   " })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(caller.chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "가".repeat(8001) })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    expect((await caller.sessions.messages({ sessionId: session.id })).messages).toHaveLength(1);
  });
});

describe("health", () => {
  const internals = () => [process.env.OLLAMA_HOST!, process.env.SOVITS_URL!, "127.0.0.1", "ECONNREFUSED", "qwen2.5"];

  it("tells visitors only whether each dependency is up: a down LLM or TTS leaves the database ok", async () => {
    const report = await callerFor(null).health.check();
    expect(report).toEqual({
      status: "degraded",
      checkedAt: expect.any(String),
      backend: { status: "ok" },
      services: { database: { status: "ok" }, llm: { status: "down" }, tts: { status: "down" } },
    });
  });

  it("adds latency for signed-in users, and never an address, a model name or the remote error", async () => {
    const report = await callerFor(await createUser(db)).health.check();
    expect(report.services.database).toEqual({ status: "ok", latencyMs: expect.any(Number), fake: false });
    expect(report.services.llm).toEqual({ status: "down", latencyMs: expect.any(Number), fake: false });
    expect(report.services.tts.status).toBe("down");
    const text = JSON.stringify(report);
    for (const secret of internals()) expect(text).not.toContain(secret);
  });
});
