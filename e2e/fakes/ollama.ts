// Fake Ollama server speaking the subset of the HTTP API described in
// /work/shared/protocols/ollama.md, so the app's unchanged `ollama` client can be tested against
// deterministic replies, faults and disconnects.
//
//   npx tsx e2e/fakes/ollama.ts --port 11434 --delay 30
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
  sendJson,
  sendText,
  serveFake,
  takeFault,
  waitForAbort,
} from "./server-kit";

export const FAKE_OLLAMA_VERSION = "0.33.0-fake";

export interface FakeModel {
  name: string;
  /** Also the architecture key in /api/show model_info, e.g. "qwen2.context_length". */
  family?: string;
  /** The model's maximum context (what /api/show reports). */
  contextLength?: number;
  parameterSize?: string;
  quantizationLevel?: string;
  sizeBytes?: number;
}

export const DEFAULT_MODELS: readonly FakeModel[] = [
  { name: "qwen2.5:7b", family: "qwen2", contextLength: 32768, parameterSize: "7.6B", sizeBytes: 4_683_087_332 },
  { name: "llama3.2:3b", family: "llama", contextLength: 131072, parameterSize: "3.2B", sizeBytes: 2_019_393_189 },
];

export const OLLAMA_FAULTS = [
  "none",
  "http500", // 500 {"error":"fake internal error"}
  "unknown-model", // 404 for every chat
  "midstream-error", // a few tokens, then an {"error"} line (500 when not streaming)
  "hang", // request accepted, nothing ever sent until the client disconnects
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
}

export interface OllamaStats {
  activeChatStreams: number;
  /** The client disconnected before the done line (e.g. the app's Stop aborted the request). */
  abortedChatStreams: number;
  completedChatStreams: number;
  /** Ended by an injected fault (midstream-error, drop, reset). */
  failedChatStreams: number;
}

export interface FakeOllamaOptions {
  port?: number;
  host?: string;
  tokenDelayMs?: number;
  models?: FakeModel[];
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
const FAULT_AFTER_TOKENS = 3;
const MAX_RECORDED_REQUESTS = 1000;
/** Ollama's num_ctx when the request does not set one (what /api/ps then reports). */
const DEFAULT_NUM_CTX = 4096;
const DEFAULT_KEEP_ALIVE_MS = 5 * 60_000;
/** Fixed so /api/tags output is deterministic. */
const MODIFIED_AT = "2025-01-01T00:00:00Z";
const HANGUL = /[\u1100-\u11FF\u3130-\u318F\uAC00-\uD7AF]/;
const ECHO_LENGTH = 40;
/** System prompts up to this length are task instructions (title, summary), not personas. */
const TASK_PROMPT_MAX = 400;

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
function tokenize(text: string): string[] {
  return text.match(/\s*\S+|\s+/g) ?? [];
}

function promptTokenCount(messages: readonly FakeChatMessage[]): number {
  const chars = messages.reduce((sum, m) => sum + m.content.length, 0);
  return Math.max(1, Math.ceil(chars / 3));
}

// ---------------------------------------------------------------------------------------------
// Request validation (mirrors the Go server: JSON type errors, then model, then options)

interface ChatRequest {
  model: string;
  messages: FakeChatMessage[];
  stream: boolean;
  /** <= 0 means unlimited. */
  numPredict: number;
  numCtx: number;
  /** null: keep_alive absent. */
  keepAliveMs: number | null;
  wantsThinking: boolean;
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

function parseThink(value: unknown): Checked<boolean> {
  if (value === null || value === undefined || value === false) return { ok: true, value: false };
  if (value === true || value === "high" || value === "medium" || value === "low") return { ok: true, value: true };
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
      numPredict: typeof options.num_predict === "number" ? Math.trunc(options.num_predict) : -1,
      numCtx: typeof options.num_ctx === "number" ? Math.trunc(options.num_ctx) : DEFAULT_NUM_CTX,
      keepAliveMs: keepAlive.value,
      wantsThinking: think.value,
      toolCount: Array.isArray(body.tools) ? body.tools.length : 0,
      options,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Behaviour patches from the control endpoint

const BEHAVIOUR_KEYS = ["tokenDelayMs", "models", "fault", "faultCount", "reply"];

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
  return model;
}

/** Validates a JSON patch for setBehaviour(); returns an error message when it is not one. */
function parseBehaviourPatch(body: unknown): Partial<OllamaBehaviour> | string {
  if (!isRecord(body)) return "body must be a JSON object";
  const unknownKey = Object.keys(body).find((key) => !BEHAVIOUR_KEYS.includes(key));
  if (unknownKey) return `unknown key "${unknownKey}" (allowed: ${BEHAVIOUR_KEYS.join(", ")})`;
  const patch: Partial<OllamaBehaviour> = {};
  const { tokenDelayMs, models, fault, faultCount, reply } = body;
  if (tokenDelayMs !== undefined) {
    if (typeof tokenDelayMs !== "number" || !Number.isFinite(tokenDelayMs) || tokenDelayMs < 0) {
      return "tokenDelayMs must be a non-negative number";
    }
    patch.tokenDelayMs = tokenDelayMs;
  }
  if (models !== undefined) {
    const parsed = Array.isArray(models) ? models.map(parseModel) : [undefined];
    if (parsed.some((model) => model === undefined)) {
      return "models must be an array of {name, family?, contextLength?, parameterSize?, quantizationLevel?, sizeBytes?}";
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
    capabilities: ["completion"],
    modified_at: MODIFIED_AT,
  };
}

/** Ollama accepts a bare name for the ":latest" tag. */
function findModel(models: readonly FakeModel[], name: string): FakeModel | undefined {
  return models.find((model) => model.name === name || model.name === `${name}:latest`);
}

// ---------------------------------------------------------------------------------------------
// Responses

type Outcome = "completed" | "aborted" | "failed";

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
function finalResponse(chat: ChatRequest, content: string, doneReason: string, evalCount: number, timings: Timings) {
  const now = process.hrtime.bigint();
  const firstTokenAt = timings.firstTokenAt ?? now;
  const metrics: Record<string, number> = {
    total_duration: elapsedNs(timings.startedAt, now),
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
    message: { role: "assistant", content },
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

// ---------------------------------------------------------------------------------------------
// The server

interface LoadedModel {
  contextLength: number;
  expiresAt: number;
}

class OllamaFake {
  behaviour: OllamaBehaviour;
  readonly requests: unknown[] = [];
  readonly stats: OllamaStats = { activeChatStreams: 0, abortedChatStreams: 0, completedChatStreams: 0, failedChatStreams: 0 };
  private readonly loaded = new Map<string, LoadedModel>();

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
    this.loaded.clear();
    // Streams still running keep counting as active until they end.
    Object.assign(this.stats, { abortedChatStreams: 0, completedChatStreams: 0, failedChatStreams: 0 });
  }

  handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
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
      default:
        // gin's NoRoute answer.
        return sendText(res, 404, "404 page not found");
    }
  };

  private runningModels() {
    const now = Date.now();
    return [...this.loaded.entries()].flatMap(([name, loaded]) => {
      const model = findModel(this.behaviour.models, name);
      if (!model || loaded.expiresAt <= now) return [];
      const summary = modelSummary(model);
      return [
        {
          ...summary,
          expires_at: new Date(loaded.expiresAt).toISOString(),
          size_vram: summary.size,
          context_length: loaded.contextLength,
        },
      ];
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
    if (!model) return sendError(res, 404, `model "${chat.model}" not found, try pulling it first`);
    if (chat.toolCount > 0) return sendError(res, 400, `"${chat.model}" does not support tools`);
    if (chat.wantsThinking) return sendError(res, 400, `"${chat.model}" does not support thinking`);
    const badOption = optionError(chat.options);
    if (badOption) return sendError(res, 400, badOption);

    const fault = this.takeFault();
    if (fault === "http500") return sendError(res, 500, "fake internal error");
    if (fault === "unknown-model") return sendError(res, 404, `model "${chat.model}" not found, try pulling it first`);

    if (chat.messages.length === 0) return this.loadOrUnload(res, chat, model);
    this.markLoaded(model, chat);
    await this.track(res, (signal) =>
      this.generate(res, chat, fault, signal, { startedAt, generationStartedAt: process.hrtime.bigint() }),
    );
  }

  /** A chat without messages only loads (or, with keep_alive 0, unloads) the model. */
  private loadOrUnload(res: ServerResponse, chat: ChatRequest, model: FakeModel): void {
    const unload = chat.keepAliveMs === 0;
    if (unload) this.loaded.delete(model.name);
    else this.markLoaded(model, chat);
    sendJson(res, 200, {
      model: chat.model,
      created_at: createdAt(),
      message: { role: "assistant", content: "" },
      done: true,
      done_reason: unload ? "unload" : "load",
    });
  }

  private markLoaded(model: FakeModel, chat: ChatRequest): void {
    const keepAliveMs = chat.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
    // A negative keep_alive keeps the model loaded indefinitely.
    const expiresAt = keepAliveMs < 0 ? Date.UTC(2318, 0, 1) : Date.now() + keepAliveMs;
    this.loaded.set(model.name, { contextLength: chat.numCtx, expiresAt });
  }

  private async track(res: ServerResponse, run: (signal: AbortSignal) => Promise<Outcome>): Promise<void> {
    const signal = clientGone(res);
    this.stats.activeChatStreams += 1;
    let outcome: Outcome = "failed";
    try {
      outcome = await run(signal);
    } finally {
      this.stats.activeChatStreams -= 1;
      if (outcome === "completed") this.stats.completedChatStreams += 1;
      else if (outcome === "failed") this.stats.failedChatStreams += 1;
      else this.stats.abortedChatStreams += 1;
    }
  }

  private async generate(res: ServerResponse, chat: ChatRequest, fault: OllamaFault, signal: AbortSignal, timings: Timings): Promise<Outcome> {
    if (fault === "hang") {
      await waitForAbort(signal);
      return "aborted";
    }
    const allTokens = tokenize(this.behaviour.reply ?? fakeReply(chat.messages));
    const truncated = chat.numPredict > 0 && allTokens.length > chat.numPredict;
    const tokens = truncated ? allTokens.slice(0, chat.numPredict) : allTokens;
    const streamFault = fault === "midstream-error" || fault === "stall" || fault === "drop" || fault === "reset";
    const emitted = streamFault ? tokens.slice(0, FAULT_AFTER_TOKENS) : tokens;
    const out = chat.stream ? new NdjsonStream(res) : undefined;

    let content = "";
    for (const token of emitted) {
      if (!(await pause(this.behaviour.tokenDelayMs, signal))) return "aborted";
      timings.firstTokenAt ??= process.hrtime.bigint();
      content += token;
      out?.line({ model: chat.model, created_at: createdAt(), message: { role: "assistant", content: token }, done: false });
    }
    if (streamFault) return this.fail(res, fault, out, signal);

    const final = finalResponse(chat, "", truncated ? "length" : "stop", emitted.length, timings);
    if (out) {
      out.line(final);
      out.end();
    } else {
      sendJson(res, 200, { ...final, message: { role: "assistant", content } });
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
  });
  const served = await serveFake(fake, opts.port, opts.host);
  return Object.defineProperty(served, "stats", { get: () => ({ ...fake.stats }), enumerable: true }) as typeof served & { readonly stats: OllamaStats };
}

if (isDirectRun(import.meta.url)) {
  const { values } = parseArgs({
    options: { port: { type: "string" }, host: { type: "string" }, delay: { type: "string" } },
  });
  const fake = await startFakeOllama({
    port: numberArg(values.port, 11434, "port"),
    host: values.host ?? "127.0.0.1",
    tokenDelayMs: numberArg(values.delay, DEFAULT_TOKEN_DELAY_MS, "delay"),
  });
  console.log(`fake ollama listening on ${fake.url}`);
  closeOnSignal(fake.close);
}
