import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeOllama, type FakeOllama } from "@/e2e/fakes/ollama";
import { startFakeSovits, type FakeSovits } from "@/e2e/fakes/sovits";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import type { SessionSettings } from "@/lib/schemas";
import { messages } from "@/server/db/schema";
import { SessionModel } from "@/server/sessions/model";
import { readWav } from "@/server/tts/wav";
import type { PositionedEvent } from "./live-reply";
import { ChatService } from "./service";
import { replyAudio, spokenSentences } from "./speaker";

let ollama: FakeOllama;
let sovits: FakeSovits;
const { db, sql } = testDatabase();

const REPLY = '*창밖을 바라보며* 좋은 아침이에요, 함장님. 오늘은 항로가 맑아요! 혹시 "별자리 이야기"를 들려드릴까요?';
const SPOKEN = ["좋은 아침이에요, 함장님.", "오늘은 항로가 맑아요!", '혹시 "별자리 이야기"를 들려드릴까요?'];

beforeAll(async () => {
  ollama = await startFakeOllama({ port: 0, tokenDelayMs: 30 });
  sovits = await startFakeSovits({ port: 0, latencyMs: 5 });
  Object.assign(process.env, { OLLAMA_HOST: ollama.url, SOVITS_URL: sovits.url });
});
afterAll(async () => {
  await Promise.all([ollama.close(), sovits.close()]);
  await sql.end();
});
beforeEach(() => {
  ollama.reset();
  sovits.reset();
  ollama.setBehaviour({ tokenDelayMs: 30, reply: REPLY });
});

async function chatWith(settings: Partial<SessionSettings>) {
  const user = await createUser(db);
  const session = await new SessionModel(db, user.id).create({ characterId: "preset-aria", settings });
  return { user, session, chat: new ChatService(db, user) };
}

async function readAll(events: AsyncIterable<PositionedEvent>) {
  const seen: PositionedEvent["event"][] = [];
  for await (const { event } of events) seen.push(event);
  return seen;
}

const ttsTexts = () => sovits.requests.filter((r) => r.path === "/tts").map((r) => (r.params as { text: string }).text);

describe("realtime speech", () => {
  it("speaks each sentence as soon as it is written, in order, without the narration", async () => {
    const { session, chat } = await chatWith({ ttsMode: "realtime" });
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "좋은 아침!" });
    const events = await readAll(chat.follow(reply.id, 0));

    const audio = events.filter((e) => e.type === "audio");
    expect(audio.map((e) => e.index)).toEqual([0, 1, 2]);
    expect(audio.map((e) => e.text)).toEqual(SPOKEN);
    expect(audio.every((e) => /^\/api\/audio\/[0-9a-f]{64}$/.test(e.url))).toBe(true);
    expect(ttsTexts()).toEqual(SPOKEN);
    // Speech starts while the reply is still being written.
    const firstAudio = events.findIndex((e) => e.type === "audio");
    const lastDelta = events.findLastIndex((e) => e.type === "delta");
    expect(firstAudio).toBeLessThan(lastDelta);
    expect(events.find((e) => e.type === "done")).toMatchObject({ status: "complete", content: REPLY });

    // The clips stay with the message, for replay.
    const [stored] = await db.select({ audio: messages.audio }).from(messages).where(eq(messages.id, reply.id));
    expect(stored?.audio).toEqual(audio.map(({ index, text, url }) => ({ index, text, url })));
  });

  it("keeps the reply when the voice server fails, and says so once", async () => {
    // (Sentences heard before would come from the cache, failing server or not.)
    const fresh = `처음 듣는 문장이에요 ${crypto.randomUUID().slice(0, 8)}. 다음 문장도 있어요.`;
    ollama.setBehaviour({ reply: fresh });
    sovits.setBehaviour({ fault: "tts-failed" });
    const { session, chat } = await chatWith({ ttsMode: "realtime" });
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "목소리 들려줘" });
    const events = await readAll(chat.follow(reply.id, 0));
    expect(events.filter((e) => e.type === "speech_error")).toEqual([expect.objectContaining({ code: "tts_failed" })]);
    expect(events.filter((e) => e.type === "audio")).toEqual([]);
    expect(events.find((e) => e.type === "done")).toMatchObject({ status: "complete", content: fresh });
    expect(ttsTexts()).toHaveLength(1);
  });

  it("stops speaking when the reply is stopped", async () => {
    ollama.setBehaviour({ tokenDelayMs: 60 });
    const { session, chat } = await chatWith({ ttsMode: "realtime" });
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "멈춰 볼게" });
    const seen: PositionedEvent["event"][] = [];
    for await (const { event } of chat.follow(reply.id, 0)) {
      seen.push(event);
      if (event.type === "audio" && event.index === 0) await chat.stop(reply.id);
    }
    expect(seen.find((e) => e.type === "done")).toMatchObject({ status: "stopped" });
    expect(seen.filter((e) => e.type === "audio").map((e) => e.index)).toEqual([0]);
    expect(ttsTexts().length).toBeLessThanOrEqual(2);
  });

  it("does not speak by itself in the other modes", async () => {
    for (const ttsMode of ["on_click", "delayed", "off"] as const) {
      sovits.reset();
      const { session, chat } = await chatWith({ ttsMode });
      const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "조용히" });
      const events = await readAll(chat.follow(reply.id, 0));
      expect(events.some((e) => e.type === "audio")).toBe(false);
      expect(ttsTexts()).toEqual([]);
    }
  });
});

describe("a reply's audio as one file", () => {
  it("joins a realtime reply's sentences, and speaks any other reply (once: then from the cache)", async () => {
    const realtime = await chatWith({ ttsMode: "realtime" });
    const spoken = await realtime.chat.send({ sessionId: realtime.session.id, clientId: crypto.randomUUID(), text: "파일로 줘" });
    await readAll(realtime.chat.follow(spoken.reply.id, 0));
    sovits.reset();
    const joined = await replyAudio(db, realtime.user.id, spoken.reply.id);
    const wav = readWav(joined.bytes);
    expect(wav).toMatchObject({ channels: 1, bitsPerSample: 16 });
    expect(joined.characterName).toBe("아리아");
    expect(ttsTexts()).toEqual([]); // the stored sentences, not spoken again

    const unique = `이 답장은 버튼으로만 들어요 ${crypto.randomUUID().slice(0, 8)}. 두 번째 문장이에요!`;
    ollama.setBehaviour({ reply: unique });
    const onClick = await chatWith({ ttsMode: "on_click" });
    const quiet = await onClick.chat.send({ sessionId: onClick.session.id, clientId: crypto.randomUUID(), text: "조용히" });
    await readAll(onClick.chat.follow(quiet.reply.id, 0));
    const first = await replyAudio(db, onClick.user.id, quiet.reply.id);
    expect(readWav(first.bytes)?.data.length).toBeGreaterThan(0);
    // Sentence by sentence, as realtime speech and reading aloud cut it (so they share the clips).
    expect(ttsTexts()).toEqual(spokenSentences(unique));
    expect(ttsTexts()).toHaveLength(2);
    const again = await replyAudio(db, onClick.user.id, quiet.reply.id);
    expect(again.bytes).toEqual(first.bytes);
    expect(ttsTexts()).toHaveLength(2);

    // Someone else's reply does not exist for you; a user message has no speech.
    await expect(replyAudio(db, realtime.user.id, quiet.reply.id)).rejects.toMatchObject({ code: "not_found" });
    await expect(replyAudio(db, onClick.user.id, quiet.userMessage.id)).rejects.toMatchObject({ code: "not_found" });
  });
});
