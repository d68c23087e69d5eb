// Fake Ollama server speaking the subset of the HTTP API described in
// /work/shared/protocols/ollama.md, so the app's unchanged `ollama` client can be tested against
// deterministic replies, faults and disconnects.
//
// It schedules like the real server (server/sched.go, llm/llama_server.go) at short timings, so
// every test meets its unkind parts by default:
// - one request at a time per loaded model (`numParallel`, OLLAMA_NUM_PARALLEL = 1); the others
//   wait without response headers, exactly like a hung request, first come first served; past
//   `maxQueue` waiting requests the next one is refused with 503 (the real server bounds only
//   requests awaiting scheduling; the fake bounds every waiting one, so a test can reach it);
// - a model that is not loaded costs `loadDelayMs` before the first token; it stays loaded for
//   the request's `keep_alive` (default 5 m) after its last request;
// - a request whose runner options differ (`num_ctx`, or num_batch/num_gpu/main_gpu/use_mmap/
//   num_thread) waits for the requests in flight, then the model is unloaded and loaded again.
//   A request without `num_ctx` gets `defaultNumCtx` (4096, what the real server picks on small
//   GPUs); two such requests never cause a reload, like the real server's automatic context;
// - a client that leaves while waiting is dropped from the line; one that leaves during the load
//   it started aborts that load (the model stays unloaded);
// - thinking models think first unless `think: false`, and thinking tokens count against
//   `num_predict`.
// Replies are one token per word (with its leading whitespace), so `num_predict` cuts them
// predictably.
//
//   npx tsx e2e/fakes/ollama.ts --port 11434 --delay 30 [--parallel 1] [--max-queue 512] [--load-delay 150] [--default-num-ctx 4096]
import { createHash } from "node:crypto";
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
  Semaphore,
  sendJson,
  sendText,
  serveFake,
  takeFault,
  unlessAborted,
  waitForAbort,
} from "./server-kit";

export const FAKE_OLLAMA_VERSION = "0.33.0-fake";

export interface FakeModel {
  name: string;
  /** Also the architecture key in /api/show model_info, e.g. "qwen2.context_length". */
  family?: string;
  /** The model's maximum context (what /api/show reports; a larger num_ctx is capped to it). */
  contextLength?: number;
  parameterSize?: string;
  quantizationLevel?: string;
  sizeBytes?: number;
  /** A thinking model (qwen3, deepseek-r1, gpt-oss): thinks first unless told `think: false`. */
  thinking?: boolean;
}

export const DEFAULT_MODELS: readonly FakeModel[] = [
  { name: "qwen2.5:7b", family: "qwen2", contextLength: 32768, parameterSize: "7.6B", sizeBytes: 4_683_087_332 },
  { name: "llama3.2:3b", family: "llama", contextLength: 131072, parameterSize: "3.2B", sizeBytes: 2_019_393_189 },
  { name: "qwen3:8b", family: "qwen3", contextLength: 40960, parameterSize: "8.2B", sizeBytes: 5_225_388_164, thinking: true },
];

export const OLLAMA_FAULTS = [
  "none",
  "http500", // 500 {"error":"fake internal error"}
  "unknown-model", // 404 {"error":"model \"X\" not found, try pulling it first"} (a blob missing while scheduling)
  "midstream-error", // a few tokens, then an {"error"} line (500 when not streaming)
  "hang", // request accepted, nothing ever sent until the client disconnects (holds its slot)
  "stall", // headers and a few tokens, then silence until the client disconnects
  "drop", // a few tokens, then the body ends cleanly without a done line
  "reset", // a few tokens, then the socket is destroyed (client sees a network error)
] as const;
export type OllamaFault = (typeof OLLAMA_FAULTS)[number];

export interface OllamaBehaviour {
  tokenDelayMs: number;
  models: FakeModel[];
  fault: OllamaFault;
  /** How many more chat requests the fault applies to; null = until changed. */
  faultCount: number | null;
  /** Replaces fakeReply() for every chat while set. */
  reply: string | null;
  /** Requests generating at once per loaded model (OLLAMA_NUM_PARALLEL). */
  numParallel: number;
  /** Requests that may wait (for a slot, a load or a reload) before the next one gets 503 (OLLAMA_MAX_QUEUE). */
  maxQueue: number;
  /** Time to load a model that is not loaded (before any header). */
  loadDelayMs: number;
  /** The context a runner gets when the request has no options.num_ctx. */
  defaultNumCtx: number;
}

export interface OllamaStats {
  /** Chat requests accepted and not finished: waiting, loading or generating. */
  activeChatStreams: number;
  /** Of the active ones, those still without response headers (waiting for a slot, a load or a reload). */
  queuedChatRequests: number;
  /** The client disconnected before the done line (e.g. the app's Stop aborted the request). */
  abortedChatStreams: number;
  completedChatStreams: number;
  /** Ended by an injected fault (midstream-error, drop, reset). */
  failedChatStreams: number;
  /** Of the aborted ones, those whose client left while waiting (dropped from the line). */
  droppedWhileQueued: number;
  /** Refused with 503 because maxQueue requests were already waiting. */
  rejectedBusy: number;
  /** Model loads started, reloads included. */
  loads: number;
  /** Loads that replaced a loaded runner because the runner options (num_ctx …) changed. */
  reloads: number;
  /** Loads aborted because the client that started them left. */
  abortedLoads: number;
  /** Runners unloaded: idle after keep_alive, keep_alive 0, or replaced by a reload. */
  unloads: number;
}

export interface FakeOllamaOptions {
  port?: number;
  host?: string;
  tokenDelayMs?: number;
  models?: FakeModel[];
  numParallel?: number;
  maxQueue?: number;
  loadDelayMs?: number;
  defaultNumCtx?: number;
}

export interface FakeOllama {
  url: string;
  port: number;
  close(): Promise<void>;
  setBehaviour(patch: Partial<OllamaBehaviour>): OllamaBehaviour;
  /** Back to the start options; clears recorded requests, counters and loaded models. */
  reset(): void;
  readonly behaviour: OllamaBehaviour;
  /** Bodies received on /api/chat, oldest first (raw text when the body was not JSON). */
  readonly requests: unknown[];
  readonly stats: OllamaStats;
}

export interface FakeChatMessage {
  role: string;
  content: string;
}

const DEFAULT_TOKEN_DELAY_MS = 10;
export const DEFAULT_NUM_PARALLEL = 1;
export const DEFAULT_MAX_QUEUE = 512;
export const DEFAULT_LOAD_DELAY_MS = 150;
/** What the real server picks without num_ctx on a GPU under 24 GiB (and what /api/ps then shows). */
export const DEFAULT_NUM_CTX = 4096;
const DEFAULT_KEEP_ALIVE_MS = 5 * 60_000;
/** What /api/ps shows for a model kept loaded forever (a negative keep_alive). */
const FOREVER = Date.UTC(2318, 0, 1);
const FAULT_AFTER_TOKENS = 3;
const MAX_RECORDED_REQUESTS = 1000;
/** Fixed so /api/tags output is deterministic. */
const MODIFIED_AT = "2025-01-01T00:00:00Z";
const HANGUL = /[\u1100-\u11FF\u3130-\u318F\uAC00-\uD7AF]/;
const ECHO_LENGTH = 40;
/** System prompts up to this length are task instructions (title, summary), not personas. */
const TASK_PROMPT_MAX = 400;
const BUSY_ERROR = "server busy, please try again.  maximum pending requests exceeded";

// ---------------------------------------------------------------------------------------------
// Deterministic replies

/**
 * The reply the fake generates for `messages`: a short role-play line in the language of the last
 * user message that quotes its first 40 characters, so tests can assert on it. Title and summary
 * requests (recognised by keywords in the system messages or the last user message) get a title or
 * a "Summary:"/"요약:" line instead.
 */
export function fakeReply(messages: readonly FakeChatMessage[]): string {
  const userTexts = messages.filter((m) => m.role === "user").map((m) => m.content);
  const lastUser = userTexts.at(-1) ?? "";
  const systemText = messages
    .filter((m) => m.role === "system")
    .map((m) => m.content)
    .join("\n");
  // Only a short task instruction asks for a title or a summary; a long system prompt is a
  // character's persona, which may mention titles or summaries in passing.
  const task = systemText.length <= TASK_PROMPT_MAX ? systemText : "";
  if (/\btitle\b/i.test(task) || task.includes("제목")) return fakeTitle(userTexts[0] ?? "");

  const instructions = `${task}\n${lastUser}`;
  const echo = excerpt(lastUser);
  const korean = HANGUL.test(lastUser);
  if (/summar/i.test(instructions) || instructions.includes("요약")) {
    return korean ? `요약: "${echo}"에 대해 이야기를 나눴다.` : `Summary: We talked about "${echo}".`;
  }
  return korean
    ? `*미소를 지으며* "${echo}"라고 하셨군요. 정말 흥미로운 이야기예요! 조금 더 들려주시겠어요?`
    : `*smiles warmly* You said "${echo}". That is fascinating! Tell me more?`;
}

/** What a thinking model thinks before fakeReply(): always English, like qwen3's reasoning. */
export function fakeThinking(messages: readonly FakeChatMessage[]): string {
  const lastUser = messages.filter((m) => m.role === "user").at(-1)?.content ?? "";
  return `Okay, the user wrote "${excerpt(lastUser)}". I should answer in character, briefly and warmly.`;
}

function fakeTitle(firstUserText: string): string {
  const words = firstUserText
    .replace(/[^\p{L}\p{N}\s]/gu, " ")
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 4);
  return words.length > 0 ? words.join(" ") : "New chat";
}

/** First 40 characters (code points, never half a surrogate pair) with whitespace collapsed. */
function excerpt(text: string): string {
  return Array.from(text.replace(/\s+/g, " ").trim()).slice(0, ECHO_LENGTH).join("");
}

/** Word-sized tokens that keep their leading whitespace, so joining them restores the text. */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+|\s+/g) ?? [];
}

function promptTokenCount(messages: readonly FakeChatMessage[]): number {
  const chars = messages.reduce((sum, m) => sum + m.content.length, 0);
  return Math.max(1, Math.ceil(chars / 3));
}

// ---------------------------------------------------------------------------------------------
// Request validation (mirrors the Go server: JSON type errors, then model, then options)

/** The options that shape a runner (api.Runner): a request that changes one reloads the model. */
interface RunnerOptions {
  /** null: the request did not set num_ctx, so the server's default applies. */
  numCtx: number | null;
  numBatch: number;
  numGpu: number;
  mainGpu: number;
  numThread: number;
  useMmap: boolean | null;
}

interface ChatRequest {
  model: string;
  messages: FakeChatMessage[];
  stream: boolean;
  /** <= 0 means unlimited. */
  numPredict: number;
  runner: RunnerOptions;
  /** null: keep_alive absent. */
  keepAliveMs: number | null;
  /** null: think absent (on for thinking models); "low"/"medium"/"high" count as on. */
  think: boolean | null;
  toolCount: number;
  options: Record<string, unknown>;
}

type Checked<T> = { ok: true; value: T } | { ok: false; status: number; error: string };

type JsonKind = "null" | "string" | "number" | "bool" | "array" | "object";

function jsonKind(value: unknown): JsonKind {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "string") return "string";
  if (typeof value === "number") return "number";
  return "object";
}

function unmarshalError(value: unknown, field: string, goType: string): string {
  return `json: cannot unmarshal ${jsonKind(value)} into Go struct field ${field} of type ${goType}`;
}

/** Go leaves a field at its zero value for JSON null, so null counts as absent everywhere. */
function typeErrors(record: Record<string, unknown>, prefix: string, fields: Record<string, [JsonKind, string]>): string | undefined {
  for (const [key, [kind, goType]] of Object.entries(fields)) {
    const value = record[key];
    if (value !== null && value !== undefined && jsonKind(value) !== kind) {
      return unmarshalError(value, `${prefix}.${key}`, goType);
    }
  }
  return undefined;
}

const CHAT_FIELDS: Record<string, [JsonKind, string]> = {
  model: ["string", "string"],
  stream: ["bool", "bool"],
  messages: ["array", "[]api.Message"],
  options: ["object", "map[string]interface {}"],
  tools: ["array", "api.Tools"],
};

const MESSAGE_FIELDS: Record<string, [JsonKind, string]> = {
  role: ["string", "string"],
  content: ["string", "string"],
  thinking: ["string", "string"],
  images: ["array", "[]api.ImageData"],
  tool_calls: ["array", "[]api.ToolCall"],
  tool_name: ["string", "string"],
};

type OptionType = "int" | "float" | "bool" | "strings";

/** Runtime and load options of api.Options; unknown keys are ignored like the real server. */
const OPTION_TYPES: Record<string, OptionType> = {
  num_keep: "int",
  seed: "int",
  num_predict: "int",
  top_k: "int",
  repeat_last_n: "int",
  num_ctx: "int",
  num_batch: "int",
  num_gpu: "int",
  main_gpu: "int",
  num_thread: "int",
  top_p: "float",
  min_p: "float",
  typical_p: "float",
  temperature: "float",
  repeat_penalty: "float",
  presence_penalty: "float",
  frequency_penalty: "float",
  penalize_newline: "bool",
  numa: "bool",
  use_mmap: "bool",
  stop: "strings",
};

const OPTION_TYPE_NAMES: Record<OptionType, string> = {
  int: "integer",
  float: "float32",
  bool: "boolean",
  strings: "array of strings",
};

function optionError(options: Record<string, unknown>): string | undefined {
  for (const [key, value] of Object.entries(options)) {
    const type = OPTION_TYPES[key];
    if (type === undefined || value === null) continue;
    const valid =
      type === "bool"
        ? typeof value === "boolean"
        : type === "strings"
          ? Array.isArray(value) && value.every((item) => typeof item === "string")
          : typeof value === "number";
    if (!valid) return `option "${key}" must be of type ${OPTION_TYPE_NAMES[type]}`;
  }
  return undefined;
}

function intOption(options: Record<string, unknown>, key: string, fallback: number): number {
  const value = options[key];
  return typeof value === "number" ? Math.trunc(value) : fallback;
}

/** api.DefaultOptions() for the runner part; num_gpu -1 means "as many layers as fit". */
function runnerOptions(options: Record<string, unknown>): RunnerOptions {
  return {
    numCtx: typeof options.num_ctx === "number" ? Math.trunc(options.num_ctx) : null,
    numBatch: intOption(options, "num_batch", 512),
    numGpu: intOption(options, "num_gpu", -1),
    mainGpu: intOption(options, "main_gpu", 0),
    numThread: intOption(options, "num_thread", 0),
    useMmap: typeof options.use_mmap === "boolean" ? options.use_mmap : null,
  };
}

/** Go's time.ParseDuration units; keep_alive numbers are seconds. */
const DURATION_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseKeepAlive(value: unknown): Checked<number | null> {
  if (value === null || value === undefined) return { ok: true, value: null };
  if (typeof value === "number") return { ok: true, value: value * 1000 };
  if (typeof value !== "string") return { ok: false, status: 400, error: `Unsupported type: '${jsonKind(value)}'` };
  const match = /^([+-]?)((?:\d+(?:\.\d*)?(?:ns|us|µs|ms|s|m|h))+|0)$/.exec(value);
  if (!match) return { ok: false, status: 400, error: `time: invalid duration "${value}"` };
  let ms = 0;
  for (const [, amount, unit] of (match[2] ?? "").matchAll(/(\d+(?:\.\d*)?)(ns|us|µs|ms|s|m|h)/g)) {
    ms += Number(amount) * (DURATION_UNITS_MS[unit ?? "s"] ?? 0);
  }
  return { ok: true, value: match[1] === "-" ? -ms : ms };
}

function parseThink(value: unknown): Checked<boolean | null> {
  if (value === null || value === undefined) return { ok: true, value: null };
  if (typeof value === "boolean") return { ok: true, value };
  if (value === "high" || value === "medium" || value === "low") return { ok: true, value: true };
  return {
    ok: false,
    status: 400,
    error: `invalid think value: ${JSON.stringify(value)} (must be "high", "medium", "low", true, or false)`,
  };
}

function parseMessages(value: unknown): Checked<FakeChatMessage[]> {
  const messages: FakeChatMessage[] = [];
  for (const item of Array.isArray(value) ? value : []) {
    if (item === null) {
      messages.push({ role: "", content: "" });
      continue;
    }
    if (!isRecord(item)) {
      return { ok: false, status: 400, error: unmarshalError(item, "ChatRequest.messages", "api.Message") };
    }
    const error = typeErrors(item, "ChatRequest.messages", MESSAGE_FIELDS);
    if (error) return { ok: false, status: 400, error };
    const role = typeof item.role === "string" ? item.role : "";
    const content = typeof item.content === "string" ? item.content : "";
    messages.push({ role, content });
  }
  return { ok: true, value: messages };
}

/** Decodes the body like the Go server's JSON binding: everything except model lookup. */
function decodeChatRequest(raw: string): Checked<ChatRequest> {
  if (raw.trim() === "") return { ok: false, status: 400, error: "missing request body" };
  const parsed = parseJson(raw);
  if (!parsed.ok) return { ok: false, status: 400, error: parsed.error };
  const body = parsed.value;
  if (!isRecord(body)) {
    return { ok: false, status: 400, error: `json: cannot unmarshal ${jsonKind(body)} into Go value of type api.ChatRequest` };
  }
  const fieldError = typeErrors(body, "ChatRequest", CHAT_FIELDS);
  if (fieldError) return { ok: false, status: 400, error: fieldError };
  const messages = parseMessages(body.messages);
  if (!messages.ok) return messages;
  const keepAlive = parseKeepAlive(body.keep_alive);
  if (!keepAlive.ok) return keepAlive;
  const think = parseThink(body.think);
  if (!think.ok) return think;

  const options = isRecord(body.options) ? body.options : {};
  return {
    ok: true,
    value: {
      model: typeof body.model === "string" ? body.model : "",
      messages: messages.value,
      // The server streams unless told otherwise; the JS client always sends the flag.
      stream: body.stream !== false,
      numPredict: intOption(options, "num_predict", -1),
      runner: runnerOptions(options),
      keepAliveMs: keepAlive.value,
      think: think.value,
      toolCount: Array.isArray(body.tools) ? body.tools.length : 0,
      options,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Behaviour patches from the control endpoint

const BEHAVIOUR_KEYS = ["tokenDelayMs", "models", "fault", "faultCount", "reply", "numParallel", "maxQueue", "loadDelayMs", "defaultNumCtx"];

function parseModel(value: unknown): FakeModel | undefined {
  if (!isRecord(value) || typeof value.name !== "string" || value.name === "") return undefined;
  const model: FakeModel = { name: value.name };
  for (const key of ["family", "parameterSize", "quantizationLevel"] as const) {
    const field = value[key];
    if (field === undefined) continue;
    if (typeof field !== "string") return undefined;
    model[key] = field;
  }
  for (const key of ["contextLength", "sizeBytes"] as const) {
    const field = value[key];
    if (field === undefined) continue;
    if (typeof field !== "number" || !Number.isInteger(field) || field <= 0) return undefined;
    model[key] = field;
  }
  if (value.thinking !== undefined) {
    if (typeof value.thinking !== "boolean") return undefined;
    model.thinking = value.thinking;
  }
  return model;
}

/** Numeric knobs: [minimum, integer only]. */
const NUMBER_KNOBS = {
  tokenDelayMs: [0, false],
  loadDelayMs: [0, false],
  numParallel: [1, true],
  maxQueue: [0, true],
  defaultNumCtx: [4, true],
} as const satisfies Record<string, readonly [number, boolean]>;

/** Validates a JSON patch for setBehaviour(); returns an error message when it is not one. */
function parseBehaviourPatch(body: unknown): Partial<OllamaBehaviour> | string {
  if (!isRecord(body)) return "body must be a JSON object";
  const unknownKey = Object.keys(body).find((key) => !BEHAVIOUR_KEYS.includes(key));
  if (unknownKey) return `unknown key "${unknownKey}" (allowed: ${BEHAVIOUR_KEYS.join(", ")})`;
  const patch: Partial<OllamaBehaviour> = {};
  for (const [key, [minimum, integer]] of Object.entries(NUMBER_KNOBS) as Array<[keyof typeof NUMBER_KNOBS, readonly [number, boolean]]>) {
    const value = body[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value) || value < minimum || (integer && !Number.isInteger(value))) {
      return `${key} must be ${integer ? "an integer" : "a number"} >= ${minimum}`;
    }
    patch[key] = value;
  }
  const { models, fault, faultCount, reply } = body;
  if (models !== undefined) {
    const parsed = Array.isArray(models) ? models.map(parseModel) : [undefined];
    if (parsed.some((model) => model === undefined)) {
      return "models must be an array of {name, family?, contextLength?, parameterSize?, quantizationLevel?, sizeBytes?, thinking?}";
    }
    patch.models = parsed.filter((model): model is FakeModel => model !== undefined);
  }
  if (fault !== undefined) {
    const known = OLLAMA_FAULTS.find((name) => name === fault);
    if (!known) return `fault must be one of ${OLLAMA_FAULTS.join(", ")}`;
    patch.fault = known;
  }
  if (faultCount !== undefined) {
    if (!isFaultCount(faultCount)) return FAULT_COUNT_ERROR;
    patch.faultCount = faultCount;
  }
  if (reply !== undefined) {
    if (reply !== null && typeof reply !== "string") return "reply must be a string or null";
    patch.reply = reply;
  }
  return patch;
}

// ---------------------------------------------------------------------------------------------
// Model listing

function modelFamily(model: FakeModel): string {
  return model.family ?? "llama";
}

function modelDetails(model: FakeModel) {
  const family = modelFamily(model);
  return {
    parent_model: "",
    format: "gguf",
    family,
    families: [family],
    parameter_size: model.parameterSize ?? "7B",
    quantization_level: model.quantizationLevel ?? "Q4_K_M",
  };
}

function modelSummary(model: FakeModel) {
  return {
    name: model.name,
    model: model.name,
    modified_at: MODIFIED_AT,
    size: model.sizeBytes ?? 4_000_000_000,
    digest: createHash("sha256").update(model.name).digest("hex"),
    details: modelDetails(model),
  };
}

function showResponse(model: FakeModel) {
  const family = modelFamily(model);
  return {
    license: "",
    modelfile: `# Modelfile generated by "ollama show"\nFROM ${model.name}\n`,
    parameters: 'stop "<|im_end|>"',
    template: "{{ .Prompt }}",
    details: modelDetails(model),
    model_info: {
      "general.architecture": family,
      [`${family}.context_length`]: model.contextLength ?? 8192,
    },
    capabilities: model.thinking ? ["completion", "thinking"] : ["completion"],
    modified_at: MODIFIED_AT,
  };
}

/** Ollama accepts a bare name for the ":latest" tag. */
function findModel(models: readonly FakeModel[], name: string): FakeModel | undefined {
  return models.find((model) => model.name === name || model.name === `${name}:latest`);
}

// ---------------------------------------------------------------------------------------------
// Runners: loaded models and their scheduling

/** A runner's options as loaded: num_ctx resolved (server default, capped by the model). */
interface LoadedOptions extends RunnerOptions {
  numCtx: number;
  /** num_ctx came from the server's default, not the request. */
  numCtxAuto: boolean;
}

function resolveRunnerOptions(model: FakeModel, wanted: RunnerOptions, defaultNumCtx: number): LoadedOptions {
  const numCtx = Math.max(4, wanted.numCtx ?? defaultNumCtx);
  return { ...wanted, numCtx: Math.min(numCtx, model.contextLength ?? numCtx), numCtxAuto: wanted.numCtx === null };
}

/** runnerRef.needsReload: two automatic contexts match; num_gpu < 0 never forces a reload. */
function needsReload(loaded: LoadedOptions, wanted: LoadedOptions): boolean {
  const numCtx = loaded.numCtxAuto && wanted.numCtxAuto ? loaded.numCtx : wanted.numCtx;
  const numGpu = wanted.numGpu < 0 ? loaded.numGpu : wanted.numGpu;
  return (
    numCtx !== loaded.numCtx ||
    numGpu !== loaded.numGpu ||
    wanted.numBatch !== loaded.numBatch ||
    wanted.mainGpu !== loaded.mainGpu ||
    wanted.numThread !== loaded.numThread ||
    wanted.useMmap !== loaded.useMmap
  );
}

/** One loaded (or loading) model: its slots, who holds it, and when it goes away. */
class Runner {
  state: "loading" | "ready" = "loading";
  /** Requests holding the runner (waiting for a slot or generating). */
  refCount = 0;
  /** A reload is waiting: unload as soon as nobody holds the runner. */
  expireWhenIdle = false;
  /** When an idle runner unloads; null while held. */
  expiresAt: number | null = null;
  timer: NodeJS.Timeout | undefined;
  readonly slots: Semaphore;
  readonly ready: Promise<boolean>;
  readonly gone: Promise<void>;
  settleReady: (loaded: boolean) => void = () => undefined;
  settleGone: () => void = () => undefined;

  constructor(
    readonly model: FakeModel,
    readonly options: LoadedOptions,
    public sessionMs: number,
    numParallel: () => number,
  ) {
    this.slots = new Semaphore(numParallel);
    this.ready = new Promise((resolve) => (this.settleReady = resolve));
    this.gone = new Promise((resolve) => (this.settleGone = resolve));
  }
}

// ---------------------------------------------------------------------------------------------
// Responses

type Outcome = "completed" | "aborted" | "dropped" | "failed";

interface Timings {
  startedAt: bigint;
  generationStartedAt: bigint;
  firstTokenAt?: bigint;
}

function createdAt(): string {
  return new Date().toISOString();
}

function elapsedNs(from: bigint, to: bigint = process.hrtime.bigint()): number {
  return Math.max(1, Number(to - from));
}

/** The final line: zero-valued metrics are omitted like the Go server's `omitempty`. */
function finalResponse(chat: ChatRequest, doneReason: string, evalCount: number, timings: Timings) {
  const now = process.hrtime.bigint();
  const firstTokenAt = timings.firstTokenAt ?? now;
  const metrics: Record<string, number> = {
    total_duration: elapsedNs(timings.startedAt, now),
    // Queue and load, as the real server measures it.
    load_duration: elapsedNs(timings.startedAt, timings.generationStartedAt),
    prompt_eval_count: promptTokenCount(chat.messages),
    prompt_eval_duration: elapsedNs(timings.generationStartedAt, firstTokenAt),
    eval_count: evalCount,
    eval_duration: evalCount > 0 ? elapsedNs(firstTokenAt, now) : 0,
  };
  const nonZero = Object.fromEntries(Object.entries(metrics).filter(([, value]) => value !== 0));
  return {
    model: chat.model,
    created_at: createdAt(),
    message: { role: "assistant", content: "" },
    done: true,
    done_reason: doneReason,
    ...nonZero,
  };
}

/** NDJSON body whose headers go out with the first line, as gin does. */
class NdjsonStream {
  constructor(private readonly res: ServerResponse) {}

  line(value: unknown): void {
    if (!this.res.headersSent) this.res.writeHead(200, { "Content-Type": "application/x-ndjson" });
    this.res.write(`${JSON.stringify(value)}\n`);
  }

  end(): void {
    if (!this.res.headersSent) this.res.writeHead(200, { "Content-Type": "application/x-ndjson" });
    this.res.end();
  }
}

function sendError(res: ServerResponse, status: number, error: string): void {
  sendJson(res, status, { error });
}

/** One generated token: thinking first (thinking models), then the answer. */
interface Token {
  text: string;
  thinking: boolean;
}

// ---------------------------------------------------------------------------------------------
// The server

/** Every path the fake serves and its methods; another method there is gin's 405. */
const ROUTE_METHODS: Record<string, string[]> = {
  "/": ["GET", "HEAD"],
  "/api/version": ["GET", "HEAD"],
  "/api/tags": ["GET", "HEAD"],
  "/api/ps": ["GET"],
  "/api/show": ["POST"],
  "/api/chat": ["POST"],
  "/__control": ["GET", "POST"],
  "/__control/requests": ["GET"],
  "/__control/stats": ["GET"],
  "/__control/reset": ["POST"],
};

const EMPTY_STATS: Omit<OllamaStats, "activeChatStreams" | "queuedChatRequests"> = {
  abortedChatStreams: 0,
  completedChatStreams: 0,
  failedChatStreams: 0,
  droppedWhileQueued: 0,
  rejectedBusy: 0,
  loads: 0,
  reloads: 0,
  abortedLoads: 0,
  unloads: 0,
};

class OllamaFake {
  behaviour: OllamaBehaviour;
  readonly requests: unknown[] = [];
  readonly stats: OllamaStats = { activeChatStreams: 0, queuedChatRequests: 0, ...EMPTY_STATS };
  private readonly runners = new Map<string, Runner>();
  /** The scheduler decides for one request at a time (loads, reloads), like processPending. */
  private readonly scheduler = new Semaphore(() => 1);

  constructor(private readonly initial: OllamaBehaviour) {
    this.behaviour = { ...initial, models: [...initial.models] };
  }

  setBehaviour(patch: Partial<OllamaBehaviour>): OllamaBehaviour {
    this.behaviour = patchBehaviour(this.behaviour, patch);
    return this.behaviour;
  }

  reset(): void {
    this.behaviour = { ...this.initial, models: [...this.initial.models] };
    this.requests.length = 0;
    for (const runner of [...this.runners.values()]) this.unload(runner, false);
    // Requests still running keep counting as active (and queued) until they end.
    Object.assign(this.stats, EMPTY_STATS);
  }

  handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const methods = ROUTE_METHODS[path];
    // gin's NoRoute and NoMethod answers.
    if (!methods) return sendText(res, 404, "404 page not found");
    if (!methods.includes(req.method ?? "GET")) return sendText(res, 405, "405 method not allowed");
    // HEAD is served like GET; node drops the body.
    const method = req.method === "HEAD" ? "GET" : req.method;
    switch (`${method} ${path}`) {
      case "GET /":
        return sendText(res, 200, "Ollama is running");
      case "GET /api/version":
        return sendJson(res, 200, { version: FAKE_OLLAMA_VERSION });
      case "GET /api/tags":
        return sendJson(res, 200, { models: this.behaviour.models.map(modelSummary) });
      case "GET /api/ps":
        return sendJson(res, 200, { models: this.runningModels() });
      case "POST /api/show":
        return this.show(await readBody(req), res);
      case "POST /api/chat":
        return this.chat(await readBody(req), res);
      case "GET /__control":
        return sendJson(res, 200, this.behaviour);
      case "POST /__control":
        return this.control(await readBody(req), res);
      case "GET /__control/requests":
        return sendJson(res, 200, this.requests);
      case "GET /__control/stats":
        return sendJson(res, 200, this.stats);
      case "POST /__control/reset":
        this.reset();
        return sendJson(res, 200, this.behaviour);
    }
  };

  private runningModels() {
    const now = Date.now();
    return [...this.runners.values()].map((runner) => {
      const summary = modelSummary(runner.model);
      const expiresAt = runner.expiresAt ?? (runner.sessionMs < 0 ? FOREVER : now + runner.sessionMs);
      return {
        ...summary,
        expires_at: new Date(expiresAt).toISOString(),
        size_vram: summary.size,
        context_length: runner.options.numCtx,
      };
    });
  }

  private show(raw: string, res: ServerResponse): void {
    const parsed = parseJson(raw);
    if (!parsed.ok) return sendError(res, 400, parsed.error);
    const body = isRecord(parsed.value) ? parsed.value : {};
    const name = typeof body.model === "string" && body.model !== "" ? body.model : body.name;
    if (typeof name !== "string" || name === "") return sendError(res, 400, "model is required");
    const model = findModel(this.behaviour.models, name);
    if (!model) return sendError(res, 404, `model '${name}' not found`);
    sendJson(res, 200, showResponse(model));
  }

  private control(raw: string, res: ServerResponse): void {
    const parsed = parseJson(raw);
    const patch = parsed.ok ? parseBehaviourPatch(parsed.value) : `invalid JSON: ${parsed.error}`;
    if (typeof patch === "string") return sendError(res, 400, patch);
    sendJson(res, 200, this.setBehaviour(patch));
  }

  private record(raw: string): void {
    const parsed = parseJson(raw);
    this.requests.push(parsed.ok ? parsed.value : raw);
    if (this.requests.length > MAX_RECORDED_REQUESTS) this.requests.shift();
  }

  /** Consumes one use of a counted fault. */
  private takeFault(): OllamaFault {
    const { fault, next } = takeFault(this.behaviour);
    this.behaviour = next;
    return fault;
  }

  private async chat(raw: string, res: ServerResponse): Promise<void> {
    const startedAt = process.hrtime.bigint();
    this.record(raw);
    const decoded = decodeChatRequest(raw);
    if (!decoded.ok) return sendError(res, decoded.status, decoded.error);
    const chat = decoded.value;
    if (chat.model === "") return sendError(res, 400, "model is required");
    const model = findModel(this.behaviour.models, chat.model);
    // ChatHandler's own lookup; the "try pulling it first" form comes from the scheduler (the unknown-model fault).
    if (!model) return sendError(res, 404, `model '${chat.model}' not found`);
    if (chat.messages.length === 0 && chat.keepAliveMs === 0) return this.unloadNow(res, chat, model);
    if (chat.toolCount > 0) return sendError(res, 400, `"${chat.model}" does not support tools`);
    if (chat.think === true && !model.thinking) return sendError(res, 400, `"${chat.model}" does not support thinking`);
    const badOption = optionError(chat.options);
    if (badOption) return sendError(res, 500, badOption);

    const fault = this.takeFault();
    if (fault === "http500") return sendError(res, 500, "fake internal error");
    if (fault === "unknown-model") return sendError(res, 404, `model "${chat.model}" not found, try pulling it first`);
    if (this.stats.queuedChatRequests >= this.behaviour.maxQueue) {
      this.stats.rejectedBusy += 1;
      return sendError(res, 503, BUSY_ERROR);
    }
    await this.track((signal) => this.serve(res, chat, model, fault, signal, startedAt), clientGone(res));
  }

  /** A chat without messages and keep_alive 0 unloads the model once nobody holds it. */
  private unloadNow(res: ServerResponse, chat: ChatRequest, model: FakeModel): void {
    const runner = this.runners.get(model.name);
    if (runner) {
      runner.sessionMs = 0;
      if (runner.refCount === 0 && runner.state === "ready") this.unload(runner);
    }
    sendJson(res, 200, { model: chat.model, created_at: createdAt(), message: { role: "assistant", content: "" }, done: true, done_reason: "unload" });
  }

  private async track(run: (signal: AbortSignal) => Promise<Outcome>, signal: AbortSignal): Promise<void> {
    this.stats.activeChatStreams += 1;
    let outcome: Outcome = "failed";
    try {
      outcome = await run(signal);
    } finally {
      this.stats.activeChatStreams -= 1;
      if (outcome === "completed") this.stats.completedChatStreams += 1;
      else if (outcome === "failed") this.stats.failedChatStreams += 1;
      else this.stats.abortedChatStreams += 1;
      if (outcome === "dropped") this.stats.droppedWhileQueued += 1;
    }
  }

  /** Waits for a runner and a slot (no headers meanwhile), then answers. */
  private async serve(res: ServerResponse, chat: ChatRequest, model: FakeModel, fault: OllamaFault, signal: AbortSignal, startedAt: bigint): Promise<Outcome> {
    this.stats.queuedChatRequests += 1;
    let queued = true;
    const leaveQueue = () => {
      if (queued) this.stats.queuedChatRequests -= 1;
      queued = false;
    };
    try {
      const wanted = resolveRunnerOptions(model, chat.runner, this.behaviour.defaultNumCtx);
      const runner = await this.runnerFor(model, wanted, chat.keepAliveMs, signal);
      if (!runner) return "dropped";
      try {
        if (chat.messages.length === 0) {
          // A preload: the model is loaded, no slot needed.
          leaveQueue();
          sendJson(res, 200, { model: chat.model, created_at: createdAt(), message: { role: "assistant", content: "" }, done: true, done_reason: "load" });
          return "completed";
        }
        const release = await runner.slots.acquire(signal);
        leaveQueue();
        if (!release) return "dropped";
        try {
          return await this.generate(res, chat, model, fault, signal, { startedAt, generationStartedAt: process.hrtime.bigint() });
        } finally {
          release();
        }
      } finally {
        this.detach(runner);
      }
    } finally {
      leaveQueue();
    }
  }

  /**
   * A runner for `model` with the wanted options, held (refCount) by the caller; loads or reloads
   * it when needed. Null when the client left first (a load it started is then aborted).
   */
  private async runnerFor(model: FakeModel, wanted: LoadedOptions, keepAliveMs: number | null, signal: AbortSignal): Promise<Runner | null> {
    for (;;) {
      const current = this.runners.get(model.name);
      if (current && !needsReload(current.options, wanted)) {
        // Join a load in progress; if it is aborted, schedule again.
        const loaded = await unlessAborted(current.ready, signal);
        if (signal.aborted) return null;
        // A failed load, or unloaded while we waited: schedule again.
        if (!loaded || this.runners.get(model.name) !== current) continue;
        this.attach(current, keepAliveMs);
        return current;
      }
      const release = await this.scheduler.acquire(signal);
      if (!release) return null;
      let loading: Runner | undefined;
      try {
        loading = await this.schedule(model, wanted, keepAliveMs, signal);
      } finally {
        release();
      }
      if (signal.aborted) return null;
      // Loaded by someone else meanwhile, or ours finished loading (it holds us already).
      if (!loading) continue;
      if (await loading.ready) return loading;
      if (signal.aborted) return null;
    }
  }

  /**
   * With the scheduler held: unloads a runner with other options (after its requests finish)
   * and starts loading one for this request. Undefined when a suitable runner appeared meanwhile.
   */
  private async schedule(model: FakeModel, wanted: LoadedOptions, keepAliveMs: number | null, signal: AbortSignal): Promise<Runner | undefined> {
    const current = this.runners.get(model.name);
    if (current && !needsReload(current.options, wanted)) return undefined;
    if (current) {
      await current.ready;
      current.expireWhenIdle = true;
      if (current.refCount === 0) this.unload(current);
      // The real scheduler waits for the unload even if this client has left meanwhile.
      await current.gone;
    }
    if (signal.aborted) return undefined;
    return this.load(model, wanted, keepAliveMs, current !== undefined, signal);
  }

  private load(model: FakeModel, options: LoadedOptions, keepAliveMs: number | null, reload: boolean, signal: AbortSignal): Runner {
    const runner = new Runner(model, options, keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS, () => this.behaviour.numParallel);
    this.runners.set(model.name, runner);
    this.stats.loads += 1;
    if (reload) this.stats.reloads += 1;
    void pause(this.behaviour.loadDelayMs, signal).then((loaded) => {
      if (this.runners.get(model.name) !== runner) {
        // Reset while loading.
        runner.settleReady(false);
        return;
      }
      if (!loaded) {
        this.stats.abortedLoads += 1;
        this.runners.delete(model.name);
        runner.settleReady(false);
        runner.settleGone();
        return;
      }
      runner.state = "ready";
      // The request that started the load holds the runner first.
      this.attach(runner, keepAliveMs);
      runner.settleReady(true);
    });
    return runner;
  }

  private attach(runner: Runner, keepAliveMs: number | null): void {
    runner.refCount += 1;
    clearTimeout(runner.timer);
    runner.expiresAt = null;
    if (keepAliveMs !== null) runner.sessionMs = keepAliveMs;
  }

  /** A request let go of the runner: when it was the last, the keep_alive countdown starts. */
  private detach(runner: Runner): void {
    runner.refCount -= 1;
    if (runner.refCount > 0 || this.runners.get(runner.model.name) !== runner) return;
    if (runner.expireWhenIdle || runner.sessionMs === 0) return this.unload(runner);
    if (runner.sessionMs < 0) {
      runner.expiresAt = FOREVER;
      return;
    }
    runner.expiresAt = Date.now() + runner.sessionMs;
    runner.timer = setTimeout(() => this.unload(runner), runner.sessionMs);
    runner.timer.unref();
  }

  private unload(runner: Runner, count = true): void {
    clearTimeout(runner.timer);
    if (this.runners.get(runner.model.name) === runner) this.runners.delete(runner.model.name);
    if (count) this.stats.unloads += 1;
    runner.settleGone();
  }

  /** The tokens this request generates: thinking first, cut at num_predict. */
  private tokens(chat: ChatRequest, model: FakeModel): { tokens: Token[]; truncated: boolean } {
    const thinks = model.thinking === true && chat.think !== false;
    const all = [
      ...(thinks ? tokenize(fakeThinking(chat.messages)).map((text) => ({ text, thinking: true })) : []),
      ...tokenize(this.behaviour.reply ?? fakeReply(chat.messages)).map((text) => ({ text, thinking: false })),
    ];
    const truncated = chat.numPredict > 0 && all.length > chat.numPredict;
    return { tokens: truncated ? all.slice(0, chat.numPredict) : all, truncated };
  }

  private async generate(res: ServerResponse, chat: ChatRequest, model: FakeModel, fault: OllamaFault, signal: AbortSignal, timings: Timings): Promise<Outcome> {
    if (fault === "hang") {
      await waitForAbort(signal);
      return "aborted";
    }
    const { tokens, truncated } = this.tokens(chat, model);
    const streamFault = fault === "midstream-error" || fault === "stall" || fault === "drop" || fault === "reset";
    const emitted = streamFault ? tokens.slice(0, FAULT_AFTER_TOKENS) : tokens;
    const out = chat.stream ? new NdjsonStream(res) : undefined;

    let content = "";
    let thinking = "";
    for (const token of emitted) {
      if (!(await pause(this.behaviour.tokenDelayMs, signal))) return "aborted";
      timings.firstTokenAt ??= process.hrtime.bigint();
      if (token.thinking) thinking += token.text;
      else content += token.text;
      const message = token.thinking ? { role: "assistant", content: "", thinking: token.text } : { role: "assistant", content: token.text };
      out?.line({ model: chat.model, created_at: createdAt(), message, done: false });
    }
    if (streamFault) return this.fail(res, fault, out, signal);

    const final = finalResponse(chat, truncated ? "length" : "stop", emitted.length, timings);
    if (out) {
      out.line(final);
      out.end();
    } else {
      sendJson(res, 200, { ...final, message: { role: "assistant", content, ...(thinking ? { thinking } : {}) } });
    }
    return "completed";
  }

  private async fail(res: ServerResponse, fault: OllamaFault, out: NdjsonStream | undefined, signal: AbortSignal): Promise<Outcome> {
    switch (fault) {
      case "midstream-error":
        // Once streaming, the status is already 200: the error travels as the last line.
        if (out) {
          out.line({ error: "fake mid-stream failure" });
          out.end();
        } else {
          sendError(res, 500, "fake mid-stream failure");
        }
        return "failed";
      case "drop":
        (out ?? new NdjsonStream(res)).end();
        return "failed";
      case "reset":
        res.destroy();
        return "failed";
      default:
        await waitForAbort(signal);
        return "aborted";
    }
  }
}

export async function startFakeOllama(opts: FakeOllamaOptions = {}): Promise<FakeOllama> {
  const fake = new OllamaFake({
    tokenDelayMs: opts.tokenDelayMs ?? DEFAULT_TOKEN_DELAY_MS,
    models: opts.models ?? [...DEFAULT_MODELS],
    fault: "none",
    faultCount: null,
    reply: null,
    numParallel: opts.numParallel ?? DEFAULT_NUM_PARALLEL,
    maxQueue: opts.maxQueue ?? DEFAULT_MAX_QUEUE,
    loadDelayMs: opts.loadDelayMs ?? DEFAULT_LOAD_DELAY_MS,
    defaultNumCtx: opts.defaultNumCtx ?? DEFAULT_NUM_CTX,
  });
  const served = await serveFake(fake, opts.port, opts.host);
  return Object.defineProperty(served, "stats", { get: () => ({ ...fake.stats }), enumerable: true }) as typeof served & { readonly stats: OllamaStats };
}

if (isDirectRun(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      delay: { type: "string" },
      parallel: { type: "string" },
      "max-queue": { type: "string" },
      "load-delay": { type: "string" },
      "default-num-ctx": { type: "string" },
    },
  });
  const fake = await startFakeOllama({
    port: numberArg(values.port, 11434, "port"),
    host: values.host ?? "127.0.0.1",
    tokenDelayMs: numberArg(values.delay, DEFAULT_TOKEN_DELAY_MS, "delay"),
    numParallel: numberArg(values.parallel, DEFAULT_NUM_PARALLEL, "parallel"),
    maxQueue: numberArg(values["max-queue"], DEFAULT_MAX_QUEUE, "max-queue"),
    loadDelayMs: numberArg(values["load-delay"], DEFAULT_LOAD_DELAY_MS, "load-delay"),
    defaultNumCtx: numberArg(values["default-num-ctx"], DEFAULT_NUM_CTX, "default-num-ctx"),
  });
  console.log(`fake ollama listening on ${fake.url}`);
  closeOnSignal(fake.close);
}
