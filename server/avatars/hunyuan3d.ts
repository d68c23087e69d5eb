import { endpoint, fetchWithin, GeneratorError, unreachableKind, type GenerateOptions, type Generator, type PollResult } from "./generator";

/** api_server.py's own defaults (ModelWorker.generate), sent when the user asked for nothing else. */
export const HUNYUAN3D_DEFAULTS = { seed: 1234, octree_resolution: 128, num_inference_steps: 5, guidance_scale: 5.0, face_count: 40_000 } as const;

/**
 * Hunyuan3D-2's `api_server.py` (Tencent/Hunyuan3D-2): `POST /send` starts a thread and answers
 * `{uid}`; `GET /status/{uid}` says "processing" until `<uid>.glb` exists, then "completed" with
 * the file in `model_base64`. Its quirks, handled here or by the engine:
 * - no error state: a crashed job says "processing" forever (the engine's silence limit ends it);
 * - no progress: the engine estimates it from elapsed time (`estimateProgress`);
 * - no cancel, and every /send runs at once in its own thread on one GPU: a job that ended here
 *   (cancelled, timed out) goes on there, so the engine keeps the server for it until `settled`;
 * - a restart forgets every uid, which then reads "processing" for ever like a live job. A live
 *   uvicorn never refuses a connection, so once the server was seen down ("down", not merely slow)
 *   after a job's last answer, a "processing" for that job means it is lost (`poll` → "lost");
 * - no health route: `probe` asks for the status of a uid that cannot exist, which starts nothing;
 * - "completed" can come while the file is still being written: the engine validates the model
 *   and polls again a few times before giving up;
 * - `texture: true` never completes unless the server runs with `--enable_tex`, so it is sent only
 *   when configured (AVATAR3D_TEXTURE=1); `face_count` only matters with a texture (without one
 *   the raw marching-cubes mesh comes back unreduced, and the engine simplifies it).
 */
export function hunyuan3dGenerator(url: string, config: { requestTimeoutMs?: number; texture?: boolean } = {}): Generator {
  const timeoutMs = config.requestTimeoutMs ?? 30_000;
  /** when the server was last seen down (connection refused or broken) */
  let downAt = 0;
  /** per uid, when the server last answered about it (start or poll) */
  const answeredAt = new Map<string, number>();

  async function status(uid: string): Promise<{ status?: unknown; model_base64?: unknown }> {
    try {
      const response = await fetchWithin(endpoint(url, `/status/${encodeURIComponent(uid)}`), { timeoutMs });
      if (!response.ok) throw new GeneratorError("avatar_unreachable", "silent");
      try {
        return (await response.json()) as { status?: unknown; model_base64?: unknown };
      } catch (error) {
        throw new GeneratorError("avatar_unreachable", unreachableKind(error));
      }
    } catch (error) {
      if (error instanceof GeneratorError && error.unreachable === "down") downAt = Date.now();
      throw error;
    }
  }

  /** "completed" with the file, "lost" after a restart, else "processing". */
  async function read(uid: string): Promise<{ state: "completed"; model: Uint8Array } | { state: "lost" | "processing" }> {
    const json = await status(uid);
    const wentDown = downAt >= (answeredAt.get(uid) ?? 0);
    answeredAt.set(uid, Date.now());
    if (json.status === "completed" && typeof json.model_base64 === "string") {
      answeredAt.delete(uid);
      return { state: "completed", model: new Uint8Array(Buffer.from(json.model_base64, "base64")) };
    }
    if (wentDown && downAt > 0) {
      answeredAt.delete(uid);
      return { state: "lost" };
    }
    return { state: "processing" };
  }

  return {
    protocol: "hunyuan3d",
    url,

    async start(image: Uint8Array, options: GenerateOptions) {
      const texture = Boolean(config.texture && options.texture !== false);
      const body = {
        image: Buffer.from(image).toString("base64"),
        seed: options.seed ?? HUNYUAN3D_DEFAULTS.seed,
        octree_resolution: HUNYUAN3D_DEFAULTS.octree_resolution,
        num_inference_steps: options.steps ?? HUNYUAN3D_DEFAULTS.num_inference_steps,
        guidance_scale: options.guidance ?? HUNYUAN3D_DEFAULTS.guidance_scale,
        texture,
        ...(texture ? { face_count: options.faceCount ?? HUNYUAN3D_DEFAULTS.face_count } : {}),
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
      answeredAt.set(json.uid, Date.now());
      return { remoteId: json.uid };
    },

    async poll(uid: string): Promise<PollResult> {
      const answer = await read(uid);
      if (answer.state === "completed") return { state: "completed", model: answer.model };
      if (answer.state === "lost") return { state: "lost" };
      return { state: "running", progress: null, step: "generating" };
    },

    async fetchResult(uid: string) {
      const json = await status(uid);
      if (json.status !== "completed" || typeof json.model_base64 !== "string") throw new GeneratorError("avatar_invalid_model");
      return new Uint8Array(Buffer.from(json.model_base64, "base64"));
    },

    // The protocol has no way to stop a job: its thread runs to the end and its result is ignored.
    async cancel() {},

    async settled(uid: string) {
      return (await read(uid)).state !== "processing";
    },

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
