/**
 * One interface over the image-to-3D servers the app drives (Hunyuan3D-2's api_server.py, the
 * StableProjectorz API of TRELLIS). Each client owns its protocol's quirks and timeouts; the job
 * engine (./jobs.ts) only sees start → poll → fetchResult, cancel and probe.
 */

export type AvatarProtocol = "hunyuan3d" | "trellis";
export const AVATAR_PROTOCOLS = ["hunyuan3d", "trellis"] as const;

/** What a generation is asked for, already validated (avatarGenerateOptionsSchema in server/api/routers/avatars.ts). */
export interface GenerateOptions {
  seed?: number;
  /** inference / sampling steps */
  steps?: number;
  guidance?: number;
  /** the mesh's face budget (Hunyuan3D face_count; TRELLIS turns it into mesh_simplify_ratio) */
  faceCount?: number;
  /** paint a texture (Hunyuan3D only with --enable_tex; TRELLIS always textures) */
  texture?: boolean;
}

/** Where a job stands at the generator, as one poll saw it. */
export type PollResult =
  /** still working; `progress` 0–1 when the server reports one, `step` a step code */
  | { state: "running"; progress: number | null; step: string }
  /** done; `model` when the answer carried it (Hunyuan3D), else fetch it with fetchResult */
  | { state: "completed"; model?: Uint8Array }
  /** the server said it failed: `code` is ours, never the server's text */
  | { state: "failed"; code: GeneratorErrorCode }
  /** the server is busy with someone else's work: give the job back to the queue, try later */
  | { state: "busy" }
  /** this process no longer knows the job (its blocking request died with another instance) */
  | { state: "lost" };

export type GeneratorErrorCode = "avatar_failed" | "avatar_unreachable" | "avatar_invalid_model" | "avatar_interrupted";

export interface StartResult {
  /** the generator's id for the job (Hunyuan3D's uid; a local id for TRELLIS's one global job) */
  remoteId: string;
}

export interface Generator {
  readonly protocol: AvatarProtocol;
  readonly url: string;
  /** Hands the image to the server. Throws GeneratorBusy when the server is busy. */
  start(image: Uint8Array, options: GenerateOptions): Promise<StartResult>;
  poll(remoteId: string): Promise<PollResult>;
  fetchResult(remoteId: string): Promise<Uint8Array>;
  /** Stops the job where the protocol allows it (TRELLIS: /interrupt; Hunyuan3D has no way). */
  cancel(remoteId: string): Promise<void>;
  /**
   * After a job ended without its result (cancelled, timed out, failed): whether the server has
   * stopped working on it, so it may take the next job. Hunyuan3D: the uid's thread ended (its
   * file exists) or the server restarted since (the thread died with it); TRELLIS: /ping says
   * not busy. Throws GeneratorError when the server cannot be reached.
   */
  settled(remoteId: string): Promise<boolean>;
  /** Whether the server answers (and is free), without starting any work. */
  probe(): Promise<{ ok: boolean; busy: boolean }>;
}

/** A generator refused the job for now (TRELLIS's 503): the job goes back to the queue. */
export class GeneratorBusy extends Error {
  constructor() {
    super("The 3D generator is busy.");
    this.name = "GeneratorBusy";
  }
}

/**
 * How a server could not be reached: "down" when nothing listens or the connection broke (the
 * process is gone or restarting: a live uvicorn never refuses), "silent" when it did not answer
 * in time (busy, or a blocked event loop: Hunyuan3D's /generate holds its loop for a whole job).
 */
export type Unreachable = "down" | "silent";

/** A generator failed the job, or could not be reached: `code` is what the user is told. */
export class GeneratorError extends Error {
  constructor(
    readonly code: GeneratorErrorCode,
    readonly unreachable: Unreachable | null = null,
  ) {
    super(`3D generation failed (${code}).`);
    this.name = "GeneratorError";
  }
}

const CONNECTION_LOST = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);

/** Whether a failed fetch means the server is down (see Unreachable), from undici's error codes. */
export function unreachableKind(error: unknown): Unreachable {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === "string" && CONNECTION_LOST.has(cause.code) ? "down" : "silent";
}

/**
 * A progress estimate for a server that reports none: rises quickly at first, then slows, and
 * never reaches `cap` — so a slow job still looks alive and "done" only comes from the server.
 */
export function estimateProgress(elapsedMs: number, expectedMs: number, cap = 0.95): number {
  if (!(elapsedMs > 0) || !(expectedMs > 0)) return 0;
  return cap * (1 - Math.exp(-elapsedMs / expectedMs));
}

/**
 * A fetch with a time limit of its own, failing as "unreachable" (never with the server's text).
 * `fetch` replaces the global one (a long request's own dispatcher: server/http/long-fetch.ts).
 */
export async function fetchWithin(url: string, init: RequestInit & { timeoutMs: number; fetch?: typeof fetch }): Promise<Response> {
  const { timeoutMs, fetch: fetcher = fetch, ...rest } = init;
  try {
    return await fetcher(url, { ...rest, signal: rest.signal ? AbortSignal.any([rest.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new GeneratorError("avatar_unreachable", unreachableKind(error));
  }
}

/** The URL of `path` on a server given as a base URL (with or without a trailing slash). */
export function endpoint(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}${path}`;
}
