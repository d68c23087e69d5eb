import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { startFakeOllama, type FakeOllama } from "@/e2e/fakes/ollama";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import { SessionModel } from "@/server/sessions/model";
import type { PositionedEvent } from "./live-reply";
import { ChatService } from "./service";
import { checkRateLimit } from "./slots";

const root = path.resolve(import.meta.dirname, "../..");
const LIMITS = { MAX_CONCURRENT_GENERATIONS: "2", GENERATION_LEASE_MS: "1500", OLLAMA_STREAM_IDLE_MS: "800", OLLAMA_FIRST_TOKEN_MS: "1000", CHAT_MESSAGES_PER_MINUTE: "4" };

let ollama: FakeOllama;
const { db, sql } = testDatabase();
const workers: ChildProcess[] = [];

beforeAll(async () => {
  ollama = await startFakeOllama({ port: 0, tokenDelayMs: 5 });
  Object.assign(process.env, LIMITS, { OLLAMA_HOST: ollama.url });
});
afterAll(async () => {
  for (const worker of workers) worker.kill("SIGKILL");
  await ollama.close();
  await sql.end();
});
beforeEach(() => ollama.reset());

async function readAll(events: AsyncIterable<PositionedEvent>) {
  const seen: PositionedEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

async function contentsOf(sessionId: string) {
  const rows = await sql<{ content: string }[]>`select content from messages where session_id = ${sessionId} order by seq`;
  return rows.map((r) => r.content);
}

async function newChats(count: number) {
  const user = await createUser(db);
  const sessions = new SessionModel(db, user.id);
  const ids = [];
  for (let i = 0; i < count; i++) ids.push((await sessions.create({ characterId: "preset-aria" })).id);
  return { user, ids, chat: new ChatService(db, user) };
}

/** Another app process on the same database; resolves with its send results. */
function startWorker(userId: string, sessionIds: string[]) {
  const worker = spawn(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "e2e/support/generation-worker.ts", userId, ...sessionIds], {
    cwd: root,
    // `server-only` modules load outside Next.js under the react-server condition, as in Next itself.
    env: { ...process.env, ...LIMITS, DATABASE_URL: inject("databaseUrl"), OLLAMA_HOST: ollama.url, NODE_OPTIONS: "--conditions=react-server" },
    stdio: ["pipe", "pipe", "inherit"],
  });
  workers.push(worker);
  const line = new Promise<{ ok: boolean; code?: string }[]>((resolve, reject) => {
    createInterface({ input: worker.stdout! }).once("line", (text) => resolve(JSON.parse(text)));
    worker.once("exit", (code) => reject(new Error(`worker exited (${code})`)));
  });
  return { worker, results: line };
}

describe("MAX_CONCURRENT_GENERATIONS across app instances", () => {
  it("holds across two processes, says busy at once, and returns a crashed instance's slots by themselves", async () => {
    ollama.setBehaviour({ tokenDelayMs: 300 });
    const a = await newChats(2);
    const b = await newChats(2);

    const first = startWorker(a.user.id, a.ids);
    expect(await first.results).toEqual([
      { ok: true, replyId: expect.any(String) },
      { ok: true, replyId: expect.any(String) },
    ]);
    const second = startWorker(b.user.id, [b.ids[0]!]);
    expect(await second.results).toEqual([{ ok: false, code: "busy" }]);
    // This process shares the limit too: "busy" comes from the send itself (nothing waits in a queue).
    const before = await contentsOf(b.ids[1]!);
    await expect(b.chat.send({ sessionId: b.ids[1]!, clientId: crypto.randomUUID(), text: "지금?" })).rejects.toMatchObject({ code: "busy" });
    // Refused: nothing was written.
    expect(await contentsOf(b.ids[1]!)).toEqual(before);

    // The first instance crashes while both its replies are being written.
    first.worker.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 2_000));
    ollama.setBehaviour({ tokenDelayMs: 1 });
    const { reply } = await b.chat.send({ sessionId: b.ids[1]!, clientId: crypto.randomUUID(), text: "이제는?" });
    const events = await readAll(b.chat.follow(reply.id, 0));
    expect(events.at(-1)?.event).toMatchObject({ type: "done", status: "complete" });
  });
});

describe("Stop across app instances", () => {
  it("ends a reply another instance is writing: its writer stops the model, and a reader here sees it end, marked stopped", async () => {
    ollama.setBehaviour({ tokenDelayMs: 150 });
    const a = await newChats(1);
    const writer = startWorker(a.user.id, a.ids);
    const [sent] = (await writer.results) as { ok: boolean; replyId: string }[];
    expect(sent?.ok).toBe(true);
    const replyId = sent!.replyId;
    // Wait (without a clock) until the other instance has written something.
    for (let i = 0; i < 200 && (await sql<{ content: string }[]>`select content from messages where id = ${replyId}`)[0]?.content === ""; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const abortedBefore = ollama.stats.abortedChatStreams;

    // Stop is pressed on this instance, which is not writing the reply.
    expect(await a.chat.stop(replyId)).toEqual({ stopped: true });
    const events = await readAll(a.chat.follow(replyId, 0));
    const last = events.at(-1)?.event;
    expect(last).toMatchObject({ type: "done", status: "stopped" });
    const text = events.filter((e) => e.event.type === "delta").map((e) => (e.event as { text: string }).text).join("");
    expect(text.length).toBeGreaterThan(0);
    // The writer closed its connection to the model (the fake saw the stream aborted)…
    expect(ollama.stats.abortedChatStreams).toBeGreaterThan(abortedBefore);
    // …and saved it as stopped with what it had: it is not written on as complete later.
    const [row] = await sql<{ status: string; content: string }[]>`select status, content from messages where id = ${replyId}`;
    expect(row).toEqual({ status: "stopped", content: (last as { content: string }).content });
    writer.worker.stdin?.end();
  });
});

describe("failures and limits", () => {
  it("cuts off a server that never answers and says so, keeping the message", async () => {
    ollama.setBehaviour({ fault: "hang" });
    const { ids, chat } = await newChats(1);
    const { userMessage, reply } = await chat.send({ sessionId: ids[0]!, clientId: crypto.randomUUID(), text: "대답해 줘" });
    const last = (await readAll(chat.follow(reply.id, 0))).at(-1)?.event;
    expect(last).toMatchObject({ type: "error", code: "llm_timeout" });
    expect(userMessage.content).toBe("대답해 줘");
  });

  it("cuts off a stream that stalls mid-reply and keeps the partial text", async () => {
    ollama.setBehaviour({ fault: "stall" });
    const { ids, chat } = await newChats(1);
    const { reply } = await chat.send({ sessionId: ids[0]!, clientId: crypto.randomUUID(), text: "계속 말해 줘" });
    const events = await readAll(chat.follow(reply.id, 0));
    expect(events.at(-1)?.event).toMatchObject({ type: "error", code: "llm_timeout" });
    expect(events.filter((e) => e.event.type === "delta").length).toBeGreaterThan(0);
  });

  it("recovers without a restart once the server is back", async () => {
    ollama.setBehaviour({ fault: "http500", faultCount: 1 });
    const { ids, chat } = await newChats(1);
    const failed = await chat.send({ sessionId: ids[0]!, clientId: crypto.randomUUID(), text: "첫 시도" });
    expect((await readAll(chat.follow(failed.reply.id, 0))).at(-1)?.event).toMatchObject({ type: "error", code: "llm_failed" });
    const retried = await chat.retry(failed.reply.id);
    expect((await readAll(chat.follow(retried.id, 0))).at(-1)?.event).toMatchObject({ type: "done", status: "complete" });
  });

  it("limits one account's replies per minute", async () => {
    const { ids, chat } = await newChats(1);
    for (let i = 0; i < 4; i++) {
      const { reply } = await chat.send({ sessionId: ids[0]!, clientId: crypto.randomUUID(), text: `메시지 ${i}` });
      await readAll(chat.follow(reply.id, 0));
    }
    await expect(chat.send({ sessionId: ids[0]!, clientId: crypto.randomUUID(), text: "하나 더" })).rejects.toMatchObject({ code: "rate_limited" });
    expect(await contentsOf(ids[0]!)).not.toContain("하나 더");
    expect((await contentsOf(ids[0]!)).filter((c) => c.startsWith("메시지"))).toHaveLength(4);
  });

  it("holds the per-minute limit when sends arrive together on two instances: exactly the limit gets through", async () => {
    const user = await createUser(db);
    // Two pools on one database, as two app instances; twelve takings at once, four allowed.
    const other = testDatabase();
    try {
      const attempts = Array.from({ length: 12 }, (_, i) => checkRateLimit(i % 2 === 0 ? db : other.db, user.id).then(
        () => "taken",
        (error: { code?: string }) => error.code,
      ));
      const results = await Promise.all(attempts);
      expect(results.filter((r) => r === "taken")).toHaveLength(4);
      expect(results.filter((r) => r === "rate_limited")).toHaveLength(8);
    } finally {
      await other.sql.end();
    }
  });

  it("gives the allowance back to a send refused for want of a slot", async () => {
    ollama.setBehaviour({ tokenDelayMs: 60 });
    const { ids, chat } = await newChats(4);
    // Four at once (the limit) with two slots: two are written, two refused as busy, changing nothing.
    const first = await Promise.allSettled(ids.map((sessionId) => chat.send({ sessionId, clientId: crypto.randomUUID(), text: "동시에" })));
    const written = first.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    expect(written).toHaveLength(2);
    expect(first.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(["busy", "busy"]);
    for (const { reply } of written) await readAll(chat.follow(reply.id, 0));
    // Two of the four used: two more go through, then the limit.
    for (let i = 0; i < 2; i++) {
      const { reply } = await chat.send({ sessionId: ids[i]!, clientId: crypto.randomUUID(), text: `이어서 ${i}` });
      await readAll(chat.follow(reply.id, 0));
    }
    await expect(chat.send({ sessionId: ids[2]!, clientId: crypto.randomUUID(), text: "하나 더" })).rejects.toMatchObject({ code: "rate_limited" });
  });
});
