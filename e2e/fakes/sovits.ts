// Fake GPT-SoVITS `api_v2.py` following /work/shared/protocols/gpt-sovits.md: the same parameter
// checks in the same order with the same error bodies, and real WAV audio (a tone whose pitch
// changes per sentence, lasting longer for longer text).
//
// It is as unkind as the real server (api_v2.py, TTS_infer_pack/TTS.py), at short timings:
// - one thing at a time: every route (/openapi.json, the liveness probe, included) waits while a
//   synthesis runs, and requests are served strictly in arrival order (uvicorn's one event loop,
//   blocked by the synthesis). A synthesis takes `latencyMs` + `perAudioSecondMs` per second of
//   audio; /__control never waits (it is the fake's own);
// - no cancellation: a non-streaming request whose client gave up is still synthesised when its
//   turn comes (stats.synthesisedAfterClientLeft). A streaming one stops at its next chunk, as
//   Starlette notices the disconnect while streaming;
// - a failure during inference (the `inference-error` fault: a CUDA OOM) answers 200 with 1 s of
//   all-zero 16-bit mono PCM at 16000 Hz; so does text that normalises to nothing;
// - `fragment_interval` seconds of silence (default 0.3) after every fragment, the last included;
// - the sample rate follows the model `version` (v1/v2/v2Pro/v2ProPlus 32000, v3 24000 or 48000
//   with super_sampling, v4 48000) and v1 speaks only the v1 languages;
// - only reference paths under `refAudioPaths` exist on the fake's host (default `presets/`, the
//   app's SOVITS_REF_AUDIO_DIR default); any other is 400 "<path> not exists".
//
// Limitation: only wav and raw are synthesised. ogg and aac pass the parameter checks (they are
// valid media types) and then fail like a setup error:
// 400 {"message":"tts failed","Exception":"fake supports wav/raw only"}.
//
//   npx tsx e2e/fakes/sovits.ts --port 9880 [--latency 50] [--per-audio-second 20] [--version v2] [--ref-audio-paths presets/,refs/a.wav]
import path from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
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
  Semaphore,
  sendJson,
  sendText,
  serveFake,
  takeFault,
} from "./server-kit";

/** The rate of the default model version (v2). */
export const SAMPLE_RATE = 32000;
/** api_v2 answers an inference failure, or text with nothing to say, with 1 s of silence at this rate. */
export const SILENCE_SAMPLE_RATE = 16000;
export const WAV_HEADER_BYTES = 44;

export const MODEL_VERSIONS = ["v1", "v2", "v2Pro", "v2ProPlus", "v3", "v4"] as const;
export type ModelVersion = (typeof MODEL_VERSIONS)[number];

/** TTS_Config.v1_languages / v2_languages (v2 and later). */
export const V1_LANGUAGES = ["auto", "en", "zh", "ja", "all_zh", "all_ja"];
export const SUPPORTED_LANGUAGES = ["auto", "auto_yue", "en", "zh", "ja", "yue", "ko", "all_zh", "all_ja", "all_yue", "all_ko"];
const MEDIA_TYPES = ["wav", "raw", "ogg", "aac"];
const SYNTHESISED_MEDIA_TYPES = ["wav", "raw"];
const SPLIT_METHODS = ["cut0", "cut1", "cut2", "cut3", "cut4", "cut5"];

/** The sample rate of the audio a model version produces. */
export function sampleRateOf(version: ModelVersion, superSampling = false): number {
  if (version === "v4") return 48000;
  if (version === "v3") return superSampling ? 48000 : 24000;
  return SAMPLE_RATE;
}

function languagesOf(version: ModelVersion): string[] {
  return version === "v1" ? V1_LANGUAGES : SUPPORTED_LANGUAGES;
}

/** v3 and v4 synthesise through a vocoder: they need prompt_text and cannot stream in modes 2/3. */
function usesVocoder(version: ModelVersion): boolean {
  return version === "v3" || version === "v4";
}

export const SOVITS_FAULTS = [
  "none",
  "tts-failed", // 400 {"message":"tts failed"} (a setup failure) — or, when streaming, a body cut off before any audio
  "inference-error", // 200 with 1 s of 16 kHz silence (a CUDA OOM) — when streaming, that silence, then the body is cut off
  "cut-stream", // the body is cut off after the first audio chunk (half the file when not streaming)
  "http500", // 500 text/plain, as from an unhandled exception
] as const;
export type SovitsFault = (typeof SOVITS_FAULTS)[number];

export interface SovitsBehaviour {
  /** Time to the first audio: the whole synthesis's fixed part, or the wait before a stream's first chunk. */
  latencyMs: number;
  /** Synthesis time per second of audio produced, on top of latencyMs. */
  perAudioSecondMs: number;
  /** The model version the fake pretends to run: its sample rate and languages. */
  version: ModelVersion;
  /** Reference audio that exists on the fake's host: a directory (ending in "/") or a file. */
  refAudioPaths: string[];
  fault: SovitsFault;
  /** How many more synthesis requests the fault applies to; null = until changed. */
  faultCount: number | null;
}

export interface SovitsStats {
  /** Requests waiting for the server (behind a synthesis or each other). */
  waiting: number;
  /** /tts requests that reached inference. */
  syntheses: number;
  /** Non-streaming syntheses whose client had gone by the time the audio was ready. */
  synthesisedAfterClientLeft: number;
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
  perAudioSecondMs?: number;
  version?: ModelVersion;
  refAudioPaths?: string[];
}

export interface FakeSovits {
  url: string;
  port: number;
  close(): Promise<void>;
  setBehaviour(patch: Partial<SovitsBehaviour>): SovitsBehaviour;
  /** Back to the start options; clears recorded requests and counters. */
  reset(): void;
  readonly behaviour: SovitsBehaviour;
  /** /tts and admin requests, oldest first. */
  readonly requests: SovitsRequestRecord[];
  readonly stats: SovitsStats;
}

export const DEFAULT_LATENCY_MS = 50;
export const DEFAULT_PER_AUDIO_SECOND_MS = 20;
export const DEFAULT_REF_AUDIO_PATHS: readonly string[] = ["presets/"];
const MAX_RECORDED_REQUESTS = 1000;
const SECONDS_PER_CHARACTER = 0.08;
const MIN_SEGMENT_SECONDS = 0.3;
/** Chunk lengths of streaming modes 2 and 3 (mode 3: fixed, shorter chunks, sooner). */
const STREAM_CHUNK_SECONDS: Record<number, number> = { 2: 0.5, 3: 0.25 };

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

export interface Fragment {
  /** int16 LE mono PCM of the spoken fragment. */
  voice: Buffer;
  /** The fragment_interval silence that follows it. */
  silence: Buffer;
}

export interface Synthesis {
  sampleRate: number;
  /** One per text segment; empty when the text normalises to nothing. */
  fragments: Fragment[];
}

/** 1 s of all-zero PCM at 16 kHz: TTS.py's answer to an inference failure or nothing to say. */
export function silenceClip(): Buffer {
  return Buffer.alloc(SILENCE_SAMPLE_RATE * 2);
}

const SPEAKABLE = /[\p{L}\p{N}]/u;

function splitSentences(text: string): string[] {
  return text.split(/(?<=[.!?。！？…\n])/u).filter((segment) => SPEAKABLE.test(segment));
}

/** A tone pulsed once per character, so it sounds syllabic rather than like a beep. */
function tone(seconds: number, frequency: number, syllableSeconds: number, sampleRate: number): Buffer {
  const count = Math.round(seconds * sampleRate);
  const fadeSamples = Math.round(0.01 * sampleRate);
  const pcm = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i += 1) {
    const t = i / sampleRate;
    const syllable = 0.5 - 0.5 * Math.cos((2 * Math.PI * t) / syllableSeconds);
    const fade = Math.min(1, (count - i) / fadeSamples);
    const sample = 0.35 * syllable * fade * Math.sin(2 * Math.PI * frequency * t);
    pcm.writeInt16LE(Math.round(sample * 32767), i * 2);
  }
  return pcm;
}

/**
 * Deterministic stand-in for inference: 0.08 s per character (min 0.3 s) per sentence, each
 * followed by `fragmentInterval` s of silence (the last one too, as TTS.py's audio_postprocess).
 */
export function synthesize(text: string, { sampleRate = SAMPLE_RATE, speedFactor = 1, fragmentInterval = 0.3 } = {}): Synthesis {
  const silence = Buffer.alloc(Math.round(Math.max(0, fragmentInterval) * sampleRate) * 2);
  const fragments = splitSentences(text).map((sentence, index) => {
    const characters = sentence.replace(/\s/gu, "").length;
    const seconds = Math.max(MIN_SEGMENT_SECONDS, characters * SECONDS_PER_CHARACTER) / speedFactor;
    return { voice: tone(seconds, 180 + 40 * (index % 5), SECONDS_PER_CHARACTER / speedFactor, sampleRate), silence };
  });
  return { sampleRate, fragments };
}

function fixedChunks(pcm: Buffer, sampleRate: number, seconds: number): Buffer[] {
  const size = Math.round(seconds * sampleRate) * 2;
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < pcm.length; offset += size) chunks.push(pcm.subarray(offset, offset + size));
  return chunks;
}

/** The audio chunks of a stream: mode 1 one per fragment; 2/3 fixed pieces, then the fragment's silence. */
function streamChunks(synthesis: Synthesis, mode: number): Buffer[] {
  const chunkSeconds = STREAM_CHUNK_SECONDS[mode];
  return synthesis.fragments.flatMap(({ voice, silence }) =>
    chunkSeconds === undefined ? [Buffer.concat([voice, silence])] : [...fixedChunks(voice, synthesis.sampleRate, chunkSeconds), silence],
  );
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
  prompt_text: unknown;
  media_type: unknown;
  text_split_method: unknown;
  streaming_mode: unknown;
  speed_factor: number;
  fragment_interval: number;
  super_sampling: boolean;
}

function ttsRequest(params: Record<string, unknown>): TtsRequest {
  return {
    text: params.text,
    text_lang: params.text_lang,
    ref_audio_path: params.ref_audio_path,
    prompt_lang: params.prompt_lang,
    prompt_text: params.prompt_text ?? "",
    media_type: params.media_type ?? "wav",
    text_split_method: params.text_split_method ?? "cut5",
    streaming_mode: params.streaming_mode ?? false,
    speed_factor: typeof params.speed_factor === "number" ? params.speed_factor : 1,
    fragment_interval: typeof params.fragment_interval === "number" ? params.fragment_interval : 0.3,
    super_sampling: params.super_sampling === true,
  };
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === "";
}

/** api_v2's check_params, message for message: languages are checked lowercased, named as sent. */
function checkParams(req: TtsRequest, version: ModelVersion): string | undefined {
  const languages = languagesOf(version);
  if (isBlank(req.ref_audio_path)) return "ref_audio_path is required";
  if (isBlank(req.text)) return "text is required";
  if (isBlank(req.text_lang)) return "text_lang is required";
  if (!languages.includes(String(req.text_lang).toLowerCase())) {
    return `text_lang: ${String(req.text_lang)} is not supported in version ${version}`;
  }
  if (isBlank(req.prompt_lang)) return "prompt_lang is required";
  if (!languages.includes(String(req.prompt_lang).toLowerCase())) {
    return `prompt_lang: ${String(req.prompt_lang)} is not supported in version ${version}`;
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

/** Whether `file` exists on the fake's host: under a listed directory ("…/") or a listed file. */
export function refAudioExists(file: string, existing: readonly string[]): boolean {
  const normalised = path.posix.normalize(file);
  return existing.some((entry) => {
    const listed = path.posix.normalize(entry);
    return entry.endsWith("/") ? normalised.startsWith(listed) && normalised.length > listed.length : normalised === listed;
  });
}

/**
 * TTS.run's setup before inference: what raises there becomes 400 "tts failed" (or a cut stream).
 * Its asserts compare the languages exactly as sent, hence the empty message for "EN".
 */
function setupError(req: TtsRequest, behaviour: SovitsBehaviour): string | undefined {
  const languages = languagesOf(behaviour.version);
  const promptText = String(req.prompt_text);
  if (!languages.includes(String(req.text_lang))) return "";
  if (promptText !== "" && !languages.includes(String(req.prompt_lang))) return "";
  if (promptText === "" && usesVocoder(behaviour.version)) return "prompt_text cannot be empty when using SoVITS_V3";
  const ref = String(req.ref_audio_path);
  if (!refAudioExists(ref, behaviour.refAudioPaths)) return `${ref} not exists`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Control endpoint

const BEHAVIOUR_KEYS = ["latencyMs", "perAudioSecondMs", "version", "refAudioPaths", "fault", "faultCount"];

/** Validates a JSON patch for setBehaviour(); returns an error message when it is not one. */
function parseBehaviourPatch(body: unknown): Partial<SovitsBehaviour> | string {
  if (!isRecord(body)) return "body must be a JSON object";
  const unknownKey = Object.keys(body).find((key) => !BEHAVIOUR_KEYS.includes(key));
  if (unknownKey) return `unknown key "${unknownKey}" (allowed: ${BEHAVIOUR_KEYS.join(", ")})`;
  const patch: Partial<SovitsBehaviour> = {};
  for (const key of ["latencyMs", "perAudioSecondMs"] as const) {
    const value = body[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) return `${key} must be a non-negative number`;
    patch[key] = value;
  }
  const { version, refAudioPaths, fault, faultCount } = body;
  if (version !== undefined) {
    const known = MODEL_VERSIONS.find((name) => name === version);
    if (!known) return `version must be one of ${MODEL_VERSIONS.join(", ")}`;
    patch.version = known;
  }
  if (refAudioPaths !== undefined) {
    if (!Array.isArray(refAudioPaths) || !refAudioPaths.every((entry) => typeof entry === "string" && entry !== "")) {
      return "refAudioPaths must be an array of paths (directories end in /)";
    }
    patch.refAudioPaths = refAudioPaths.map(String);
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

/** A route gets the request's body already read (POST) and the client-gone signal. */
type Route = (res: ServerResponse, url: URL, body: string, signal: AbortSignal) => Promise<void> | void;

/** Starlette's answer to unhandled exceptions. */
function internalServerError(res: ServerResponse): void {
  sendText(res, 500, "Internal Server Error");
}

/** FastAPI takes the last value of a repeated query parameter. */
function queryRecord(url: URL): Record<string, string> {
  return Object.fromEntries(url.searchParams.entries());
}

/**
 * Writes `chunk` and resolves once it is handed to the socket (so a later destroy() can't discard
 * it) or the client is gone.
 */
function writeFlushed(res: ServerResponse, chunk: Buffer, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener("abort", done);
      resolve();
    };
    signal.addEventListener("abort", done, { once: true });
    res.write(chunk, done);
  });
}

function sendAudio(res: ServerResponse, mediaType: string, sampleRate: number, pcm: Buffer): void {
  const body = mediaType === "wav" ? Buffer.concat([wavHeader(sampleRate, pcm.length), pcm]) : pcm;
  res.writeHead(200, { "Content-Type": `audio/${mediaType}`, "Content-Length": body.length });
  res.end(body);
}

class SovitsFake {
  behaviour: SovitsBehaviour;
  readonly requests: SovitsRequestRecord[] = [];
  readonly stats: SovitsStats = { waiting: 0, syntheses: 0, synthesisedAfterClientLeft: 0 };
  /** uvicorn's single event loop: one request at a time, in arrival order. */
  private readonly loop = new Semaphore(() => 1);
  private readonly routes: Record<string, Record<string, Route>>;
  private readonly controlRoutes: Record<string, Record<string, Route>>;

  constructor(private readonly initial: SovitsBehaviour) {
    this.behaviour = { ...initial };
    const admin = Object.fromEntries(
      Object.keys(ADMIN_ENDPOINTS).map((route) => [route, { GET: (res: ServerResponse, url: URL) => this.admin(res, url) }]),
    );
    this.routes = {
      "/tts": {
        GET: (res, url, body, signal) => this.ttsGet(res, url, signal),
        POST: (res, url, body, signal) => this.ttsPost(res, body, signal),
      },
      // Starlette serves HEAD for plain routes such as this one, but not for the API routes.
      "/openapi.json": { GET: (res) => sendJson(res, 200, OPENAPI), HEAD: (res) => sendJson(res, 200, OPENAPI) },
      ...admin,
    };
    this.controlRoutes = {
      "/__control": {
        GET: (res) => sendJson(res, 200, this.behaviour),
        POST: (res, url, body) => this.control(body, res),
      },
      "/__control/requests": { GET: (res) => sendJson(res, 200, this.requests) },
      "/__control/stats": { GET: (res) => sendJson(res, 200, this.stats) },
      "/__control/reset": {
        POST: (res) => {
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
    // Requests still in line keep counting as waiting until their turn.
    Object.assign(this.stats, { syntheses: 0, synthesisedAfterClientLeft: 0 });
  }

  handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://fake");
    const signal = clientGone(res);
    // The body is in the socket buffer long before the server gets to it.
    const body = req.method === "POST" ? await readBody(req) : "";
    const control = this.controlRoutes[url.pathname];
    if (control) return this.route(control, req, res, url, body, signal);
    this.stats.waiting += 1;
    const release = await this.loop.acquire();
    this.stats.waiting -= 1;
    try {
      await this.route(this.routes[url.pathname], req, res, url, body, signal);
    } finally {
      release?.();
    }
  };

  private async route(
    methods: Record<string, Route> | undefined,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    body: string,
    signal: AbortSignal,
  ): Promise<void> {
    if (!methods) return sendJson(res, 404, { detail: "Not Found" });
    const route = methods[req.method ?? "GET"];
    if (!route) return sendJson(res, 405, { detail: "Method Not Allowed" }, { Allow: Object.keys(methods).join(", ") });
    await route(res, url, body, signal);
  }

  private record(method: string, route: string, params: unknown): void {
    this.requests.push({ method, path: route, params });
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

  private async ttsGet(res: ServerResponse, url: URL, signal: AbortSignal): Promise<void> {
    const query = queryRecord(url);
    this.record("GET", "/tts", query);
    const checked = validateFields(query, QUERY_FIELDS, "query");
    if (!checked.ok) return sendJson(res, 422, { detail: checked.issues });
    const { text_lang: textLang, prompt_lang: promptLang } = checked.params;
    // The GET handler calls .lower() on both before any check: missing ones crash it.
    if (typeof textLang !== "string" || typeof promptLang !== "string") return internalServerError(res);
    const params = { ...checked.params, text_lang: textLang.toLowerCase(), prompt_lang: promptLang.toLowerCase() };
    await this.tts(res, ttsRequest(params), signal);
  }

  private async ttsPost(res: ServerResponse, raw: string, signal: AbortSignal): Promise<void> {
    const parsed = parseJson(raw);
    this.record("POST", "/tts", parsed.ok ? parsed.value : raw);
    const checked = validateBody(raw);
    if (!checked.ok) return sendJson(res, 422, { detail: checked.issues });
    await this.tts(res, ttsRequest(checked.params), signal);
  }

  /** Consumes one use of a counted fault. */
  private takeFault(): SovitsFault {
    const { fault, next } = takeFault(this.behaviour);
    this.behaviour = next;
    return fault;
  }

  /** How long producing `seconds` of audio takes, the first audio's latency included or not. */
  private synthesisMs(seconds: number, first: boolean): number {
    return (first ? this.behaviour.latencyMs : 0) + this.behaviour.perAudioSecondMs * seconds;
  }

  private async tts(res: ServerResponse, req: TtsRequest, signal: AbortSignal): Promise<void> {
    const { behaviour } = this;
    const problem = checkParams(req, behaviour.version);
    if (problem) return sendJson(res, 400, { message: problem });
    const requestedMode = streamingMode(req.streaming_mode);
    if (requestedMode === undefined) {
      return sendJson(res, 400, { message: "the value of streaming_mode must be 0, 1, 2, 3(int) or true/false(bool)" });
    }
    // TTS.run falls back to one fragment at a time when a vocoder model is asked to stream.
    const mode = requestedMode >= 2 && usesVocoder(behaviour.version) ? 1 : requestedMode;
    const mediaType = String(req.media_type);
    if (!SYNTHESISED_MEDIA_TYPES.includes(mediaType)) {
      return sendJson(res, 400, { message: "tts failed", Exception: "fake supports wav/raw only" });
    }
    if (req.speed_factor <= 0) return sendJson(res, 400, { message: "tts failed", Exception: "speed_factor must be positive" });

    const fault = this.takeFault();
    if (fault === "http500") return internalServerError(res);
    const setup = fault === "tts-failed" ? "fake inference failure" : setupError(req, behaviour);
    const synthesis = synthesize(String(req.text), {
      sampleRate: sampleRateOf(behaviour.version, req.super_sampling),
      speedFactor: req.speed_factor,
      fragmentInterval: req.fragment_interval,
    });
    if (mode === 0) {
      if (setup !== undefined) return sendJson(res, 400, { message: "tts failed", Exception: setup });
      return this.sendFile(res, synthesis, mediaType, fault, signal);
    }
    return this.stream(res, synthesis, mediaType, mode, setup === undefined ? fault : "tts-failed", signal);
  }

  /** The whole file once synthesised; the synthesis runs to the end even if the client left. */
  private async sendFile(res: ServerResponse, synthesis: Synthesis, mediaType: string, fault: SovitsFault, signal: AbortSignal): Promise<void> {
    this.stats.syntheses += 1;
    const pcm = Buffer.concat(synthesis.fragments.flatMap(({ voice, silence }) => [voice, silence]));
    const failed = fault === "inference-error" || synthesis.fragments.length === 0;
    await delay(failed ? this.behaviour.latencyMs : this.synthesisMs(pcm.length / 2 / synthesis.sampleRate, true));
    if (signal.aborted) {
      this.stats.synthesisedAfterClientLeft += 1;
      return;
    }
    if (failed) return sendAudio(res, mediaType, SILENCE_SAMPLE_RATE, silenceClip());
    if (fault === "cut-stream") {
      const body = mediaType === "wav" ? Buffer.concat([wavHeader(synthesis.sampleRate, pcm.length), pcm]) : pcm;
      res.writeHead(200, { "Content-Type": `audio/${mediaType}`, "Content-Length": body.length });
      await writeFlushed(res, body.subarray(0, Math.floor(body.length / 2)), signal);
      res.destroy();
      return;
    }
    sendAudio(res, mediaType, synthesis.sampleRate, pcm);
  }

  /**
   * Chunked body, headers at once: for wav a 44-byte header with data size 0 right before the
   * first audio, then bare PCM. Failures after the headers can only cut the body off.
   */
  private async stream(res: ServerResponse, synthesis: Synthesis, mediaType: string, mode: number, fault: SovitsFault, signal: AbortSignal): Promise<void> {
    res.writeHead(200, { "Content-Type": `audio/${mediaType}` });
    res.flushHeaders();
    if (fault === "tts-failed") {
      // A setup failure raises before the first chunk.
      res.destroy();
      return;
    }
    this.stats.syntheses += 1;
    const failed = fault === "inference-error";
    // TTS.py yields its 16 kHz silence, then raises.
    const chunks = failed ? [silenceClip()] : streamChunks(synthesis, mode);
    const sampleRate = failed ? SILENCE_SAMPLE_RATE : synthesis.sampleRate;
    const sent = fault === "cut-stream" ? chunks.slice(0, 1) : chunks;
    for (const [index, chunk] of sent.entries()) {
      const ms = failed ? this.behaviour.latencyMs : this.synthesisMs(chunk.length / 2 / sampleRate, index === 0);
      if (!(await pause(ms, signal))) return;
      if (index === 0 && mediaType === "wav") res.write(wavHeader(sampleRate, 0));
      await writeFlushed(res, chunk, signal);
    }
    if (fault === "none") res.end();
    else res.destroy();
  }
}

export async function startFakeSovits(opts: FakeSovitsOptions = {}): Promise<FakeSovits> {
  const fake = new SovitsFake({
    latencyMs: opts.latencyMs ?? DEFAULT_LATENCY_MS,
    perAudioSecondMs: opts.perAudioSecondMs ?? DEFAULT_PER_AUDIO_SECOND_MS,
    version: opts.version ?? "v2",
    refAudioPaths: [...(opts.refAudioPaths ?? DEFAULT_REF_AUDIO_PATHS)],
    fault: "none",
    faultCount: null,
  });
  const served = await serveFake(fake, opts.port, opts.host);
  return Object.defineProperty(served, "stats", { get: () => ({ ...fake.stats }), enumerable: true }) as typeof served & { readonly stats: SovitsStats };
}

if (isDirectRun(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      latency: { type: "string" },
      "per-audio-second": { type: "string" },
      version: { type: "string" },
      "ref-audio-paths": { type: "string" },
    },
  });
  const version = MODEL_VERSIONS.find((name) => name === (values.version ?? "v2"));
  if (!version) throw new Error(`--version must be one of ${MODEL_VERSIONS.join(", ")}`);
  const fake = await startFakeSovits({
    port: numberArg(values.port, 9880, "port"),
    host: values.host ?? "127.0.0.1",
    latencyMs: numberArg(values.latency, DEFAULT_LATENCY_MS, "latency"),
    perAudioSecondMs: numberArg(values["per-audio-second"], DEFAULT_PER_AUDIO_SECOND_MS, "per-audio-second"),
    version,
    refAudioPaths: values["ref-audio-paths"]?.split(",").filter(Boolean),
  });
  console.log(`fake gpt-sovits listening on ${fake.url}`);
  closeOnSignal(fake.close);
}
