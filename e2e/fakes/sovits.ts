// Fake GPT-SoVITS `api_v2.py` following /work/shared/protocols/gpt-sovits.md: the same parameter
// checks in the same order with the same error bodies, and real WAV audio (a tone whose pitch
// changes per sentence, lasting longer for longer text).
//
// Limitation: only wav and raw are synthesised. ogg and aac pass the parameter checks (they are
// valid media types) and then fail like an inference error:
// 400 {"message":"tts failed","Exception":"fake supports wav/raw only"}.
//
//   npx tsx e2e/fakes/sovits.ts --port 9880 --latency 200
import type { IncomingMessage, ServerResponse } from "node:http";
import { parseArgs } from "node:util";
import {
  clientGone,
  closeOnSignal,
  FAULT_COUNT_ERROR,
  isFaultCount,
  isDirectRun,
  isRecord,
  numberArg,
  parseJson,
  patchBehaviour,
  pause,
  readBody,
  sendJson,
  sendText,
  serveFake,
  takeFault,
} from "./server-kit";

export const SAMPLE_RATE = 32000;
/** api_v2 answers text with nothing to say with 1 s of silence at this rate. */
export const SILENCE_SAMPLE_RATE = 16000;
export const WAV_HEADER_BYTES = 44;
/** Languages of the v2 default config. */
export const SUPPORTED_LANGUAGES = ["auto", "auto_yue", "en", "zh", "ja", "yue", "ko", "all_zh", "all_ja", "all_yue", "all_ko"];
const MEDIA_TYPES = ["wav", "raw", "ogg", "aac"];
const SYNTHESISED_MEDIA_TYPES = ["wav", "raw"];
const SPLIT_METHODS = ["cut0", "cut1", "cut2", "cut3", "cut4", "cut5"];
const MODEL_VERSION = "v2";

export const SOVITS_FAULTS = [
  "none",
  "tts-failed", // 400 {"message":"tts failed"} — or, when streaming, a body cut off before any audio
  "cut-stream", // the body is cut off after the first audio chunk (half the file when not streaming)
  "http500", // 500 text/plain, as from an unhandled exception
] as const;
export type SovitsFault = (typeof SOVITS_FAULTS)[number];

export interface SovitsBehaviour {
  /** Delay before every chunk (the WAV header included), or before the whole file when not streaming. */
  latencyMs: number;
  fault: SovitsFault;
  /** How many more synthesis requests the fault applies to; null = until changed. */
  faultCount: number | null;
}

export interface SovitsRequestRecord {
  method: string;
  path: string;
  /** Query parameters, or the JSON body (raw text when it was not JSON). */
  params: unknown;
}

export interface FakeSovitsOptions {
  port?: number;
  host?: string;
  latencyMs?: number;
}

export interface FakeSovits {
  url: string;
  port: number;
  close(): Promise<void>;
  setBehaviour(patch: Partial<SovitsBehaviour>): SovitsBehaviour;
  /** Back to the start options; clears recorded requests. */
  reset(): void;
  readonly behaviour: SovitsBehaviour;
  /** /tts and admin requests, oldest first. */
  readonly requests: SovitsRequestRecord[];
}

const DEFAULT_LATENCY_MS = 50;
const MAX_RECORDED_REQUESTS = 1000;
const SECONDS_PER_CHARACTER = 0.08;
const MIN_SEGMENT_SECONDS = 0.3;
const STREAM_CHUNK_SECONDS = 0.25;

// ---------------------------------------------------------------------------------------------
// Audio

/** The 44-byte PCM header Python's `wave` module writes; `dataBytes` 0 for a stream's header. */
export function wavHeader(sampleRate: number, dataBytes: number): Buffer {
  const header = Buffer.alloc(WAV_HEADER_BYTES);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write("WAVE", 8, "ascii");
  header.write("fmt ", 12, "ascii");
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write("data", 36, "ascii");
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

export interface Synthesis {
  sampleRate: number;
  /** int16 LE mono PCM, one entry per text segment (trailing fragment silence included). */
  segments: Buffer[];
}

const SPEAKABLE = /[\p{L}\p{N}]/u;

function splitSentences(text: string): string[] {
  return text.split(/(?<=[.!?。！？…\n])/u).filter((segment) => SPEAKABLE.test(segment));
}

/** A tone pulsed once per character, so it sounds syllabic rather than like a beep. */
function tone(seconds: number, frequency: number, syllableSeconds: number): Buffer {
  const count = Math.round(seconds * SAMPLE_RATE);
  const fadeSamples = Math.round(0.01 * SAMPLE_RATE);
  const pcm = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i += 1) {
    const t = i / SAMPLE_RATE;
    const syllable = 0.5 - 0.5 * Math.cos((2 * Math.PI * t) / syllableSeconds);
    const fade = Math.min(1, (count - i) / fadeSamples);
    const sample = 0.35 * syllable * fade * Math.sin(2 * Math.PI * frequency * t);
    pcm.writeInt16LE(Math.round(sample * 32767), i * 2);
  }
  return pcm;
}

/** Deterministic stand-in for inference: 0.08 s per character (min 0.3 s) per sentence. */
export function synthesize(text: string, speedFactor = 1, fragmentInterval = 0.3): Synthesis {
  const sentences = splitSentences(text);
  if (sentences.length === 0) return { sampleRate: SILENCE_SAMPLE_RATE, segments: [Buffer.alloc(SILENCE_SAMPLE_RATE * 2)] };
  const gap = Buffer.alloc(Math.round(Math.max(0, fragmentInterval) * SAMPLE_RATE) * 2);
  const segments = sentences.map((sentence, index) => {
    const characters = sentence.replace(/\s/gu, "").length;
    const seconds = Math.max(MIN_SEGMENT_SECONDS, characters * SECONDS_PER_CHARACTER) / speedFactor;
    const voice = tone(seconds, 180 + 40 * (index % 5), SECONDS_PER_CHARACTER / speedFactor);
    return index < sentences.length - 1 ? Buffer.concat([voice, gap]) : voice;
  });
  return { sampleRate: SAMPLE_RATE, segments };
}

function fixedChunks(pcm: Buffer, sampleRate: number): Buffer[] {
  const size = Math.round(STREAM_CHUNK_SECONDS * sampleRate) * 2;
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < pcm.length; offset += size) chunks.push(pcm.subarray(offset, offset + size));
  return chunks;
}

// ---------------------------------------------------------------------------------------------
// Parameter validation: FastAPI/pydantic (422) first, then api_v2's check_params (400)

type FieldKind = "str" | "int" | "float" | "bool" | "list" | "bool|int";

const TTS_FIELDS: Record<string, FieldKind> = {
  text: "str",
  text_lang: "str",
  ref_audio_path: "str",
  aux_ref_audio_paths: "list",
  prompt_lang: "str",
  prompt_text: "str",
  top_k: "int",
  top_p: "float",
  temperature: "float",
  text_split_method: "str",
  batch_size: "int",
  batch_threshold: "float",
  split_bucket: "bool",
  speed_factor: "float",
  fragment_interval: "float",
  seed: "int",
  media_type: "str",
  streaming_mode: "bool|int",
  parallel_infer: "bool",
  repetition_penalty: "float",
  sample_steps: "int",
  super_sampling: "bool",
  overlap_length: "int",
  min_chunk_length: "int",
};

/** The GET endpoint has no aux_ref_audio_paths parameter; unknown query keys are ignored. */
const QUERY_FIELDS = Object.fromEntries(Object.entries(TTS_FIELDS).filter(([name]) => name !== "aux_ref_audio_paths"));

interface ValidationIssue {
  type: string;
  loc: Array<string | number>;
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

type Coercion = { ok: true; value: unknown } | { ok: false; type: string; msg: string };

const TRUE_STRINGS = ["1", "on", "t", "true", "y", "yes"];
const FALSE_STRINGS = ["0", "off", "f", "false", "n", "no"];

/** Pydantic v2 lax-mode coercion, which is what FastAPI applies to both query and JSON input. */
function coerce(kind: Exclude<FieldKind, "bool|int">, input: unknown): Coercion {
  switch (kind) {
    case "str":
      return typeof input === "string" ? { ok: true, value: input } : { ok: false, type: "string_type", msg: "Input should be a valid string" };
    case "list":
      return Array.isArray(input) ? { ok: true, value: input } : { ok: false, type: "list_type", msg: "Input should be a valid list" };
    case "int":
      if (typeof input === "boolean") return { ok: true, value: Number(input) };
      if (typeof input === "number") {
        return Number.isInteger(input)
          ? { ok: true, value: input }
          : { ok: false, type: "int_from_float", msg: "Input should be a valid integer, got a number with a fractional part" };
      }
      if (typeof input === "string") {
        return /^\s*[+-]?\d+\s*$/.test(input)
          ? { ok: true, value: Number.parseInt(input, 10) }
          : { ok: false, type: "int_parsing", msg: "Input should be a valid integer, unable to parse string as an integer" };
      }
      return { ok: false, type: "int_type", msg: "Input should be a valid integer" };
    case "float":
      if (typeof input === "boolean" || typeof input === "number") return { ok: true, value: Number(input) };
      if (typeof input === "string") {
        const value = Number(input);
        return input.trim() !== "" && Number.isFinite(value)
          ? { ok: true, value }
          : { ok: false, type: "float_parsing", msg: "Input should be a valid number, unable to parse string as a number" };
      }
      return { ok: false, type: "float_type", msg: "Input should be a valid number" };
    case "bool": {
      if (typeof input === "boolean") return { ok: true, value: input };
      const text = typeof input === "number" ? String(input) : typeof input === "string" ? input.trim().toLowerCase() : undefined;
      if (text === undefined) return { ok: false, type: "bool_type", msg: "Input should be a valid boolean" };
      if (TRUE_STRINGS.includes(text)) return { ok: true, value: true };
      if (FALSE_STRINGS.includes(text)) return { ok: true, value: false };
      return { ok: false, type: "bool_parsing", msg: "Input should be a valid boolean, unable to interpret input" };
    }
  }
}

/** Union[bool, int]: the first member that accepts the input wins; otherwise both errors. */
function coerceField(kind: FieldKind, input: unknown, loc: Array<string | number>): { value: unknown } | { issues: ValidationIssue[] } {
  const members = kind === "bool|int" ? (["bool", "int"] as const) : [kind];
  const issues: ValidationIssue[] = [];
  for (const member of members) {
    const result = coerce(member, input);
    if (result.ok) return { value: result.value };
    issues.push({ type: result.type, loc: kind === "bool|int" ? [...loc, member] : loc, msg: result.msg, input });
  }
  return { issues };
}

type Checked = { ok: true; params: Record<string, unknown> } | { ok: false; issues: ValidationIssue[] };

function validateFields(source: Record<string, unknown>, fields: Record<string, FieldKind>, location: "query" | "body"): Checked {
  const params: Record<string, unknown> = {};
  const issues: ValidationIssue[] = [];
  for (const [name, kind] of Object.entries(fields)) {
    if (!(name in source)) continue;
    const result = coerceField(kind, source[name], [location, name]);
    if ("value" in result) params[name] = result.value;
    else issues.push(...result.issues);
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, params };
}

function validateBody(raw: string): Checked {
  if (raw.trim() === "") return { ok: false, issues: [{ type: "missing", loc: ["body"], msg: "Field required", input: null }] };
  const parsed = parseJson(raw);
  if (!parsed.ok) {
    const position = Number(/position (\d+)/.exec(parsed.error)?.[1] ?? 0);
    return {
      ok: false,
      issues: [{ type: "json_invalid", loc: ["body", position], msg: "JSON decode error", input: {}, ctx: { error: parsed.error } }],
    };
  }
  if (!isRecord(parsed.value)) {
    return {
      ok: false,
      issues: [
        {
          type: "model_attributes_type",
          loc: ["body"],
          msg: "Input should be a valid dictionary or object to extract fields from",
          input: parsed.value,
        },
      ],
    };
  }
  return validateFields(parsed.value, TTS_FIELDS, "body");
}

interface TtsRequest {
  text: unknown;
  text_lang: unknown;
  ref_audio_path: unknown;
  prompt_lang: unknown;
  media_type: unknown;
  text_split_method: unknown;
  streaming_mode: unknown;
  speed_factor: number;
  fragment_interval: number;
}

function ttsRequest(params: Record<string, unknown>): TtsRequest {
  return {
    text: params.text,
    text_lang: params.text_lang,
    ref_audio_path: params.ref_audio_path,
    prompt_lang: params.prompt_lang,
    media_type: params.media_type ?? "wav",
    text_split_method: params.text_split_method ?? "cut5",
    streaming_mode: params.streaming_mode ?? false,
    speed_factor: typeof params.speed_factor === "number" ? params.speed_factor : 1,
    fragment_interval: typeof params.fragment_interval === "number" ? params.fragment_interval : 0.3,
  };
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === "";
}

/** api_v2's check_params, message for message. Languages are compared as sent (POST does not lowercase). */
function checkParams(req: TtsRequest): string | undefined {
  if (isBlank(req.ref_audio_path)) return "ref_audio_path is required";
  if (isBlank(req.text)) return "text is required";
  if (isBlank(req.text_lang)) return "text_lang is required";
  if (!SUPPORTED_LANGUAGES.includes(String(req.text_lang))) {
    return `text_lang: ${String(req.text_lang)} is not supported in version ${MODEL_VERSION}`;
  }
  if (isBlank(req.prompt_lang)) return "prompt_lang is required";
  if (!SUPPORTED_LANGUAGES.includes(String(req.prompt_lang))) {
    return `prompt_lang: ${String(req.prompt_lang)} is not supported in version ${MODEL_VERSION}`;
  }
  if (!MEDIA_TYPES.includes(String(req.media_type))) return `media_type: ${String(req.media_type)} is not supported`;
  if (!SPLIT_METHODS.includes(String(req.text_split_method))) {
    return `text_split_method:${String(req.text_split_method)} is not supported`;
  }
  return undefined;
}

/** 0 = whole file, 1 = one chunk per segment, 2/3 = fixed-length chunks; Python's True == 1. */
function streamingMode(value: unknown): number | undefined {
  const mode = typeof value === "boolean" ? Number(value) : value;
  return mode === 0 || mode === 1 || mode === 2 || mode === 3 ? mode : undefined;
}

// ---------------------------------------------------------------------------------------------
// Control endpoint

const BEHAVIOUR_KEYS = ["latencyMs", "fault", "faultCount"];

/** Validates a JSON patch for setBehaviour(); returns an error message when it is not one. */
function parseBehaviourPatch(body: unknown): Partial<SovitsBehaviour> | string {
  if (!isRecord(body)) return "body must be a JSON object";
  const unknownKey = Object.keys(body).find((key) => !BEHAVIOUR_KEYS.includes(key));
  if (unknownKey) return `unknown key "${unknownKey}" (allowed: ${BEHAVIOUR_KEYS.join(", ")})`;
  const patch: Partial<SovitsBehaviour> = {};
  const { latencyMs, fault, faultCount } = body;
  if (latencyMs !== undefined) {
    if (typeof latencyMs !== "number" || !Number.isFinite(latencyMs) || latencyMs < 0) return "latencyMs must be a non-negative number";
    patch.latencyMs = latencyMs;
  }
  if (fault !== undefined) {
    const known = SOVITS_FAULTS.find((name) => name === fault);
    if (!known) return `fault must be one of ${SOVITS_FAULTS.join(", ")}`;
    patch.fault = known;
  }
  if (faultCount !== undefined) {
    if (!isFaultCount(faultCount)) return FAULT_COUNT_ERROR;
    patch.faultCount = faultCount;
  }
  return patch;
}

// ---------------------------------------------------------------------------------------------
// The server

const OPENAPI = {
  openapi: "3.1.0",
  info: { title: "GPT-SoVITS api_v2 (fake)", version: "0.1.0" },
  paths: {
    "/tts": { get: { summary: "Tts Get Endpoint" }, post: { summary: "Tts Post Endpoint" } },
    "/control": { get: { summary: "Control" } },
    "/set_refer_audio": { get: { summary: "Set Refer Aduio" } },
    "/set_gpt_weights": { get: { summary: "Set Gpt Weights" } },
    "/set_sovits_weights": { get: { summary: "Set Sovits Weights" } },
  },
};

/** Admin GET endpoints: the query parameter each one needs, and the 400 body when it is missing. */
const ADMIN_ENDPOINTS: Record<string, { param: string; missing: Record<string, string> }> = {
  "/control": { param: "command", missing: { message: "command is required" } },
  "/set_refer_audio": {
    param: "refer_audio_path",
    missing: { message: "set refer audio failed", Exception: "refer_audio_path is required" },
  },
  "/set_gpt_weights": { param: "weights_path", missing: { message: "gpt weight path is required" } },
  "/set_sovits_weights": { param: "weights_path", missing: { message: "sovits weight path is required" } },
};

type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

/** Starlette's answer to unhandled exceptions. */
function internalServerError(res: ServerResponse): void {
  sendText(res, 500, "Internal Server Error");
}

/** FastAPI takes the last value of a repeated query parameter. */
function queryRecord(url: URL): Record<string, string> {
  return Object.fromEntries(url.searchParams.entries());
}

class SovitsFake {
  behaviour: SovitsBehaviour;
  readonly requests: SovitsRequestRecord[] = [];
  private readonly routes: Record<string, Record<string, Route>>;

  constructor(private readonly initial: SovitsBehaviour) {
    this.behaviour = { ...initial };
    const admin = Object.fromEntries(
      Object.keys(ADMIN_ENDPOINTS).map((path) => [path, { GET: (req: IncomingMessage, res: ServerResponse, url: URL) => this.admin(res, url) }]),
    );
    this.routes = {
      "/tts": { GET: (req, res, url) => this.ttsGet(res, url), POST: (req, res) => this.ttsPost(req, res) },
      // Starlette serves HEAD for plain routes such as this one, but not for the API routes.
      "/openapi.json": { GET: (req, res) => sendJson(res, 200, OPENAPI), HEAD: (req, res) => sendJson(res, 200, OPENAPI) },
      ...admin,
      "/__control": {
        GET: (req, res) => sendJson(res, 200, this.behaviour),
        POST: async (req, res) => this.control(await readBody(req), res),
      },
      "/__control/requests": { GET: (req, res) => sendJson(res, 200, this.requests) },
      "/__control/reset": {
        POST: (req, res) => {
          this.reset();
          sendJson(res, 200, this.behaviour);
        },
      },
    };
  }

  setBehaviour(patch: Partial<SovitsBehaviour>): SovitsBehaviour {
    this.behaviour = patchBehaviour(this.behaviour, patch);
    return this.behaviour;
  }

  reset(): void {
    this.behaviour = { ...this.initial };
    this.requests.length = 0;
  }

  handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://fake");
    const methods = this.routes[url.pathname];
    if (!methods) return sendJson(res, 404, { detail: "Not Found" });
    const route = methods[req.method ?? "GET"];
    if (!route) return sendJson(res, 405, { detail: "Method Not Allowed" }, { Allow: Object.keys(methods).join(", ") });
    await route(req, res, url);
  };

  private record(method: string, path: string, params: unknown): void {
    this.requests.push({ method, path, params });
    if (this.requests.length > MAX_RECORDED_REQUESTS) this.requests.shift();
  }

  private admin(res: ServerResponse, url: URL): void {
    const query = queryRecord(url);
    this.record("GET", url.pathname, query);
    const endpoint = ADMIN_ENDPOINTS[url.pathname];
    if (endpoint && isBlank(query[endpoint.param])) return sendJson(res, 400, endpoint.missing);
    sendJson(res, 200, { message: "success" });
  }

  private control(raw: string, res: ServerResponse): void {
    const parsed = parseJson(raw);
    const patch = parsed.ok ? parseBehaviourPatch(parsed.value) : `invalid JSON: ${parsed.error}`;
    if (typeof patch === "string") return sendJson(res, 400, { error: patch });
    sendJson(res, 200, this.setBehaviour(patch));
  }

  private async ttsGet(res: ServerResponse, url: URL): Promise<void> {
    const query = queryRecord(url);
    this.record("GET", "/tts", query);
    const checked = validateFields(query, QUERY_FIELDS, "query");
    if (!checked.ok) return sendJson(res, 422, { detail: checked.issues });
    const { text_lang: textLang, prompt_lang: promptLang } = checked.params;
    // The GET handler calls .lower() on both before any check: missing ones crash it.
    if (typeof textLang !== "string" || typeof promptLang !== "string") return internalServerError(res);
    await this.tts(res, ttsRequest({ ...checked.params, text_lang: textLang.toLowerCase(), prompt_lang: promptLang.toLowerCase() }));
  }

  private async ttsPost(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const parsed = parseJson(raw);
    this.record("POST", "/tts", parsed.ok ? parsed.value : raw);
    const checked = validateBody(raw);
    if (!checked.ok) return sendJson(res, 422, { detail: checked.issues });
    await this.tts(res, ttsRequest(checked.params));
  }

  /** Consumes one use of a counted fault. */
  private takeFault(): SovitsFault {
    const { fault, next } = takeFault(this.behaviour);
    this.behaviour = next;
    return fault;
  }

  private async tts(res: ServerResponse, req: TtsRequest): Promise<void> {
    const problem = checkParams(req);
    if (problem) return sendJson(res, 400, { message: problem });
    const mode = streamingMode(req.streaming_mode);
    if (mode === undefined) {
      return sendJson(res, 400, { message: "the value of streaming_mode must be 0, 1, 2, 3(int) or true/false(bool)" });
    }
    const mediaType = String(req.media_type);
    if (!SYNTHESISED_MEDIA_TYPES.includes(mediaType)) {
      return sendJson(res, 400, { message: "tts failed", Exception: "fake supports wav/raw only" });
    }
    if (req.speed_factor <= 0) return sendJson(res, 400, { message: "tts failed", Exception: "speed_factor must be positive" });

    const fault = this.takeFault();
    if (fault === "http500") return internalServerError(res);
    const synthesis = synthesize(String(req.text), req.speed_factor, req.fragment_interval);
    const signal = clientGone(res);
    if (mode === 0) await this.sendFile(res, synthesis, mediaType, fault, signal);
    else await this.stream(res, synthesis, mediaType, mode, fault, signal);
  }

  private async sendFile(res: ServerResponse, synthesis: Synthesis, mediaType: string, fault: SovitsFault, signal: AbortSignal): Promise<void> {
    if (!(await pause(this.behaviour.latencyMs, signal))) return;
    if (fault === "tts-failed") return sendJson(res, 400, { message: "tts failed", Exception: "fake inference failure" });
    const pcm = Buffer.concat(synthesis.segments);
    const body = mediaType === "wav" ? Buffer.concat([wavHeader(synthesis.sampleRate, pcm.length), pcm]) : pcm;
    res.writeHead(200, { "Content-Type": `audio/${mediaType}`, "Content-Length": body.length });
    if (fault === "cut-stream") {
      res.write(body.subarray(0, Math.floor(body.length / 2)));
      res.destroy();
      return;
    }
    res.end(body);
  }

  /** Chunked body: for wav a 44-byte header with data size 0 first, then bare PCM. */
  private async stream(
    res: ServerResponse,
    synthesis: Synthesis,
    mediaType: string,
    mode: number,
    fault: SovitsFault,
    signal: AbortSignal,
  ): Promise<void> {
    const audio = mode === 1 ? synthesis.segments : fixedChunks(Buffer.concat(synthesis.segments), synthesis.sampleRate);
    const chunks = mediaType === "wav" ? [wavHeader(synthesis.sampleRate, 0), ...audio] : audio;
    // Headers go out at once; failures after this point can only cut the body off.
    res.writeHead(200, { "Content-Type": `audio/${mediaType}` });
    res.flushHeaders();
    const sent = fault === "tts-failed" ? [] : fault === "cut-stream" ? chunks.slice(0, chunks.length - audio.length + 1) : chunks;
    for (const chunk of sent) {
      if (!(await pause(this.behaviour.latencyMs, signal))) return;
      res.write(chunk);
    }
    if (fault === "none") res.end();
    else res.destroy();
  }
}

export async function startFakeSovits(opts: FakeSovitsOptions = {}): Promise<FakeSovits> {
  const fake = new SovitsFake({ latencyMs: opts.latencyMs ?? DEFAULT_LATENCY_MS, fault: "none", faultCount: null });
  return serveFake(fake, opts.port, opts.host);
}

if (isDirectRun(import.meta.url)) {
  const { values } = parseArgs({
    options: { port: { type: "string" }, host: { type: "string" }, latency: { type: "string" } },
  });
  const fake = await startFakeSovits({
    port: numberArg(values.port, 9880, "port"),
    host: values.host ?? "127.0.0.1",
    latencyMs: numberArg(values.latency, DEFAULT_LATENCY_MS, "latency"),
  });
  console.log(`fake gpt-sovits listening on ${fake.url}`);
  closeOnSignal(fake.close);
}
