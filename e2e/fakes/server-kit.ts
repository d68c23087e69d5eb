// Small node:http toolkit shared by the protocol fakes. Node built-ins only, so every fake
// stays runnable on its own with `tsx`.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { pathToFileURL } from "node:url";

/** Generous: Ollama requests may carry base64 images. Larger bodies are refused, not buffered. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export class BodyTooLargeError extends Error {
  constructor() {
    super(`request body exceeds ${MAX_BODY_BYTES} bytes`);
  }
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export type JsonParse = { ok: true; value: unknown } | { ok: false; error: string };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function parseJson(text: string): JsonParse {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * Waits `ms`, returning false instead of throwing when `signal` fires first, so streaming loops
 * can stop the moment the client disconnects. A 0 ms wait still yields to the event loop,
 * which lets socket close events arrive between tokens.
 */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** Resolves when `signal` fires: models a server that accepted a request and went silent. */
export function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/**
 * An AbortSignal that fires when the client goes away (or the server is closed) before the
 * response finished — the only reliable disconnect signal once the request body was read.
 */
export function clientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

export async function startHttpServer(handler: Handler, port: number, host: string): Promise<RunningServer> {
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => failRequest(res, error));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${actualPort}`,
    port: actualPort,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Streams in flight (and keep-alive sockets) would otherwise keep close() pending forever.
        server.closeAllConnections();
      }),
  };
}

/** A handler bug must never take the fake down; it becomes a 500 or a cut connection. */
function failRequest(res: ServerResponse, error: unknown): void {
  if (error instanceof BodyTooLargeError && !res.headersSent) {
    sendJson(res, 413, { error: error.message });
    return;
  }
  console.error("[fake] request failed:", error);
  if (res.headersSent) res.destroy();
  else sendText(res, 500, "Internal Server Error");
}

/** Resolves with `promise`'s value, or with undefined as soon as `signal` fires. */
export function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/**
 * A counting semaphore served first come, first served: the shape of the queues in the real
 * servers (a loaded Ollama model's parallel slots, uvicorn's single event loop). The capacity is
 * read on every grant, so a behaviour patch applies to the next request in line.
 */
export class Semaphore {
  private running = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly capacity: () => number) {}

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves with a release function once a slot is free, or with null when `signal` fires first (the waiter leaves the line). */
  acquire(signal?: AbortSignal): Promise<(() => void) | null> {
    if (signal?.aborted) return Promise.resolve(null);
    return new Promise((resolve) => {
      const grant = () => {
        signal?.removeEventListener("abort", leave);
        this.running += 1;
        resolve(this.releaser());
      };
      const leave = () => {
        const index = this.waiters.indexOf(grant);
        if (index >= 0) this.waiters.splice(index, 1);
        resolve(null);
      };
      signal?.addEventListener("abort", leave, { once: true });
      this.waiters.push(grant);
      this.dispatch();
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running -= 1;
      this.dispatch();
    };
  }

  private dispatch(): void {
    while (this.waiters.length > 0 && this.running < Math.max(1, this.capacity())) this.waiters.shift()?.();
  }
}

/** What a fake keeps and how it is steered (the class behind each fake's HTTP handler). */
export interface ControllableFake<B, R> {
  handle: Handler;
  readonly behaviour: B;
  readonly requests: R[];
  setBehaviour(patch: Partial<B>): B;
  reset(): void;
}

/** Serves a fake over HTTP and gives tests its address and controls. */
export async function serveFake<B, R>(fake: ControllableFake<B, R>, port = 0, host = "127.0.0.1") {
  const server = await startHttpServer(fake.handle, port, host);
  return {
    url: server.url,
    port: server.port,
    close: server.close,
    setBehaviour: (patch: Partial<B>) => fake.setBehaviour(patch),
    reset: () => fake.reset(),
    get behaviour() {
      return fake.behaviour;
    },
    get requests() {
      return fake.requests;
    },
  };
}

/** True when the module at `moduleUrl` is the script node/tsx was asked to run. */
export function isDirectRun(moduleUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && moduleUrl === pathToFileURL(script).href;
}

export function numberArg(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`--${name} must be a non-negative number, got "${value}"`);
  return parsed;
}

/** Keeps a CLI-started fake alive until SIGINT/SIGTERM, then closes it cleanly. */
export function closeOnSignal(close: () => Promise<void>): void {
  const stop = () => {
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

/** The part of a fake's behaviour that injects faults: which one, and for how many requests. */
export interface FaultState<F extends string> {
  fault: F | "none";
  /** How many more requests the fault applies to; null = until changed. */
  faultCount: number | null;
}

/** Applies a patch; setting a fault without a count makes it last until changed. */
export function patchBehaviour<B extends FaultState<string>>(current: B, patch: Partial<B>): B {
  const faultCount = patch.faultCount !== undefined ? patch.faultCount : patch.fault !== undefined ? null : current.faultCount;
  return { ...current, ...patch, faultCount };
}

/** The fault for this request, and the behaviour after one use of a counted fault. */
export function takeFault<B extends FaultState<string>>(current: B): { fault: B["fault"]; next: B } {
  const { fault, faultCount } = current;
  if (faultCount === null) return { fault, next: current };
  const next = faultCount > 1 ? { ...current, faultCount: faultCount - 1 } : { ...current, fault: "none", faultCount: null };
  return { fault, next };
}

export const FAULT_COUNT_ERROR = "faultCount must be a positive integer or null";

/** A `faultCount` from a control request: a positive integer, or null for "until changed". */
export function isFaultCount(value: unknown): value is number | null {
  return value === null || (typeof value === "number" && Number.isInteger(value) && value >= 1);
}

/** What the shared control routes read and change on a fake. */
export interface ControlTarget<B> {
  readonly behaviour: B;
  readonly requests: unknown[];
  readonly stats: unknown;
  reset(): void;
  setBehaviour(patch: Partial<B>): B;
}

/**
 * The control routes of a fake (never subject to its faults): GET the behaviour, the recorded
 * requests or the counters; POST /__control/reset; POST /__control with a behaviour patch.
 */
export async function serveControl<B>(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  target: ControlTarget<B>,
  parsePatch: (value: unknown) => Partial<B> | string,
): Promise<void> {
  switch (`${req.method} ${path}`) {
    case "GET /__control":
      return sendJson(res, 200, target.behaviour);
    case "GET /__control/requests":
      return sendJson(res, 200, target.requests);
    case "GET /__control/stats":
      return sendJson(res, 200, target.stats);
    case "POST /__control/reset":
      target.reset();
      return sendJson(res, 200, target.behaviour);
    default: {
      const parsed = parseJson(await readBody(req));
      const patch = parsed.ok ? parsePatch(parsed.value) : `invalid JSON: ${parsed.error}`;
      if (typeof patch === "string") return sendJson(res, 400, { error: patch });
      return sendJson(res, 200, target.setBehaviour(patch));
    }
  }
}
