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
 * The blocking request lives in this process: if the app instance running it dies, the job is
 * "lost" to the next instance (see jobs.ts for what happens then).
 */
export function trellisGenerator(url: string, config: { requestTimeoutMs?: number; generateTimeoutMs?: number } = {}): Generator {
  const timeoutMs = config.requestTimeoutMs ?? 30_000;
  const generateTimeoutMs = config.generateTimeoutMs ?? 3_600_000;
  const pending = new Map<string, Pending>();

  const failed = (code: GeneratorErrorCode): PollResult => ({ state: "failed", code });

  async function ping(): Promise<{ busy: boolean }> {
    const response = await fetchWithin(endpoint(url, "/ping"), { timeoutMs });
    if (!response.ok) throw new GeneratorError("avatar_unreachable");
    const json = (await response.json().catch(() => ({}))) as { busy?: unknown };
    return { busy: json.busy === true };
  }

  return {
    protocol: "trellis",
    url,

    async start(image: Uint8Array, options: GenerateOptions) {
      if ((await ping()).busy) throw new GeneratorBusy();
      const form = new FormData();
      form.append("file", new Blob([new Uint8Array(image)], { type: "image/png" }), "image.png");
      form.append("seed", String(options.seed ?? 1));
      const steps = String(options.steps ?? 12);
      form.append("ss_sampling_steps", steps);
      form.append("slat_sampling_steps", steps);
      form.append("ss_guidance_strength", String(Math.min(10, options.guidance ?? 7.5)));
      form.append("slat_guidance_strength", String(Math.min(10, options.guidance ?? 3)));
      // TRELLIS simplifies by ratio, not by a face budget: a rough mapping (its default is 0.95).
      const ratio = options.faceCount ? Math.min(0.98, Math.max(0.5, 1 - options.faceCount / 1_000_000)) : 0.95;
      form.append("mesh_simplify_ratio", String(ratio));
      form.append("texture_size", "1024");
      form.append("output_format", "glb");

      const remoteId = `trellis-${crypto.randomUUID()}`;
      const entry: Pending = { done: false, outcome: null };
      pending.set(remoteId, entry);
      const settle = (outcome: PollResult) => {
        entry.done = true;
        entry.outcome = outcome;
      };
      void fetchWithin(endpoint(url, "/generate_no_preview"), { method: "POST", body: form, timeoutMs: generateTimeoutMs }).then(
        async (response) => {
          await response.body?.cancel().catch(() => {});
          if (response.ok) settle({ state: "completed" });
          else if (response.status === 503) settle({ state: "busy" });
          else if (response.status === 499) settle(failed("avatar_interrupted"));
          else settle(failed("avatar_failed"));
        },
        (error: unknown) => settle(failed(error instanceof GeneratorError ? error.code : "avatar_unreachable")),
      );
      return { remoteId };
    },

    async poll(remoteId: string): Promise<PollResult> {
      const entry = pending.get(remoteId);
      if (!entry) return { state: "lost" };
      if (entry.done) {
        if (entry.outcome?.state !== "completed") pending.delete(remoteId);
        return entry.outcome!;
      }
      const response = await fetchWithin(endpoint(url, "/status"), { timeoutMs });
      if (!response.ok) throw new GeneratorError("avatar_unreachable");
      const json = (await response.json().catch(() => ({}))) as { status?: unknown; progress?: unknown };
      const progress = typeof json.progress === "number" && Number.isFinite(json.progress) ? Math.min(1, Math.max(0, json.progress / 100)) : null;
      // The blocking request's answer says how it ended; /status only shows the way there.
      const step = progress !== null && progress >= 0.7 ? "exporting" : progress !== null && progress >= 0.5 ? "texturing" : "generating";
      return { state: "running", progress: progress === null ? null : Math.min(progress, 0.99), step };
    },

    async fetchResult(remoteId: string) {
      pending.delete(remoteId);
      const response = await fetchWithin(endpoint(url, "/download/model"), { timeoutMs: Math.max(timeoutMs, 120_000) });
      if (!response.ok) throw new GeneratorError("avatar_invalid_model");
      return new Uint8Array(await response.arrayBuffer());
    },

    async cancel(remoteId: string) {
      pending.delete(remoteId);
      await fetchWithin(endpoint(url, "/interrupt"), { method: "POST", timeoutMs }).then(
        (r) => r.body?.cancel().catch(() => {}),
        () => {},
      );
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
