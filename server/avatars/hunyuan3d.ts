import { endpoint, fetchWithin, GeneratorError, type GenerateOptions, type Generator, type PollResult } from "./generator";

/**
 * Hunyuan3D-2's `api_server.py` (Tencent/Hunyuan3D-2): `POST /send` starts a thread and answers
 * `{uid}`; `GET /status/{uid}` says "processing" until `<uid>.glb` exists, then "completed" with
 * the file in `model_base64`. Its quirks, handled here or by the engine:
 * - no error state: a crashed job says "processing" forever (the engine's silence limit ends it);
 * - no progress: the engine estimates it from elapsed time (`estimateProgress`);
 * - no health route: `probe` asks for the status of a uid that cannot exist, which starts nothing;
 * - "completed" can come while the file is still being written: the engine validates the model
 *   and polls again a few times before giving up;
 * - `texture: true` never completes unless the server runs with `--enable_tex`, so it is sent only
 *   when configured (AVATAR3D_TEXTURE=1).
 */
export function hunyuan3dGenerator(url: string, config: { requestTimeoutMs?: number; texture?: boolean } = {}): Generator {
  const timeoutMs = config.requestTimeoutMs ?? 30_000;

  async function status(uid: string): Promise<{ status?: unknown; model_base64?: unknown }> {
    const response = await fetchWithin(endpoint(url, `/status/${encodeURIComponent(uid)}`), { timeoutMs });
    if (!response.ok) throw new GeneratorError("avatar_unreachable");
    try {
      return (await response.json()) as { status?: unknown; model_base64?: unknown };
    } catch {
      throw new GeneratorError("avatar_unreachable");
    }
  }

  return {
    protocol: "hunyuan3d",
    url,

    async start(image: Uint8Array, options: GenerateOptions) {
      const body = {
        image: Buffer.from(image).toString("base64"),
        seed: options.seed ?? 1234,
        octree_resolution: 256,
        num_inference_steps: options.steps ?? 30,
        guidance_scale: options.guidance ?? 5.0,
        texture: Boolean(config.texture && options.texture !== false),
        face_count: options.faceCount ?? 40_000,
        type: "glb",
      };
      const response = await fetchWithin(endpoint(url, "/send"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        timeoutMs,
      });
      if (!response.ok) throw new GeneratorError(response.status >= 500 ? "avatar_failed" : "avatar_unreachable");
      const json = (await response.json().catch(() => null)) as { uid?: unknown } | null;
      if (typeof json?.uid !== "string" || !/^[\w-]{1,100}$/.test(json.uid)) throw new GeneratorError("avatar_failed");
      return { remoteId: json.uid };
    },

    async poll(uid: string): Promise<PollResult> {
      const json = await status(uid);
      if (json.status === "completed" && typeof json.model_base64 === "string") {
        return { state: "completed", model: new Uint8Array(Buffer.from(json.model_base64, "base64")) };
      }
      return { state: "running", progress: null, step: "generating" };
    },

    async fetchResult(uid: string) {
      const json = await status(uid);
      if (json.status !== "completed" || typeof json.model_base64 !== "string") throw new GeneratorError("avatar_invalid_model");
      return new Uint8Array(Buffer.from(json.model_base64, "base64"));
    },

    // The protocol has no way to stop a job: its thread runs to the end and its result is ignored.
    async cancel() {},

    async probe() {
      try {
        const json = await status(`probe-${crypto.randomUUID()}`);
        return { ok: json.status === "processing" || json.status === "completed", busy: false };
      } catch {
        return { ok: false, busy: false };
      }
    },
  };
}
