// Proves the fake speaks api_v2 and is as unkind as the real server
// (/work/shared/protocols/gpt-sovits.md). Checks order and counts, never durations.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SAMPLE_RATE, SILENCE_SAMPLE_RATE, startFakeSovits, type FakeSovits } from "./sovits";

let fake: FakeSovits;

beforeAll(async () => {
  fake = await startFakeSovits({ latencyMs: 0, perAudioSecondMs: 0 });
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.reset();
});

const voice = { ref_audio_path: "presets/hermione.wav", prompt_text: "안녕하세요.", prompt_lang: "ko" };

function post(body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${fake.url}/tts`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal,
  });
}

interface Wav {
  riffSize: number;
  format: string;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  dataSize: number;
  samples: Int16Array;
}

function parseWav(bytes: Buffer): Wav {
  return {
    riffSize: bytes.readUInt32LE(4),
    format: `${bytes.toString("ascii", 0, 4)}/${bytes.toString("ascii", 8, 12)}/${bytes.toString("ascii", 36, 40)}`,
    channels: bytes.readUInt16LE(22),
    sampleRate: bytes.readUInt32LE(24),
    bitsPerSample: bytes.readUInt16LE(34),
    dataSize: bytes.readUInt32LE(40),
    samples: new Int16Array(bytes.buffer.slice(bytes.byteOffset + 44, bytes.byteOffset + bytes.length)),
  };
}

async function wavOf(response: Response): Promise<Wav> {
  expect(response.status).toBe(200);
  return parseWav(Buffer.from(await response.arrayBuffer()));
}

function peak(samples: Int16Array): number {
  return samples.reduce((max, sample) => Math.max(max, Math.abs(sample)), 0);
}

/** The body as far as it came, and whether it ended cleanly or was cut off. */
async function readStream(response: Response): Promise<{ bytes: Buffer; cut: boolean }> {
  const reader = response.body?.getReader();
  if (!reader) throw new Error("no body");
  const chunks: Buffer[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes: Buffer.concat(chunks), cut: false };
      chunks.push(Buffer.from(value));
    }
  } catch {
    return { bytes: Buffer.concat(chunks), cut: true };
  }
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const ttsRequests = () => fake.requests.filter((request) => request.path === "/tts");

describe("fake gpt-sovits: liveness", () => {
  it("serves an openapi document that says it is a fake", async () => {
    const response = await fetch(`${fake.url}/openapi.json`);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as { info: { title: string }; paths: Record<string, unknown> };
    expect(doc.info.title).toContain("fake");
    expect(Object.keys(doc.paths)).toContain("/tts");
  });

  it("has no root route and no HEAD /tts", async () => {
    const root = await fetch(fake.url);
    expect(root.status).toBe(404);
    expect(await root.json()).toEqual({ detail: "Not Found" });
    expect((await fetch(`${fake.url}/tts`, { method: "HEAD" })).status).toBe(405);
  });
});

describe("fake gpt-sovits: one thing at a time", () => {
  it("answers /openapi.json only after the synthesis running when it arrived", async () => {
    fake.setBehaviour({ latencyMs: 200 });
    const events: string[] = [];
    const speech = post({ ...voice, text: "길게 말하는 중이야.", text_lang: "ko" }).then((response) => events.push(`tts ${response.status}`));
    await until(() => ttsRequests().length === 1);
    const probe = fetch(`${fake.url}/openapi.json`).then((response) => events.push(`openapi ${response.status}`));
    await until(() => fake.stats.waiting === 1);
    await Promise.all([speech, probe]);
    expect(events).toEqual(["tts 200", "openapi 200"]);
  });

  it("serves requests strictly in arrival order, one after another", async () => {
    fake.setBehaviour({ latencyMs: 50, perAudioSecondMs: 20 });
    const finished: string[] = [];
    const speak = (text: string) => post({ ...voice, text, text_lang: "ko" }).then(async (response) => {
      await response.arrayBuffer();
      finished.push(text);
    });
    const long = speak("첫 번째로 온 아주 긴 문장이야. 정말 길지. 끝나지 않을 것 같아!");
    await until(() => ttsRequests().length === 1);
    const short = speak("둘.");
    await until(() => fake.stats.waiting === 1);
    const admin = fetch(`${fake.url}/set_gpt_weights?weights_path=x.ckpt`).then(() => finished.push("admin"));
    await until(() => fake.stats.waiting === 2);
    const last = speak("셋.");
    await Promise.all([long, short, admin, last]);
    expect(finished).toEqual(["첫 번째로 온 아주 긴 문장이야. 정말 길지. 끝나지 않을 것 같아!", "둘.", "admin", "셋."]);
  });

  it("still synthesises a request whose client left while it waited, before serving the next", async () => {
    fake.setBehaviour({ latencyMs: 100 });
    const first = post({ ...voice, text: "먼저.", text_lang: "ko" });
    await until(() => ttsRequests().length === 1);
    const controller = new AbortController();
    const leaving = post({ ...voice, text: "기다리다 떠날게.", text_lang: "ko" }, controller.signal).catch(() => "left");
    await until(() => fake.stats.waiting === 1);
    controller.abort();
    expect(await leaving).toBe("left");
    const next = post({ ...voice, text: "다음.", text_lang: "ko" });
    expect((await first).status).toBe(200);
    expect((await next).status).toBe(200);
    expect(ttsRequests().map((request) => (request.params as { text: string }).text)).toEqual(["먼저.", "기다리다 떠날게.", "다음."]);
    expect(fake.stats).toMatchObject({ syntheses: 3, synthesisedAfterClientLeft: 1 });
  });
});

describe("fake gpt-sovits: synthesis", () => {
  it("returns a complete 32 kHz 16-bit mono WAV with an audible tone", async () => {
    const response = await post({ ...voice, text: "안녕, 나는 헤르미온느야.", text_lang: "ko" });
    expect(response.headers.get("content-type")).toBe("audio/wav");
    const length = Number(response.headers.get("content-length"));
    const wav = await wavOf(response);
    expect(wav).toMatchObject({ format: "RIFF/WAVE/data", channels: 1, sampleRate: SAMPLE_RATE, bitsPerSample: 16 });
    expect(wav.dataSize).toBe(length - 44);
    expect(wav.riffSize).toBe(length - 8);
    expect(wav.samples.length * 2).toBe(wav.dataSize);
    expect(peak(wav.samples)).toBeGreaterThan(5000);
  });

  it("makes longer text last longer", async () => {
    const short = await wavOf(await post({ ...voice, text: "안녕.", text_lang: "ko" }));
    const long = await wavOf(await post({ ...voice, text: "안녕. 오늘은 도서관에서 마법의 역사를 공부했어!", text_lang: "ko" }));
    expect(short.dataSize / 2 / SAMPLE_RATE).toBeGreaterThanOrEqual(0.3);
    expect(long.dataSize).toBeGreaterThan(short.dataSize * 3);
  });

  it("ends every fragment with fragment_interval seconds of silence, the last one included", async () => {
    const text = "첫 문장이야. 두 번째 문장!";
    const spaced = await wavOf(await post({ ...voice, text, text_lang: "ko", fragment_interval: 0.5 }));
    const tight = await wavOf(await post({ ...voice, text, text_lang: "ko", fragment_interval: 0 }));
    const halfSecond = SAMPLE_RATE / 2;
    expect(spaced.samples.length - tight.samples.length).toBe(2 * halfSecond);
    expect(peak(spaced.samples.subarray(-halfSecond))).toBe(0);
    expect(peak(spaced.samples.subarray(-halfSecond - 100, -halfSecond))).toBeGreaterThan(0);
    const byDefault = await wavOf(await post({ ...voice, text, text_lang: "ko" }));
    expect(byDefault.samples.length - tight.samples.length).toBe(2 * 0.3 * SAMPLE_RATE);
  });

  it("serves the same audio over GET with a query string, lowercasing the languages", async () => {
    const query = new URLSearchParams({ ...voice, prompt_lang: "KO", text: "Hello there.", text_lang: "EN" });
    const viaGet = await wavOf(await fetch(`${fake.url}/tts?${query}`));
    const viaPost = await wavOf(await post({ ...voice, text: "Hello there.", text_lang: "en" }));
    expect(viaGet.dataSize).toBe(viaPost.dataSize);
  });

  it("returns headerless PCM for media_type raw", async () => {
    const wav = await wavOf(await post({ ...voice, text: "Hello there.", text_lang: "en" }));
    const raw = await post({ ...voice, text: "Hello there.", text_lang: "en", media_type: "raw" });
    expect(raw.headers.get("content-type")).toBe("audio/raw");
    expect((await raw.arrayBuffer()).byteLength).toBe(wav.dataSize);
  });

  it.each([
    ["v1", {}, 32000],
    ["v2", {}, 32000],
    ["v2Pro", {}, 32000],
    ["v3", {}, 24000],
    ["v3", { super_sampling: true }, 48000],
    ["v4", {}, 48000],
  ] as const)("speaks at the rate of model version %s %j: %i Hz", async (version, extra, rate) => {
    fake.setBehaviour({ version });
    const wav = await wavOf(await post({ ...voice, text: "Hello there.", text_lang: "en", prompt_lang: "en", ...extra }));
    expect(wav.sampleRate).toBe(rate);
    expect(wav.dataSize).toBe(2 * Math.round(0.88 * rate) + 2 * Math.round(0.3 * rate));
  });
});

describe("fake gpt-sovits: the 200 that is a failure", () => {
  const request = { ...voice, text: "이 문장은 실패할 거야.", text_lang: "ko" };

  async function expectSilenceClip(response: Response) {
    const wav = await wavOf(response);
    expect(wav).toMatchObject({ format: "RIFF/WAVE/data", channels: 1, bitsPerSample: 16, sampleRate: SILENCE_SAMPLE_RATE });
    expect(wav.dataSize).toBe(SILENCE_SAMPLE_RATE * 2);
    expect(peak(wav.samples)).toBe(0);
  }

  it("answers an inference error (a CUDA OOM) with 200 and exactly 1 s of all-zero 16 kHz PCM", async () => {
    fake.setBehaviour({ fault: "inference-error", faultCount: 1 });
    await expectSilenceClip(await post(request));
    expect(peak((await wavOf(await post(request))).samples)).toBeGreaterThan(0);
  });

  it("answers text that normalises to nothing with the same clip", async () => {
    await expectSilenceClip(await post({ ...voice, text: "…!? ", text_lang: "ko" }));
    const raw = await post({ ...voice, text: "…!?", text_lang: "ko", media_type: "raw" });
    const bytes = Buffer.from(await raw.arrayBuffer());
    expect([bytes.length, bytes.every((byte) => byte === 0)]).toEqual([SILENCE_SAMPLE_RATE * 2, true]);
  });

  it("streams the silence, then cuts the body off, on an inference error while streaming", async () => {
    fake.setBehaviour({ fault: "inference-error", faultCount: 1 });
    const { bytes, cut } = await readStream(await post({ ...request, streaming_mode: 2 }));
    expect(cut).toBe(true);
    expect(parseWav(bytes)).toMatchObject({ sampleRate: SILENCE_SAMPLE_RATE, dataSize: 0 });
    expect(bytes.length - 44).toBe(SILENCE_SAMPLE_RATE * 2);
    expect(bytes.subarray(44).every((byte) => byte === 0)).toBe(true);
  });
});

describe("fake gpt-sovits: parameter errors", () => {
  const full = { ...voice, text: "안녕.", text_lang: "ko" };

  it.each([
    [{ text: "안녕.", text_lang: "ko", prompt_lang: "ko" }, "ref_audio_path is required"],
    [{ ...voice, text_lang: "ko" }, "text is required"],
    [{ ...voice, text: "안녕." }, "text_lang is required"],
    [{ ...full, text_lang: "xx" }, "text_lang: xx is not supported in version v2"],
    [{ ...full, prompt_lang: "" }, "prompt_lang is required"],
    [{ ...full, prompt_lang: "de" }, "prompt_lang: de is not supported in version v2"],
    [{ ...full, media_type: "mp3" }, "media_type: mp3 is not supported"],
    [{ ...full, text_split_method: "cut9" }, "text_split_method:cut9 is not supported"],
    [{ ...full, streaming_mode: 7 }, "the value of streaming_mode must be 0, 1, 2, 3(int) or true/false(bool)"],
    [{ ...full, media_type: "mp3", text_lang: "xx" }, "text_lang: xx is not supported in version v2"],
  ])("400s %j with %s", async (body, expected) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ message: expected });
  });

  it("lets an uppercase language past check_params, then fails TTS.run's assert with an empty Exception", async () => {
    const response = await post({ ...full, text_lang: "KO" });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ message: "tts failed", Exception: "" });
  });

  it("accepts only the v1 languages on a v1 server", async () => {
    fake.setBehaviour({ version: "v1" });
    const korean = await post(full);
    expect([korean.status, await korean.json()]).toEqual([400, { message: "text_lang: ko is not supported in version v1" }]);
    const prompt = await post({ ...full, text: "Hello.", text_lang: "en" });
    expect([prompt.status, await prompt.json()]).toEqual([400, { message: "prompt_lang: ko is not supported in version v1" }]);
    expect((await post({ ...full, text: "Hello.", text_lang: "en", prompt_lang: "ja" })).status).toBe(200);
  });

  it("needs prompt_text on v3 and v4", async () => {
    fake.setBehaviour({ version: "v4" });
    const response = await post({ ...full, prompt_text: "" });
    expect([response.status, await response.json()]).toEqual([
      400,
      { message: "tts failed", Exception: "prompt_text cannot be empty when using SoVITS_V3" },
    ]);
  });

  it("finds reference audio only under the configured paths (default presets/)", async () => {
    const missing = await post({ ...full, ref_audio_path: "refs/hermione.wav" });
    expect([missing.status, await missing.json()]).toEqual([400, { message: "tts failed", Exception: "refs/hermione.wav not exists" }]);
    expect((await post({ ...full, ref_audio_path: "./presets//calm.wav" })).status).toBe(200);
    expect((await post({ ...full, ref_audio_path: "presets/" })).status).toBe(400);
    expect((await post({ ...full, ref_audio_path: "/etc/presets/a.wav" })).status).toBe(400);
    fake.setBehaviour({ refAudioPaths: ["/srv/voices/", "refs/hermione.wav"] });
    expect((await post({ ...full, ref_audio_path: "refs/hermione.wav" })).status).toBe(200);
    expect((await post({ ...full, ref_audio_path: "/srv/voices/a.wav" })).status).toBe(200);
    expect((await post({ ...full, ref_audio_path: "presets/calm.wav" })).status).toBe(400);
  });

  it("cuts a stream off before any byte when the reference is missing", async () => {
    const response = await post({ ...full, ref_audio_path: "refs/missing.wav", streaming_mode: 1 });
    expect(response.status).toBe(200);
    expect(await readStream(response)).toEqual({ bytes: Buffer.alloc(0), cut: true });
  });

  it("fails ogg and aac like a setup error, since the fake only encodes wav and raw", async () => {
    const response = await post({ ...full, media_type: "ogg", streaming_mode: true });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ message: "tts failed", Exception: "fake supports wav/raw only" });
  });

  it("422s wrong types and bad JSON with FastAPI validation details", async () => {
    const wrongTypes = await post({ ...full, text: 12, top_k: "many" });
    expect(wrongTypes.status).toBe(422);
    const { detail } = (await wrongTypes.json()) as { detail: Array<{ type: string; loc: unknown[] }> };
    expect(detail.map((issue) => [issue.type, issue.loc])).toEqual([
      ["string_type", ["body", "text"]],
      ["int_parsing", ["body", "top_k"]],
    ]);

    const badJson = await post("{oops");
    expect(badJson.status).toBe(422);
    expect(((await badJson.json()) as { detail: Array<{ type: string }> }).detail[0]?.type).toBe("json_invalid");

    const badQuery = await fetch(`${fake.url}/tts?${new URLSearchParams({ ...full, streaming_mode: "fast" })}`);
    expect(badQuery.status).toBe(422);
  });

  it("500s a GET without text_lang or prompt_lang, before any other check", async () => {
    const response = await fetch(`${fake.url}/tts?text=hi`);
    expect(response.status).toBe(500);
    expect(response.headers.get("content-type")).toContain("text/plain");
  });
});

describe("fake gpt-sovits: streaming", () => {
  const text = "첫 번째 문장이야. 두 번째 문장이지!";

  it.each([1, 2, 3])("mode %i: a 44-byte header with data size 0 first, then bare PCM, as much as the whole file", async (mode) => {
    const whole = await wavOf(await post({ ...voice, text, text_lang: "ko" }));
    const response = await post({ ...voice, text, text_lang: "ko", streaming_mode: mode });
    expect(response.headers.get("content-length")).toBeNull();
    expect(response.headers.get("content-type")).toBe("audio/wav");
    const { bytes, cut } = await readStream(response);
    expect(cut).toBe(false);
    expect(parseWav(bytes)).toMatchObject({ sampleRate: SAMPLE_RATE, dataSize: 0, riffSize: 36, format: "RIFF/WAVE/data" });
    expect(bytes.indexOf("RIFF", 4)).toBe(-1);
    expect(bytes.length - 44).toBe(whole.dataSize);
  });

  it("streams nothing at all for text that normalises to nothing", async () => {
    const response = await post({ ...voice, text: "…", text_lang: "ko", streaming_mode: 3 });
    expect(response.status).toBe(200);
    expect(await readStream(response)).toEqual({ bytes: Buffer.alloc(0), cut: false });
  });

  it("cuts the chunked body off mid-stream under the cut-stream fault", async () => {
    fake.setBehaviour({ fault: "cut-stream", faultCount: 1 });
    const response = await post({ ...voice, text: "끊어질 문장이야. 정말로.", text_lang: "ko", streaming_mode: true });
    expect(response.status).toBe(200);
    const { bytes, cut } = await readStream(response);
    expect(cut).toBe(true);
    expect(bytes.length).toBeGreaterThan(44);
    expect(fake.behaviour.fault).toBe("none");
  });
});

describe("fake gpt-sovits: faults and control", () => {
  const request = { ...voice, text: "안녕.", text_lang: "ko" };

  it("fails setup once under a counted tts-failed fault", async () => {
    const control = await fetch(`${fake.url}/__control`, { method: "POST", body: JSON.stringify({ fault: "tts-failed", faultCount: 1 }) });
    expect(control.status).toBe(200);
    const failed = await post(request);
    expect(failed.status).toBe(400);
    expect(await failed.json()).toMatchObject({ message: "tts failed" });
    expect((await post(request)).status).toBe(200);
  });

  it("answers 500 under the http500 fault", async () => {
    fake.setBehaviour({ fault: "http500" });
    expect((await post(request)).status).toBe(500);
  });

  it("records /tts and admin requests", async () => {
    await post(request);
    expect(await (await fetch(`${fake.url}/set_gpt_weights?weights_path=GPT_weights/x.ckpt`)).json()).toEqual({ message: "success" });
    expect((await fetch(`${fake.url}/set_sovits_weights`)).status).toBe(400);
    const recorded = (await (await fetch(`${fake.url}/__control/requests`)).json()) as Array<{ method: string; path: string; params: unknown }>;
    expect(recorded.map((entry) => `${entry.method} ${entry.path}`)).toEqual(["POST /tts", "GET /set_gpt_weights", "GET /set_sovits_weights"]);
    expect(recorded[0]?.params).toEqual(request);
  });

  it("rejects an unknown fault, version or knob on the control endpoint", async () => {
    for (const patch of [{ fault: "melt" }, { version: "v9" }, { perAudioSecondMs: -1 }, { refAudioPaths: "presets/" }]) {
      const response = await fetch(`${fake.url}/__control`, { method: "POST", body: JSON.stringify(patch) });
      expect(response.status).toBe(400);
    }
  });
});
