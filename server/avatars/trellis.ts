import { longFetch } from "@/server/http/long-fetch";
import {
  endpoint,
  fetchWithin,
  GeneratorBusy,
  GeneratorError,
  type GenerateOptions,
  type Generator,
  type GeneratorErrorCode,
  type PollResult,
} from "./generator";

/** A blocking generate this process sent, and how it ended. */
interface Pending {
  done: boolean;
  outcome: PollResult | null;
  /** the request broke (not answered): the generation may still run on the server */
  connectionLost: boolean;
  /** the server was seen busy since the request was sent */
  seenBusy: boolean;
}

export interface TrellisConfig {
  /** one short request's time limit (/ping, /status, /interrupt) */
  requestTimeoutMs?: number;
  /** the blocking generate's: its answer comes only once the model is made */
  generateTimeoutMs?: number;
}

/**
 * The StableProjectorz API of TRELLIS / TRELLIS.2 (`api_spz/main_api.py`, port 7960). One global
 * job per server: `POST /generate_no_preview` (multipart) blocks until the model is made, while
 * `GET /status` reports `{status, progress 0–100, message, busy}` of that one job, so the client
 * sends the blocking request in the background and polls /status beside it. 503 = busy with
 * another generation (the job goes back to the queue), 500 `{detail}` = failed (the detail is
 * never shown: a code is), 499 = interrupted, `POST /interrupt` cancels, `GET /download/model`
 * gives the last model.
 *
 * - The blocking request waits as long as the generation may take (`generateTimeoutMs`), through
 *   a dispatcher of its own: Node's fetch would give up after 300 s without headers while the GPU
 *   goes on working (server/http/long-fetch.ts).
 * - If that request breaks anyway (a proxy, a reset) while the server is still busy, the
 *   generation is ours — nobody else can start one while it holds the server's lock — so it is
 *   followed on /status and its model downloaded when it is COMPLETE, not thrown away.
 * - The request lives in this process: if the app instance running it dies, the job is "lost" to
 *   the next instance (see jobs.ts for what happens then).
 */
export function trellisGenerator(url: string, config: TrellisConfig = {}): Generator {
  const timeoutMs = config.requestTimeoutMs ?? 30_000;
  const generateTimeoutMs = config.generateTimeoutMs ?? 3_600_000;
  const generateFetch = longFetch({ headersTimeoutMs: generateTimeoutMs, bodyTimeoutMs: timeoutMs });
  const pending = new Map<string, Pending>();

  const failed = (code: GeneratorErrorCode): PollResult => ({ state: "failed", code });

  async function getJson(path: string): Promise<Record<string, unknown>> {
    const response = await fetchWithin(endpoint(url, path), { timeoutMs });
    if (!response.ok) throw new GeneratorError("avatar_unreachable", "silent");
    return ((await response.json().catch(() => ({}))) ?? {}) as Record<string, unknown>;
  }

  const ping = async () => ({ busy: (await getJson("/ping")).busy === true });

  /** Where the server's one generation stands, as /status says. */
  async function status() {
    const json = await getJson("/status");
    const progress = typeof json.progress === "number" && Number.isFinite(json.progress) ? Math.min(1, Math.max(0, json.progress / 100)) : null;
    return { busy: json.busy === true, status: typeof json.status === "string" ? json.status : "", progress };
  }

  function running(progress: number | null): PollResult {
    // The blocking request's answer says how it ended; /status only shows the way there.
    const step = progress !== null && progress >= 0.7 ? "exporting" : progress !== null && progress >= 0.5 ? "texturing" : "generating";
    return { state: "running", progress: progress === null ? null : Math.min(progress, 0.99), step };
  }

  return {
    protocol: "trellis",
    url,

    async start(image: Uint8Array, options: GenerateOptions) {
      if ((await ping()).busy) throw new GeneratorBusy();
      // Only what the user asked for: the server's form defaults (GenerationArgForm) do the rest.
      const form = new FormData();
      form.append("file", new Blob([new Uint8Array(image)], { type: "image/png" }), "image.png");
      if (options.seed !== undefined) form.append("seed", String(options.seed));
      if (options.steps !== undefined) {
        form.append("ss_sampling_steps", String(options.steps));
        form.append("slat_sampling_steps", String(options.steps));
      }
      if (options.guidance !== undefined) {
        form.append("ss_guidance_strength", String(Math.min(10, options.guidance)));
        form.append("slat_guidance_strength", String(Math.min(10, options.guidance)));
      }
      // TRELLIS simplifies by ratio, not by a face budget: a rough mapping.
      if (options.faceCount !== undefined) form.append("mesh_simplify_ratio", String(Math.min(0.98, Math.max(0.5, 1 - options.faceCount / 1_000_000))));
      form.append("output_format", "glb");

      const remoteId = `trellis-${crypto.randomUUID()}`;
      const entry: Pending = { done: false, outcome: null, connectionLost: false, seenBusy: false };
      pending.set(remoteId, entry);
      const settle = (outcome: PollResult) => {
        entry.done = true;
        entry.outcome = outcome;
      };
      void fetchWithin(endpoint(url, "/generate_no_preview"), { method: "POST", body: form, timeoutMs: generateTimeoutMs, fetch: generateFetch }).then(
        async (response) => {
          await response.body?.cancel().catch(() => {});
          if (response.ok) settle({ state: "completed" });
          else if (response.status === 503) settle({ state: "busy" });
          else if (response.status === 499) settle(failed("avatar_interrupted"));
          else settle(failed("avatar_failed"));
        },
        () => {
          entry.done = true;
          entry.connectionLost = true;
        },
      );
      return { remoteId };
    },

    async poll(remoteId: string): Promise<PollResult> {
      const entry = pending.get(remoteId);
      if (!entry) return { state: "lost" };
      if (entry.done && !entry.connectionLost) {
        if (entry.outcome?.state !== "completed") pending.delete(remoteId);
        return entry.outcome!;
      }
      const now = await status();
      if (!entry.connectionLost) {
        entry.seenBusy ||= now.busy;
        return running(now.progress);
      }
      // The request broke: follow the generation the server may still be making for it.
      if (now.busy) {
        entry.seenBusy = true;
        return running(now.progress);
      }
      if (entry.seenBusy && now.status === "COMPLETE") return { state: "completed" };
      pending.delete(remoteId);
      return failed(entry.seenBusy ? "avatar_failed" : "avatar_unreachable");
    },

    async fetchResult(remoteId: string) {
      pending.delete(remoteId);
      const response = await fetchWithin(endpoint(url, "/download/model"), { timeoutMs: Math.max(timeoutMs, 120_000) });
      if (!response.ok) throw new GeneratorError("avatar_invalid_model");
      return new Uint8Array(await response.arrayBuffer());
    },

    async cancel(remoteId: string) {
      pending.delete(remoteId);
      const response = await fetchWithin(endpoint(url, "/interrupt"), { method: "POST", timeoutMs });
      await response.body?.cancel().catch(() => {});
    },

    async settled() {
      return !(await ping()).busy;
    },

    async probe() {
      try {
        return { ok: true, ...(await ping()) };
      } catch {
        return { ok: false, busy: false };
      }
    },
  };
}
