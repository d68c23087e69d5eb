import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { startFakeSovits, type FakeSovits } from "@/e2e/fakes/sovits";
import { callersOn } from "@/e2e/support/test-caller";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import { audioClips } from "@/server/db/schema";
import { eq } from "drizzle-orm";
import { immutableBytesResponse } from "@/server/http/byte-range";
import { audioKeyOf, speak } from "./speech";
import { readWav } from "./wav";

const { db, sql } = testDatabase();
let sovits: FakeSovits;
type User = Awaited<ReturnType<typeof createUser>>;
let owner: User;
let other: User;

beforeAll(async () => {
  sovits = await startFakeSovits({ port: 0, latencyMs: 5 });
  process.env.SOVITS_URL = sovits.url;
  [owner, other] = [await createUser(db, "목소리 주인"), await createUser(db, "다른 사람")];
});
beforeEach(() => sovits.reset());
afterAll(async () => {
  await sovits.close();
  await sql.end();
});

const callerFor = callersOn(db);

const ttsRequests = () => sovits.requests.filter((r) => r.path === "/tts");
const keyOf = audioKeyOf;

async function clip(key: string) {
  const [row] = await db.select().from(audioClips).where(eq(audioClips.key, key));
  return row;
}

describe("voices.synthesize", () => {
  it("speaks through GPT-SoVITS with the voice's parameters and caches the audio by content", async () => {
    const voice = await callerFor(owner).voices.create({
      name: "내 목소리",
      refAudioPath: "presets/me.wav",
      promptText: "안녕하세요, 반갑습니다.",
      promptLang: "ko",
      params: { speedFactor: 1.2, topK: 20, textSplitMethod: "cut2" },
    });
    const text = "오늘 날씨가 정말 좋네요. 산책 갈까요?";
    const first = await callerFor(owner).voices.synthesize({ text, voiceId: voice.id });
    expect(first).toMatchObject({ cached: false, url: expect.stringMatching(/^\/api\/audio\/[0-9a-f]{64}$/) });
    expect(ttsRequests()).toHaveLength(1);
    expect(ttsRequests()[0]).toMatchObject({
      method: "POST",
      params: {
        text,
        text_lang: "ko",
        ref_audio_path: "presets/me.wav",
        prompt_text: "안녕하세요, 반갑습니다.",
        prompt_lang: "ko",
        speed_factor: 1.2,
        top_k: 20,
        text_split_method: "cut2",
        media_type: "wav",
        streaming_mode: 0,
      },
    });
    const stored = await clip(keyOf(first.url));
    expect(stored?.contentType).toBe("audio/wav");
    expect(stored?.bytes.subarray(0, 4).toString("latin1")).toBe("RIFF");

    // The same words in the same voice: from the cache, for anyone who may use the voice.
    const again = await callerFor(owner).voices.synthesize({ text: `  ${text} `, voiceId: voice.id });
    expect(again).toEqual({ ...first, cached: true });
    expect(ttsRequests()).toHaveLength(1);
    const preset = await callerFor(owner).voices.synthesize({ text, voiceId: "preset-voice-warm" });
    const presetForOther = await callerFor(other).voices.synthesize({ text, voiceId: "preset-voice-warm" });
    expect(presetForOther).toEqual({ ...preset, cached: true });
    expect(preset.url).not.toBe(first.url);
    expect(ttsRequests()).toHaveLength(2);
  });

  it("says which language the text is in", async () => {
    const cases = [
      ["Good morning, captain.", "en"],
      ["おはようございます。", "ja"],
      ["早上好。", "zh"],
      ["오늘은 OK 사인이 났어요", "ko"],
    ] as const;
    for (const [text, lang] of cases) {
      sovits.reset();
      await callerFor(owner).voices.synthesize({ text, voiceId: "preset-voice-calm" });
      expect(ttsRequests()[0]?.params).toMatchObject({ text_lang: lang });
    }
  });

  it("needs a voice the caller may use, sign-in, and text within limits", async () => {
    const mine = await callerFor(owner).voices.create({ name: "비밀", refAudioPath: "presets/secret.wav", promptLang: "ko" });
    await expect(callerFor(other).voices.synthesize({ text: "안녕", voiceId: mine.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(callerFor(null).voices.synthesize({ text: "안녕", voiceId: "preset-voice-calm" })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    for (const text of ["", "   ", "가".repeat(1001)]) {
      await expect(callerFor(owner).voices.synthesize({ text, voiceId: "preset-voice-calm" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    }
    expect(ttsRequests()).toHaveLength(0);
  });

  it("reports a failing or unreachable voice server clearly and caches nothing", async () => {
    sovits.setBehaviour({ fault: "tts-failed", faultCount: 1 });
    const text = "실패할 문장이에요.";
    await expect(callerFor(owner).voices.synthesize({ text, voiceId: "preset-voice-calm" })).rejects.toMatchObject({
      code: "BAD_GATEWAY",
      cause: { code: "tts_failed" },
    });
    // Nothing was cached: the next try reaches the server again and succeeds.
    const retried = await callerFor(owner).voices.synthesize({ text, voiceId: "preset-voice-calm" });
    expect(retried.cached).toBe(false);

    sovits.setBehaviour({ fault: "cut-stream", faultCount: 1 });
    await expect(callerFor(owner).voices.synthesize({ text: "중간에 끊겨요.", voiceId: "preset-voice-calm" })).rejects.toMatchObject({
      cause: { code: "tts_failed" },
    });

    // The server goes away, then comes back on the same port: the app needs no restart.
    await sovits.close();
    await expect(callerFor(owner).voices.synthesize({ text: "서버가 없어요.", voiceId: "preset-voice-calm" })).rejects.toMatchObject({
      code: "SERVICE_UNAVAILABLE",
      cause: { code: "tts_unavailable" },
    });
    sovits = await startFakeSovits({ port: sovits.port, latencyMs: 5 });
    expect((await callerFor(owner).voices.synthesize({ text: "서버가 없어요.", voiceId: "preset-voice-calm" })).cached).toBe(false);
  });
});

describe("GPT-SoVITS's silent failures", () => {
  const clipCount = async () => (await db.select({ key: audioClips.key }).from(audioClips)).length;

  it("take a 200 with 16 kHz silence for a sentence as a failure, say so without the server's words, and cache nothing", async () => {
    const log = vi.spyOn(console, "warn").mockImplementation(() => {});
    sovits.setBehaviour({ fault: "inference-error", faultCount: 1 });
    const text = `메모리가 모자란 문장이에요 ${crypto.randomUUID().slice(0, 8)}.`;
    const before = await clipCount();
    await expect(callerFor(owner).voices.synthesize({ text, voiceId: "preset-voice-calm" })).rejects.toMatchObject({
      code: "BAD_GATEWAY",
      cause: { code: "tts_failed", message: "The voice server could not speak this.", params: {} },
    });
    expect(await clipCount()).toBe(before);
    expect(log.mock.calls.map((call) => call.join(" ")).join("\n")).toMatch(/16000 Hz silence: its inference failed/);
    log.mockRestore();

    // The failure was not remembered: the same sentence is synthesised again, and kept this time.
    const retried = await callerFor(owner).voices.synthesize({ text, voiceId: "preset-voice-calm" });
    expect(retried.cached).toBe(false);
    expect(await clipCount()).toBe(before + 1);
    expect(ttsRequests()).toHaveLength(2);
  });

  it("keep the silence of a text with nothing to say: that is the server's real answer", async () => {
    const nothing = await speak(db, { refAudioPath: "presets/calm_male_ko.wav", promptText: "", promptLang: "ko", auxRefAudioPaths: [], params: {} }, "……", "wav");
    const stored = await clip(nothing.key);
    expect(readWav(stored!.bytes)).toMatchObject({ sampleRate: 16000 });
  });
});

describe("voices.preview", () => {
  it("speaks a sample line in the voice's language", async () => {
    const preview = await callerFor(owner).voices.preview({ voiceId: "preset-voice-calm" });
    expect(preview.text).toMatch(/\p{Script=Hangul}/u);
    expect(ttsRequests()[0]?.params).toMatchObject({ text: preview.text, text_lang: "ko" });
    const english = await callerFor(owner).voices.create({ name: "English", refAudioPath: "presets/en.wav", promptLang: "en" });
    expect((await callerFor(owner).voices.preview({ voiceId: english.id })).text).toBe("Hello! What story shall I tell you today?");
  });
});

describe("serving audio", () => {
  const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
  const serve = (headers: Record<string, string> = {}, method = "GET") =>
    immutableBytesResponse(new Request("http://app/api/audio/k", { method, headers }), { bytes, contentType: "audio/wav", etag: "k" });

  it("sends everything with a strong ETag and a year of immutable caching", async () => {
    const response = serve();
    expect(response.status).toBe(200);
    expect(response.headers.get("etag")).toBe('"k"');
    expect(response.headers.get("cache-control")).toContain("immutable");
    expect(response.headers.get("accept-ranges")).toBe("bytes");
    expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes);
    expect(serve({ "if-none-match": '"k"' }).status).toBe(304);
  });

  it("answers byte ranges so the player can seek", async () => {
    const middle = serve({ range: "bytes=100-199" });
    expect(middle.status).toBe(206);
    expect(middle.headers.get("content-range")).toBe("bytes 100-199/1000");
    expect(Buffer.from(await middle.arrayBuffer())).toEqual(bytes.subarray(100, 200));
    expect(serve({ range: "bytes=990-" }).headers.get("content-range")).toBe("bytes 990-999/1000");
    expect(serve({ range: "bytes=-10" }).headers.get("content-range")).toBe("bytes 990-999/1000");
    expect(serve({ range: "bytes=900-5000" }).headers.get("content-range")).toBe("bytes 900-999/1000");
    const beyond = serve({ range: "bytes=1000-" });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe("bytes */1000");
    // Several ranges or nonsense: the whole file, which the RFC allows.
    expect(serve({ range: "bytes=0-1,5-6" }).status).toBe(200);
    expect(serve({ range: "items=0-1" }).status).toBe(200);
    // A stale partial copy (If-Range with another validator) gets everything.
    expect(serve({ range: "bytes=0-9", "if-range": '"other"' }).status).toBe(200);
    const head = serve({ range: "bytes=0-9" }, "HEAD");
    expect(head.status).toBe(206);
    expect(head.headers.get("content-length")).toBe("10");
    expect(await head.text()).toBe("");
  });
});
