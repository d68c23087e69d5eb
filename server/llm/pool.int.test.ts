import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MODELS, startFakeOllama, type FakeOllama } from "@/e2e/fakes/ollama";
import { isolatedDatabase } from "@/e2e/support/isolated-db";
import { freePort } from "@/e2e/support/ports";
import { users } from "@/server/db/schema";
import { ChatService } from "@/server/chat/service";
import { checkHealth } from "@/server/health";
import { SessionModel } from "@/server/sessions/model";
import { listModels } from "./ollama";

// Two GPU servers, each writing one reply at a time (the second has only the default model), and
// a third that is down.
let first: FakeOllama;
let second: FakeOllama;
let isolated: Awaited<ReturnType<typeof isolatedDatabase>>;
let gone: string;

beforeAll(async () => {
  first = await startFakeOllama({ port: 0, tokenDelayMs: 30 });
  second = await startFakeOllama({ port: 0, tokenDelayMs: 30, models: DEFAULT_MODELS.filter((m) => m.name === "qwen2.5:7b") });
  gone = `http://127.0.0.1:${await freePort()}`;
  // A third server that is down: nobody knows until a request finds out.
  process.env.OLLAMA_HOST = `${first.url},${second.url},${gone}`;
  process.env.OLLAMA_NUM_PARALLEL = "1";
  isolated = await isolatedDatabase();
}, 60_000);
afterAll(async () => {
  await Promise.all([first.close(), second.close()]);
  await isolated?.drop();
});

async function newChat(model?: string) {
  const [user] = await isolated.db.insert(users).values({ email: `${crypto.randomUUID()}@example.com`, name: "풀" }).returning();
  const session = await new SessionModel(isolated.db, user!.id).create({ characterId: "preset-hermione", ...(model ? { model } : {}) });
  return { chat: new ChatService(isolated.db, user!), session };
}

async function replyOf(chat: ChatService, sessionId: string) {
  const { reply } = await chat.send({ sessionId, clientId: crypto.randomUUID(), text: "안녕" });
  let last;
  for await (const { event } of chat.follow(reply.id, 0)) last = event;
  return last;
}

describe("a pool of Ollama servers", () => {
  it("moves a reply that met the down server to one that works, and skips that server from then on", async () => {
    const chats = await Promise.all([newChat(), newChat(), newChat()]);
    const results = await Promise.all(chats.map(({ chat, session }) => replyOf(chat, session.id)));
    for (const result of results) expect(result).toMatchObject({ type: "done", status: "complete" });
    // The third went to the down server first (nothing knew yet), then to a working one.
    expect(first.requests.length + second.requests.length).toBeGreaterThanOrEqual(3);
  });

  it("spreads replies over the servers: two at once run on both, none waits", async () => {
    const a = await newChat();
    const b = await newChat();
    const [ra, rb] = await Promise.all([replyOf(a.chat, a.session.id), replyOf(b.chat, b.session.id)]);
    expect(ra).toMatchObject({ type: "done", status: "complete" });
    expect(rb).toMatchObject({ type: "done", status: "complete" });
    // Each server wrote one of them (titles may follow on either).
    expect(first.requests.length).toBeGreaterThanOrEqual(1);
    expect(second.requests.length).toBeGreaterThanOrEqual(1);
  });

  it("sends a model only to the servers that have it, once their lists are known", async () => {
    await listModels();
    const onlyFirst = "llama3.2:3b";
    const before = second.requests.length;
    const chats = await Promise.all([newChat(onlyFirst), newChat(onlyFirst)]);
    const results = await Promise.all(chats.map(({ chat, session }) => replyOf(chat, session.id)));
    for (const result of results) expect(result).toMatchObject({ type: "done", status: "complete" });
    expect(second.requests.slice(before).filter((r) => (r as { model?: string }).model === onlyFirst)).toEqual([]);
  });

  it("reports each server's state to a signed-in user, without addresses, and only up/down to a visitor", async () => {
    const signedIn = await checkHealth(isolated.db, { signedIn: true });
    expect(signedIn.services.llm.status).toBe("ok");
    expect(signedIn.services.llm.servers).toEqual(["ok", "ok", "down"]);
    expect(JSON.stringify(signedIn)).not.toContain("127.0.0.1");
    const visitor = await checkHealth(isolated.db, { signedIn: false });
    expect(visitor.services.llm).toEqual({ status: "ok" });
  });
});
