import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeOllama, type FakeOllama } from "@/e2e/fakes/ollama";
import { startFakeSovits, type FakeSovits } from "@/e2e/fakes/sovits";
import { callersOn } from "@/e2e/support/test-caller";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import type { SessionSettings } from "@/lib/schemas";
import { audioClips, messages, voices } from "@/server/db/schema";
import { SessionModel } from "@/server/sessions/model";
import { synthesesInFlight } from "@/server/tts/sovits";
import { speak } from "@/server/tts/speech";
import type { PositionedEvent, SpeechEvent } from "./live-reply";
import { ChatService } from "./service";
import { spokenSentences } from "./speaker";

// GPT-SoVITS speaks one request at a time and can't take one back (the fake is as strict):
// these check that speech waits in the app's queue, where it can still be dropped.

let ollama: FakeOllama;
let sovits: FakeSovits;
const { db, sql } = testDatabase();
const callerFor = callersOn(db);

beforeAll(async () => {
  // Two replies at once, so their speech can compete for the voice server.
  ollama = await startFakeOllama({ port: 0, tokenDelayMs: 5, numParallel: 2 });
  sovits = await startFakeSovits({ port: 0, latencyMs: 5 });
  Object.assign(process.env, { OLLAMA_HOST: ollama.url, SOVITS_URL: sovits.url, OLLAMA_NUM_PARALLEL: "2", SOVITS_CONCURRENCY: "1" });
});
afterAll(async () => {
  await Promise.all([ollama.close(), sovits.close()]);
  await sql.end();
});
beforeEach(() => {
  ollama.reset();
  sovits.reset();
});

/** Words no earlier test spoke, so nothing comes from the audio cache. */
const fresh = () => crypto.randomUUID().slice(0, 8);
const ttsTexts = () => sovits.requests.filter((r) => r.path === "/tts").map((r) => (r.params as { text: string }).text);
const ttsVoices = () => sovits.requests.filter((r) => r.path === "/tts").map((r) => (r.params as { ref_audio_path: string }).ref_audio_path);

async function realtimeChat(characterId: string, settings: Partial<SessionSettings> = { ttsMode: "realtime" }) {
  const user = await createUser(db);
  const session = await new SessionModel(db, user.id).create({ characterId, settings });
  return { user, session, chat: new ChatService(db, user) };
}

async function readAll(events: AsyncIterable<PositionedEvent>) {
  const seen: PositionedEvent["event"][] = [];
  for await (const { event } of events) seen.push(event);
  return seen;
}

/**
 * Speaks one sentence as another user and waits for it. It joins the voice server's queue after
 * whatever is waiting there, so once it is spoken, anything that was still waiting before it has
 * been sent too: what was not sent by then was dropped.
 */
async function speakAfterTheQueue() {
  const [voice] = await db.select().from(voices).where(eq(voices.id, "preset-voice-warm"));
  const text = `줄 끝에 선 문장이에요 ${fresh()}.`;
  await speak(db, voice!, text, "wav", { owner: `probe-${fresh()}` });
  return text;
}

describe("realtime speech in the voice server's queue", () => {
  it("drops a stopped reply's sentences still waiting: they are never sent to the voice server", async () => {
    const tag = fresh();
    const reply = `첫 문장이에요 ${tag}. 두 번째 문장이에요 ${tag}. 세 번째 문장은 길어요 ${tag}.`;
    const [first] = spokenSentences(reply);
    ollama.setBehaviour({ reply, tokenDelayMs: 20 });
    // The first sentence is still being synthesised while the second one waits behind it.
    sovits.setBehaviour({ latencyMs: 800 });
    const { session, chat } = await realtimeChat("preset-aria");
    const { reply: message } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "말해 줘" });

    let text = "";
    let stopped = false;
    const seen: PositionedEvent["event"][] = [];
    for await (const { event } of chat.follow(message.id, 0)) {
      seen.push(event);
      if (event.type === "delta") text += event.text;
      // The third sentence has begun: the second is complete, so it is in the queue.
      if (!stopped && text.includes("세 번째")) {
        stopped = true;
        expect(ttsTexts()).toEqual([first]);
        await chat.stop(message.id);
      }
    }
    expect(seen.find((e) => e.type === "done")).toMatchObject({ status: "stopped" });
    expect(seen.filter((e) => e.type === "audio")).toEqual([]);

    sovits.setBehaviour({ latencyMs: 5 });
    const probe = await speakAfterTheQueue();
    expect(ttsTexts()).toEqual([first, probe]);
    // The one already sent was answered to the app (which keeps it in the cache), not abandoned.
    expect(sovits.stats.synthesisedAfterClientLeft).toBe(0);
  });

  it("reaches the speech of a reply whose text is complete: Stop drops its sentences still waiting", async () => {
    const tag = fresh();
    const reply = `하나예요 ${tag}. 둘이에요 ${tag}. 셋이에요 ${tag}. 넷이에요 ${tag}.`;
    const [first] = spokenSentences(reply);
    ollama.setBehaviour({ reply, tokenDelayMs: 5 });
    // The text is done long before the first sentence is spoken.
    sovits.setBehaviour({ latencyMs: 800 });
    const { session, chat } = await realtimeChat("preset-aria");
    const { reply: message } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "세어 줘" });
    const seen: PositionedEvent["event"][] = [];
    for await (const { event } of chat.follow(message.id, 0)) {
      seen.push(event);
      if (event.type === "done") {
        expect(event.status).toBe("complete");
        // Speaking the first sentence, the other three waiting in the app's queue.
        expect(ttsTexts()).toEqual([first]);
        await chat.stop(message.id);
      }
    }
    expect(seen.filter((e) => e.type === "audio")).toEqual([]);
    sovits.setBehaviour({ latencyMs: 5 });
    const probe = await speakAfterTheQueue();
    expect(ttsTexts()).toEqual([first, probe]);
    // The text stays complete: only the speech was stopped.
    const [row] = await db.select().from(messages).where(eq(messages.id, message.id));
    expect(row).toMatchObject({ status: "complete", content: reply });
  });

  it("serves two replies speaking at once one sentence at a time from the app's queue, never piling up in the voice server", async () => {
    const tag = fresh();
    const reply = `하나, 둘 ${tag}. 셋, 넷 ${tag}! 다섯, 여섯 ${tag}?`;
    ollama.setBehaviour({ reply, tokenDelayMs: 5 });
    sovits.setBehaviour({ latencyMs: 60 });
    // Different characters, different voices: no sentence of one is the other's cached clip.
    const [aria, dohyun] = [await realtimeChat("preset-aria"), await realtimeChat("preset-dohyun")];

    let waitingAtServer = 0;
    let inFlight = 0;
    const watch = setInterval(() => {
      waitingAtServer = Math.max(waitingAtServer, sovits.stats.waiting);
      inFlight = Math.max(inFlight, synthesesInFlight());
    }, 2);
    const replies = await Promise.all(
      [aria, dohyun].map(async ({ session, chat }) => {
        const { reply: message } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "세어 줘" });
        return readAll(chat.follow(message.id, 0));
      }),
    ).finally(() => clearInterval(watch));

    expect(replies).toHaveLength(2);
    for (const events of replies) {
      expect(events.filter((e) => e.type === "audio").map((e) => e.index)).toEqual([0, 1, 2]);
    }
    expect(ttsTexts()).toHaveLength(6);
    expect(new Set(ttsVoices()).size).toBe(2);
    expect(inFlight).toBe(1);
    expect(waitingAtServer).toBe(0);
  });
});

describe("chat.speak: reading a finished reply aloud", () => {
  /** A public character of `owner` speaking with `owner`'s own (private) voice, its greeting two sentences. */
  async function publicCharacterWithPrivateVoice() {
    const owner = await createUser(db, "목소리 주인");
    const tag = fresh();
    const voice = await callerFor(owner).voices.create({
      name: "나만의 목소리",
      refAudioPath: `presets/private-${tag}.wav`,
      promptText: "안녕하세요.",
      promptLang: "ko",
    });
    const character = await callerFor(owner).characters.create({
      name: "공개 캐릭터",
      greeting: `*손을 흔들며* 어서 오세요 ${tag}. 오늘은 무슨 이야기를 할까요?`,
      voiceId: voice.id,
      visibility: "public",
    });
    return { owner, voice, character };
  }

  async function greetingOf(sessionId: string) {
    const [greeting] = await db.select().from(messages).where(eq(messages.sessionId, sessionId)).orderBy(asc(messages.seq)).limit(1);
    return greeting!;
  }

  /** A reading's events (a server-side caller gets each as a tracked envelope: [id, event]). */
  async function collect(events: AsyncIterable<unknown>) {
    const seen: SpeechEvent[] = [];
    for await (const event of events) seen.push((event as [string, SpeechEvent])[1]);
    return seen;
  }

  it("speaks another user's chat with a public character in the character's voice, even when that voice is its owner's private one", async () => {
    const { voice, character } = await publicCharacterWithPrivateVoice();
    const reader = await createUser(db, "읽는 사람");
    const session = await new SessionModel(db, reader.id).create({ characterId: character.id, settings: { ttsMode: "on_click" } });
    const greeting = await greetingOf(session.id);

    const events = await collect(await callerFor(reader).chat.speak({ messageId: greeting.id }));
    const sentences = spokenSentences(greeting.content);
    expect(sentences).toHaveLength(2);
    expect(events).toEqual(sentences.map((text, index) => ({ type: "audio", index, text, url: expect.stringMatching(/^\/api\/audio\/[0-9a-f]{64}$/) })));
    expect(ttsTexts()).toEqual(sentences);
    expect(new Set(ttsVoices())).toEqual(new Set([voice.refAudioPath]));

    // The old path (synthesize with the character's voice id) can't use someone else's private voice.
    await expect(callerFor(reader).voices.synthesize({ text: sentences[0]!, voiceId: voice.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    // Read again: the same clips, from the cache.
    expect(await collect(await callerFor(reader).chat.speak({ messageId: greeting.id }))).toEqual(events);
    expect(ttsTexts()).toHaveLength(2);
    // Only the chat's own user may have it read.
    const stranger = await createUser(db, "남");
    await expect(collect(await callerFor(stranger).chat.speak({ messageId: greeting.id }))).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("ends a reading on a voice server that fails with one speech_error, caching nothing", async () => {
    const { character } = await publicCharacterWithPrivateVoice();
    const reader = await createUser(db);
    const session = await new SessionModel(db, reader.id).create({ characterId: character.id });
    const greeting = await greetingOf(session.id);
    const clipsBefore = (await db.select({ key: audioClips.key }).from(audioClips)).length;
    sovits.setBehaviour({ fault: "inference-error" });

    const events = await collect(await callerFor(reader).chat.speak({ messageId: greeting.id }));
    expect(events).toEqual([{ type: "speech_error", code: "tts_failed", message: "The voice server could not speak this." }]);
    // The first failure ended the reading: its second sentence was dropped before it was sent.
    expect(ttsTexts()).toHaveLength(1);
    expect((await db.select({ key: audioClips.key }).from(audioClips)).length).toBe(clipsBefore);
  });

  it("drops the sentences not yet sent when the reader stops listening", async () => {
    const reader = await createUser(db);
    const session = await new SessionModel(db, reader.id).create({ characterId: "preset-aria" });
    const tag = fresh();
    const content = `하나예요 ${tag}. 둘이에요 ${tag}. 셋이에요 ${tag}. 넷이에요 ${tag}.`;
    const [reply] = await db.insert(messages).values({ sessionId: session.id, role: "assistant", content }).returning();
    sovits.setBehaviour({ latencyMs: 300 });

    const reading = (await callerFor(reader).chat.speak({ messageId: reply!.id }))[Symbol.asyncIterator]();
    const [, first] = (await reading.next()).value as unknown as [string, SpeechEvent];
    expect(first).toMatchObject({ type: "audio", index: 0 });
    // The first is spoken and the second already sent (the server can't take it back); the rest wait.
    await reading.return?.();
    sovits.setBehaviour({ latencyMs: 5 });
    const probe = await speakAfterTheQueue();
    expect(ttsTexts()).toEqual([...spokenSentences(content).slice(0, 2), probe]);
  });
});
