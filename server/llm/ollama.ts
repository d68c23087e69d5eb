import { Ollama, type ChatResponse, type Message as OllamaMessage } from "ollama";
import { env } from "@/lib/env.mjs";
import { DomainError } from "@/server/errors";
import type { Database } from "@/server/db";
import { longFetch } from "@/server/http/long-fetch";
import { waitForTurn } from "./scheduler";
import { markFailing, markHealthy, ollamaHosts, recordModels } from "./servers";

/** What the app sends as the conversation: never a reply's `thinking`, which is not part of it. */
export type ChatMessage = Pick<OllamaMessage, "role" | "content">;

/** A fetch that gives up after `ms`, for calls that must not hang (health, tags, model info). */
function fetchWithTimeout(ms: number): typeof fetch {
  return (input, init) => fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(ms) });
}

/**
 * A fetch that gives up when the response headers take longer than `ms` (a hung server), while
 * the body may then stream for as long as it needs; the client's own abort still works. `base`
 * must itself wait that long (see streamClient).
 */
function fetchWithHeaderTimeout(ms: number, base: typeof fetch): typeof fetch {
  return async (input, init) => {
    const controller = new AbortController();
    const outer = init?.signal;
    if (outer?.aborted) controller.abort(outer.reason);
    outer?.addEventListener("abort", () => controller.abort(outer.reason), { once: true });
    const timer = setTimeout(() => controller.abort(new DOMException("no response headers in time", "TimeoutError")), ms);
    try {
      return await base(input, { ...init, signal: controller.signal });
    } finally {
      clearTimeout(timer);
    }
  };
}

interface Clients {
  quick: Ollama;
  background: Ollama;
}

const holder = globalThis as unknown as { afOllama?: Map<string, Clients> };

/** The clients of one server (the first configured one by default). */
function clients(host = ollamaHosts()[0]!): Clients {
  const { OLLAMA_TIMEOUT_MS, OLLAMA_BACKGROUND_TIMEOUT_MS } = env();
  holder.afOllama ??= new Map();
  let found = holder.afOllama.get(host);
  if (!found) {
    found = {
      quick: new Ollama({ host, fetch: fetchWithTimeout(OLLAMA_TIMEOUT_MS) }),
      // Titles, summaries and the preload queue behind replies on the server (one request at a
      // time per model) and may wait for a model load: a short limit would cut them every time.
      background: new Ollama({ host, fetch: fetchWithTimeout(OLLAMA_BACKGROUND_TIMEOUT_MS) }),
    };
    holder.afOllama.set(host, found);
  }
  return found;
}

/**
 * A client for one streamed reply. Its fetch carries the reply's own signal, so Stop reaches the
 * request before any header came (while Ollama loads the model or evaluates the prompt) — the
 * stream's own abort() exists only after headers. The first token has OLLAMA_FIRST_TOKEN_MS
 * (a cold load can take minutes); the gaps after it are the caller's watchdog. Both may be longer
 * than Node's fetch waits (300 s), so the request goes through a dispatcher whose timeouts are
 * these limits, a little later than the app's own timers so that those decide.
 */
function streamClient(host: string, signal?: AbortSignal) {
  const { OLLAMA_FIRST_TOKEN_MS, OLLAMA_STREAM_IDLE_MS } = env();
  const dispatcher = longFetch({ headersTimeoutMs: OLLAMA_FIRST_TOKEN_MS + 5_000, bodyTimeoutMs: OLLAMA_STREAM_IDLE_MS + 5_000 });
  const headerTimeout = fetchWithHeaderTimeout(OLLAMA_FIRST_TOKEN_MS, dispatcher);
  return new Ollama({
    host,
    fetch: (input, init) => headerTimeout(input, { ...init, signal: signal && init?.signal ? AbortSignal.any([signal, init.signal]) : (signal ?? init?.signal) }),
  });
}

/** A server that could not be reached is skipped until it answers again (probed every 10 s). */
function noteUnreachable(host: string, error: unknown) {
  if (!(error instanceof TypeError)) return;
  markFailing(host);
  const probe = () =>
    void clients(host)
      .quick.list()
      .then(({ models }) => recordModels(host, models.map((m) => m.name)))
      .catch(() => setTimeout(probe, 10_000).unref());
  setTimeout(probe, 10_000).unref();
}

interface ResponseErrorLike {
  name: "ResponseError";
  status_code: number;
  error: string;
}

function isResponseError(error: unknown): error is ResponseErrorLike {
  return error instanceof Error && error.name === "ResponseError" && "status_code" in error;
}

function isTimeout(error: unknown) {
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}

/**
 * Turns whatever the client threw into the app's error vocabulary. The error keeps only the code
 * and the model the user chose: Ollama's address and its own error text (which can name hosts
 * and files) go to the server log, never to the user.
 */
export function llmError(error: unknown, model: string): DomainError {
  if (error instanceof DomainError) return error;
  if (isResponseError(error) && error.status_code === 404) {
    return new DomainError(
      "llm_model_missing",
      `model ${model} is not installed on the Ollama server (\`ollama pull ${model}\`)`,
      { model },
    );
  }
  if (isResponseError(error) && (error.status_code === 503 || error.status_code === 429)) {
    return new DomainError("busy", "The language model server is busy. Try again shortly.");
  }
  const detail = isResponseError(error)
    ? `HTTP ${error.status_code}: ${error.error}`
    : error instanceof Error
      ? [error.message, (error.cause as { message?: string } | undefined)?.message].filter(Boolean).join(": ")
      : String(error);
  console.error(`[ollama] ${env().OLLAMA_HOST}, model ${model}: ${detail}`);
  if (isTimeout(error)) return new DomainError("llm_timeout", "The language model server did not answer in time.");
  if (error instanceof TypeError) return new DomainError("llm_unreachable", "The language model server is unreachable.");
  return new DomainError("llm_failed", "The language model failed to reply.");
}

/**
 * The options every call to `model` sends, decided in this one place. A request whose `num_ctx`
 * differs from the loaded runner's makes Ollama unload and reload the model, so replies, titles,
 * summaries and the preload all send the same window and the same keep_alive.
 */
export async function modelOptions(model: string) {
  return { num_ctx: await contextWindow(model), keep_alive: env().OLLAMA_KEEP_ALIVE };
}

/**
 * The `think` value for `model`. Thinking models think when `think` is absent, so it is always
 * sent. gpt-oss can't stop thinking and takes a level instead of a boolean: the lowest, either way.
 */
export function thinkFor(model: string, think: boolean): boolean | "low" {
  const name = model.split("/").at(-1) ?? model;
  if (name.startsWith("gpt-oss")) return "low";
  return think;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  temperature: number;
  maxTokens: number;
  /** Whether the model may think first (thinking models only); off unless the chat asks. */
  think?: boolean;
}

async function chatBody(request: ChatRequest) {
  const [{ num_ctx, keep_alive }, { thinks }] = await Promise.all([modelOptions(request.model), modelInfo(request.model)]);
  return {
    model: request.model,
    messages: request.messages,
    // Asking a model that can't think to think is refused (400): such a model just answers.
    think: thinkFor(request.model, (request.think ?? false) && thinks !== false),
    keep_alive,
    options: { temperature: request.temperature, num_predict: request.maxTokens, num_ctx },
  };
}

/**
 * Starts a streamed chat. HTTP errors (404 model, 500, unreachable) reject here, before any
 * token; errors after that surface while iterating. `abort()` closes the connection to Ollama,
 * which stops the generation there. A last message from the assistant is continued by the model.
 */
export async function streamChat(request: ChatRequest & { host?: string; signal?: AbortSignal }) {
  const host = request.host ?? ollamaHosts()[0]!;
  try {
    const stream = await streamClient(host, request.signal).chat({ ...(await chatBody(request)), stream: true });
    markHealthy(host);
    return stream;
  } catch (error) {
    noteUnreachable(host, error);
    throw llmError(error, request.model);
  }
}

/**
 * A short non-streamed completion in the background (titles, summaries): never thinking. With
 * `queue` it takes its turn in the app's LLM queue like a reply (as the chat's user), so it never
 * waits unseen inside a one-at-a-time server in front of someone's reply.
 */
export async function completeChat(request: Omit<ChatRequest, "think">, queue?: { db: Database; userId: string }): Promise<ChatResponse> {
  const turn = queue ? await waitForTurn(queue.db, { messageId: `bg-${crypto.randomUUID()}`, userId: queue.userId, model: request.model }) : null;
  try {
    return await clients(turn?.server.url).background.chat({ ...(await chatBody({ ...request, think: false })), stream: false });
  } catch (error) {
    throw llmError(error, request.model);
  } finally {
    await turn?.release().catch(() => {});
  }
}

/**
 * Loads `model` on the Ollama server (a chat without messages), with the options replies use so
 * the first reply finds it loaded as it needs it.
 */
export async function preloadModel(model: string) {
  const { num_ctx, keep_alive } = await modelOptions(model);
  try {
    await clients().background.chat({ model, messages: [], stream: false, keep_alive, options: { num_ctx } });
  } catch (error) {
    throw llmError(error, model);
  }
}

interface ModelInfo {
  /** The context window the app uses for the model. */
  window: number;
  /** Whether the model can think; null when the server doesn't say. */
  thinks: boolean | null;
}

/** Per model: what /api/show said, or the question in flight, so concurrent replies ask Ollama once. */
const infoCache = new Map<string, { info: Promise<ModelInfo>; until: number }>();

function modelInfo(model: string): Promise<ModelInfo> {
  const cached = infoCache.get(model);
  if (cached && cached.until > Date.now()) return cached.info;
  const configured = env().OLLAMA_NUM_CTX;
  const info = clients()
    .quick.show({ model })
    .then((shown) => {
      const entry = Object.entries(shown.model_info ?? {}).find(([key]) => key.endsWith(".context_length"));
      const modelMax = Number(entry?.[1]);
      return {
        window: Number.isFinite(modelMax) && modelMax > 0 ? Math.min(modelMax, configured) : configured,
        thinks: Array.isArray(shown.capabilities) ? shown.capabilities.includes("thinking") : null,
      };
    })
    .catch(() => {
      // Unknown model or server down: the chat request itself will report it. Ask again next
      // time, so the window is the model's own as soon as the server can tell.
      if (infoCache.get(model)?.info === info) infoCache.delete(model);
      return { window: configured, thinks: null };
    });
  infoCache.set(model, { info, until: Date.now() + 5 * 60_000 });
  return info;
}

/**
 * The context window the app uses for `model`: the model's maximum (from /api/show) capped by
 * OLLAMA_NUM_CTX, which is also sent as `num_ctx` so Ollama's own default can't shrink it.
 * Falls back to OLLAMA_NUM_CTX when the server can't tell.
 */
export async function contextWindow(model: string): Promise<number> {
  return (await modelInfo(model)).window;
}

/** The models of every server (each once), and what each server has, for routing. */
export async function listModels() {
  const hosts = ollamaHosts();
  const answers = await Promise.allSettled(hosts.map((host) => clients(host).quick.list()));
  const byName = new Map<string, { name: string; parameterSize: string; family: string; sizeBytes: number }>();
  answers.forEach((answer, i) => {
    if (answer.status === "rejected") return noteUnreachable(hosts[i]!, answer.reason);
    recordModels(hosts[i]!, answer.value.models.map((m) => m.name));
    for (const m of answer.value.models) {
      if (!byName.has(m.name)) byName.set(m.name, { name: m.name, parameterSize: m.details?.parameter_size ?? "", family: m.details?.family ?? "", sizeBytes: m.size });
    }
  });
  const failed = answers.find((a): a is PromiseRejectedResult => a.status === "rejected");
  if (byName.size === 0 && failed) throw llmError(failed.reason, env().OLLAMA_MODEL);
  return [...byName.values()];
}

export async function probeOllama(host = ollamaHosts()[0]!) {
  const { quick } = clients(host);
  const [{ version }, { models }] = await Promise.all([quick.version(), quick.list()]);
  recordModels(host, models.map((m) => m.name));
  const defaultModel = env().OLLAMA_MODEL;
  return {
    version,
    defaultModel,
    defaultModelPresent: models.some((m) => m.name === defaultModel || m.model === defaultModel),
    fake: version.includes("fake"),
  };
}
