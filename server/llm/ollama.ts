import { Ollama, type ChatResponse, type Message as OllamaMessage } from "ollama";
import { env } from "@/lib/env.mjs";
import { DomainError } from "@/server/errors";

export type ChatMessage = Pick<OllamaMessage, "role" | "content">;

/** A fetch that gives up after `ms`, for calls that must not hang (health, tags, titles). */
function fetchWithTimeout(ms: number): typeof fetch {
  return (input, init) => fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(ms) });
}

/**
 * A fetch that gives up when the response headers take longer than `ms` (a hung server), while
 * the body may then stream for as long as it needs; the client's own abort still works.
 */
function fetchWithHeaderTimeout(ms: number): typeof fetch {
  return async (input, init) => {
    const controller = new AbortController();
    const outer = init?.signal;
    if (outer?.aborted) controller.abort(outer.reason);
    outer?.addEventListener("abort", () => controller.abort(outer.reason), { once: true });
    const timer = setTimeout(() => controller.abort(new DOMException("no response headers in time", "TimeoutError")), ms);
    try {
      return await fetch(input, { ...init, signal: controller.signal });
    } finally {
      clearTimeout(timer);
    }
  };
}

const holder = globalThis as unknown as { afOllama?: { host: string; stream: Ollama; quick: Ollama } };

function clients() {
  const { OLLAMA_HOST, OLLAMA_TIMEOUT_MS, OLLAMA_STREAM_IDLE_MS } = env();
  if (holder.afOllama?.host !== OLLAMA_HOST) {
    holder.afOllama = {
      host: OLLAMA_HOST,
      // Streams are bounded by the caller (stop, inactivity watchdog), never by a fixed timeout.
      stream: new Ollama({ host: OLLAMA_HOST, fetch: fetchWithHeaderTimeout(OLLAMA_STREAM_IDLE_MS) }),
      quick: new Ollama({ host: OLLAMA_HOST, fetch: fetchWithTimeout(OLLAMA_TIMEOUT_MS) }),
    };
  }
  return holder.afOllama;
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

export interface StreamChatRequest {
  model: string;
  messages: ChatMessage[];
  temperature: number;
  maxTokens: number;
  numCtx?: number;
}

/**
 * Starts a streamed chat. HTTP errors (404 model, 500, unreachable) reject here, before any
 * token; errors after that surface while iterating. `abort()` closes the connection to Ollama,
 * which stops the generation there.
 */
export async function streamChat(request: StreamChatRequest) {
  try {
    return await clients().stream.chat({
      model: request.model,
      messages: request.messages,
      stream: true,
      options: {
        temperature: request.temperature,
        num_predict: request.maxTokens,
        ...(request.numCtx ? { num_ctx: request.numCtx } : {}),
      },
      keep_alive: "10m",
    });
  } catch (error) {
    throw llmError(error, request.model);
  }
}

/** A short non-streamed completion (titles, summaries). */
export async function completeChat(request: StreamChatRequest): Promise<ChatResponse> {
  try {
    return await clients().quick.chat({
      model: request.model,
      messages: request.messages,
      stream: false,
      options: {
        temperature: request.temperature,
        num_predict: request.maxTokens,
        ...(request.numCtx ? { num_ctx: request.numCtx } : {}),
      },
    });
  } catch (error) {
    throw llmError(error, request.model);
  }
}

/** Per model: the window being looked up or found, so concurrent replies ask Ollama once. */
const windowCache = new Map<string, { tokens: Promise<number>; until: number }>();

/**
 * The context window the app uses for `model`: the model's maximum (from /api/show) capped by
 * OLLAMA_NUM_CTX, which is also sent as `num_ctx` so Ollama's own default can't shrink it.
 * Falls back to OLLAMA_NUM_CTX when the server can't tell.
 */
export function contextWindow(model: string): Promise<number> {
  const cached = windowCache.get(model);
  if (cached && cached.until > Date.now()) return cached.tokens;
  const configured = env().OLLAMA_NUM_CTX;
  const tokens = clients()
    .quick.show({ model })
    .then((info) => {
      const entry = Object.entries(info.model_info ?? {}).find(([key]) => key.endsWith(".context_length"));
      const modelMax = Number(entry?.[1]);
      return Number.isFinite(modelMax) && modelMax > 0 ? Math.min(modelMax, configured) : configured;
    })
    // Unknown model or server down: the chat request itself will report it.
    .catch(() => configured);
  windowCache.set(model, { tokens, until: Date.now() + 5 * 60_000 });
  return tokens;
}

export async function listModels() {
  try {
    const { models } = await clients().quick.list();
    return models.map((m) => ({
      name: m.name,
      parameterSize: m.details?.parameter_size ?? "",
      family: m.details?.family ?? "",
      sizeBytes: m.size,
    }));
  } catch (error) {
    throw llmError(error, env().OLLAMA_MODEL);
  }
}

export async function probeOllama() {
  const { quick } = clients();
  const [{ version }, { models }] = await Promise.all([quick.version(), quick.list()]);
  const defaultModel = env().OLLAMA_MODEL;
  return {
    version,
    defaultModel,
    defaultModelPresent: models.some((m) => m.name === defaultModel || m.model === defaultModel),
    fake: version.includes("fake"),
  };
}
