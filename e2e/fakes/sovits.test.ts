import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SAMPLE_RATE, SILENCE_SAMPLE_RATE, startFakeSovits, type FakeSovits } from "./sovits";

let fake: FakeSovits;

beforeAll(async () => {
  fake = await startFakeSovits({ latencyMs: 0 });
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.reset();
});

const voice = { ref_audio_path: "refs/hermione.wav", prompt_text: "안녕하세요.", prompt_lang: "ko" };

function post(body: unknown): Promise<Response> {
  return fetch(`${fake.url}/tts`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
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

async function readChunks(response: Response): Promise<Buffer[]> {
  const reader = response.body?.getReader();
  if (!reader) throw new Error("no body");
  const chunks: Buffer[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(Buffer.from(value));
  }
}

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

  it("returns one second of 16 kHz silence for text with nothing to say", async () => {
    const wav = await wavOf(await post({ ...voice, text: "…!?", text_lang: "ko" }));
    expect(wav.sampleRate).toBe(SILENCE_SAMPLE_RATE);
    expect(wav.dataSize).toBe(SILENCE_SAMPLE_RATE * 2);
    expect(peak(wav.samples)).toBe(0);
  });
});

describe("fake gpt-sovits: parameter errors", () => {
  const full = { ...voice, text: "안녕.", text_lang: "ko" };

  it.each([
    [{ text: "안녕.", text_lang: "ko", prompt_lang: "ko" }, "ref_audio_path is required"],
    [{ ...voice, text_lang: "ko" }, "text is required"],
    [{ ...voice, text: "안녕." }, "text_lang is required"],
    [{ ...full, text_lang: "EN" }, "text_lang: EN is not supported in version v2"],
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

  it("fails ogg and aac like an inference error, since the fake only encodes wav and raw", async () => {
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
  it("sends a 44-byte header with data size 0 first, then bare PCM chunks", async () => {
    fake.setBehaviour({ latencyMs: 15 });
    const text = "첫 번째 문장이야. 두 번째 문장이지!";
    const whole = await wavOf(await post({ ...voice, text, text_lang: "ko" }));
    const response = await post({ ...voice, text, text_lang: "ko", streaming_mode: 2 });
    expect(response.headers.get("content-length")).toBeNull();
    expect(response.headers.get("content-type")).toBe("audio/wav");
    const [header, ...pcm] = await readChunks(response);
    expect(header?.length).toBe(44);
    expect(header && parseWav(header)).toMatchObject({ sampleRate: SAMPLE_RATE, dataSize: 0, format: "RIFF/WAVE/data" });
    expect(pcm.length).toBeGreaterThan(2);
    expect(pcm.every((chunk) => chunk.subarray(0, 4).toString("ascii") !== "RIFF")).toBe(true);
    expect(Buffer.concat(pcm).length).toBe(whole.dataSize);
  });

  it("cuts the chunked body off mid-stream under the cut-stream fault", async () => {
    fake.setBehaviour({ fault: "cut-stream", faultCount: 1, latencyMs: 5 });
    const response = await post({ ...voice, text: "끊어질 문장이야. 정말로.", text_lang: "ko", streaming_mode: true });
    expect(response.status).toBe(200);
    await expect(readChunks(response)).rejects.toThrow("terminated");
    expect(fake.behaviour.fault).toBe("none");
  });
});

describe("fake gpt-sovits: faults and control", () => {
  const request = { ...voice, text: "안녕.", text_lang: "ko" };

  it("fails inference once under a counted tts-failed fault", async () => {
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

  it("rejects an unknown fault on the control endpoint", async () => {
    const response = await fetch(`${fake.url}/__control`, { method: "POST", body: JSON.stringify({ fault: "melt" }) });
    expect(response.status).toBe(400);
  });
});
