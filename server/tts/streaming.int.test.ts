import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeSovits, type FakeSovits } from "@/e2e/fakes/sovits";
import { testDatabase } from "@/e2e/support/test-db";
import { audioClips } from "@/server/db/schema";
import { DomainError } from "@/server/errors";
import { liveClips } from "./live-audio";
import type { SovitsVoice } from "./sovits";
import { speakLive } from "./speech";
import { readWav, readWavHeader } from "./wav";

// GPT-SoVITS's streaming modes (1–3): a clip can be heard, and is served, while it is still being
// synthesised; it is kept only once complete, and a stream that breaks off or carries api_v2's
// silence is a failure that keeps nothing.

const { db, sql } = testDatabase();
let sovits: FakeSovits;

const voice: SovitsVoice = {
  refAudioPath: "presets/streaming.wav",
  promptText: "안녕하세요.",
  promptLang: "ko",
  auxRefAudioPaths: [],
  params: {},
};

beforeAll(async () => {
  // A first chunk after 150 ms, then 0.4 s of synthesis per second of audio: a sentence of a few
  // seconds takes a good while longer to finish than to start.
  sovits = await startFakeSovits({ port: 0, latencyMs: 150, perAudioSecondMs: 400 });
  process.env.SOVITS_URL = sovits.url;
});
beforeEach(() => sovits.reset());
afterAll(async () => {
  await sovits.close();
  await sql.end();
});

const unique = () => crypto.randomUUID().slice(0, 8);
const stored = async (key: string) => (await db.select().from(audioClips).where(eq(audioClips.key, key)))[0];

/** Everything a live clip's readers get, as one buffer (throws if the stream fails). */
async function readAll(key: string) {
  const clip = liveClips.get(key);
  if (!clip) throw new Error("not live");
  const parts: Buffer[] = [];
  for await (const part of clip.read()) parts.push(part);
  return Buffer.concat(parts);
}

describe("streaming speech", () => {
  it("is heard before it is complete, served as it grows, then kept whole", async () => {
    const text = `스트리밍으로 읽는 꽤 긴 문장이에요, 첫 소리는 금방 나와요 ${unique()}.`;
    let finishedAt = 0;
    const clip = await speakLive(db, voice, text, "wav", { owner: "ann", streamingMode: 2 });
    const heardAt = performance.now();
    void clip.done.then(() => (finishedAt = performance.now()));
    expect(clip).toMatchObject({ live: true, cached: false, url: `/api/audio/${clip.key}?live=1` });
    expect(finishedAt).toBe(0);
    expect(await stored(clip.key)).toBeUndefined();
    expect(sovits.requests.find((r) => r.path === "/tts")?.params).toMatchObject({ streaming_mode: 2, media_type: "wav" });

    // A reader that comes now gets the header and every sample, from the first, as they arrive.
    const streamed = await readAll(clip.key);
    await clip.done;
    expect(finishedAt).toBeGreaterThan(heardAt);
    const header = readWavHeader(streamed);
    expect(header).toMatchObject({ format: { sampleRate: 32000, channels: 1, bitsPerSample: 16 } });

    // Kept whole, with its sizes written in, under the same key; no longer live.
    const row = await stored(clip.key);
    const wav = readWav(row!.bytes)!;
    expect(wav.sampleRate).toBe(32000);
    expect(row!.bytes.readUInt32LE(40)).toBe(wav.data.length);
    if (header === null || header === "incomplete") throw new Error("no header");
    expect(streamed.subarray(header.dataOffset).equals(wav.data)).toBe(true);
    expect(liveClips.has(clip.key)).toBe(false);

    // Asked again: from the cache, complete, without GPT-SoVITS.
    const again = await speakLive(db, voice, text, "wav", { owner: "ann", streamingMode: 2 });
    expect(again).toMatchObject({ key: clip.key, cached: true, live: false });
    expect(sovits.requests.filter((r) => r.path === "/tts")).toHaveLength(1);
  });

  it("keeps nothing of a stream that breaks off, and ends its readers' streams with an error", async () => {
    sovits.setBehaviour({ fault: "cut-stream", faultCount: 1 });
    const text = `중간에 끊기는 문장이에요, 끝까지 가지 못해요 ${unique()}.`;
    const clip = await speakLive(db, voice, text, "wav", { owner: "ann", streamingMode: 3 });
    expect(clip.live).toBe(true);
    const reading = readAll(clip.key);
    await expect(clip.done).rejects.toMatchObject({ code: "tts_failed" });
    await expect(reading).rejects.toThrow();
    expect(await stored(clip.key)).toBeUndefined();
    expect(liveClips.has(clip.key)).toBe(false);
  });

  it("never serves api_v2's 16 kHz silence live: the failure is found before anyone hears it", async () => {
    sovits.setBehaviour({ fault: "inference-error", faultCount: 1 });
    const text = `추론이 실패하는 문장이에요 ${unique()}.`;
    const attempt = speakLive(db, voice, text, "wav", { owner: "ann", streamingMode: 2 });
    await expect(attempt).rejects.toBeInstanceOf(DomainError);
    await expect(attempt).rejects.toMatchObject({ code: "tts_failed" });
    expect(liveClips.size).toBe(0);
    const requests = sovits.requests.filter((r) => r.path === "/tts");
    expect(requests).toHaveLength(1);
  });

  it("drops a streamed sentence still waiting for its turn: it is never sent", async () => {
    const first = speakLive(db, voice, `먼저 읽는 문장이에요 ${unique()}.`, "wav", { owner: "ann", streamingMode: 2 });
    const stop = new AbortController();
    const second = speakLive(db, voice, `읽지 않을 문장이에요 ${unique()}.`, "wav", { owner: "bob", streamingMode: 2, signal: stop.signal });
    stop.abort(new Error("stopped"));
    await expect(second).rejects.toThrow("stopped");
    await (await first).done;
    // Give the queue its turn: nothing else goes out.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sovits.requests.filter((r) => r.path === "/tts")).toHaveLength(1);
  });
});
