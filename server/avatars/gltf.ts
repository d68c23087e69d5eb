// Validation of 3D avatar models (VRM 0.x, VRM 1.0, plain glTF binary) before they are stored or
// served: every byte comes from a user upload or a generator server, so nothing is trusted.
//
// This file is the policy: the limits and why, the sentences, the DomainError. The checks
// themselves (model-check.mjs: caps on every count and on texture sizes before any full parse,
// then the parse) and the simplification of generated models run on a worker thread
// (worker-pool.ts) with a heap and a time limit, so a hostile file never stalls the event loop.
// Each refusal is a `bad_input` DomainError whose `reason` names it (translated as
// error.reason.<reason> in lib/i18n).
import type { ModelLimits } from "./model-check.mjs";
import { runInWorker, WorkerOutOfMemory, WorkerPoolBusy, WorkerRefusal, WorkerTimeout } from "./worker-pool";
import { DomainError } from "@/server/errors";

export type AvatarFormat = "vrm" | "glb";
export type VrmVersion = "0" | "1";

export interface ValidatedAvatarModel {
  format: AvatarFormat;
  vrmVersion: VrmVersion | null;
  triangles: number;
  byteSize: number;
  sha256: string;
}

/** Every limit a model is held to (see AVATAR_MODEL_CAPS), and the time its check may take. */
export interface AvatarModelLimits extends ModelLimits {
  /** Wall-clock limit of one validation (or fitting) on its worker thread. */
  timeoutMs: number;
}

/** The hard ceiling of an upload (the zod boundary uses it too); AVATAR_MAX_MB may only lower it. */
export const AVATAR_UPLOAD_MAX_BYTES = 30 * 1024 * 1024;
export const DEFAULT_AVATAR_MAX_TRIANGLES = 500_000;
/** A generated model may be this heavy before it is simplified (every other limit still applies). */
export const GENERATED_MAX_TRIANGLES = 5_000_000;

/**
 * Caps checked from the JSON chunk and the image headers before any full parse. Set from real
 * avatars with wide headroom, so no real model meets them and a hostile one is refused in
 * milliseconds: a VRoid Studio export has ~100–300 nodes (bones, spring-bone colliders, meshes),
 * under 10 meshes with 10–50 primitives, 10–30 materials, 20–40 textures of 1024–4096 px, a few
 * skins of ~100–200 joints, a face of ~50–60 blend shapes per primitive, a few hundred to ~2,000
 * accessors and a JSON chunk of 0.1–1 MB; rigged Booth/VRChat avatars run to ~1,000–2,000 nodes,
 * ~100 materials and a few thousand accessors (ARKit's 52 blend shapes on several meshes).
 */
export const AVATAR_MODEL_CAPS: Omit<ModelLimits, "maxBytes" | "maxTriangles"> = {
  /** 8× the largest JSON we know of; parsed in the worker only below this. */
  maxJsonBytes: 8 * 1024 * 1024,
  /** ~30× VRoid, 5× the heaviest rigs. A million empty nodes (3 MB) took 26 s and 1.2 GB to parse. */
  maxNodes: 10_000,
  maxMeshes: 1_000,
  maxPrimitives: 4_000,
  /** Blend shapes × primitives: a VRoid face has ~500, an ARKit rig a few thousand. */
  maxMorphTargets: 16_384,
  maxAccessors: 32_768,
  maxBufferViews: 32_768,
  /** ~30× VRoid's 10–30. */
  maxMaterials: 1_000,
  /** ~25× VRoid's 20–40 (textures, images and samplers, each). */
  maxTextures: 1_000,
  maxSkins: 1_000,
  maxJoints: 65_536,
  /** Avatars seldom carry animations (VRM animations are separate .vrma files). */
  maxAnimations: 256,
  maxAnimationChannels: 65_536,
  /** Browsers and GPUs commonly stop at 8192 or 16384 px; VRoid exports at most 4096. */
  maxTextureEdge: 8192,
  /**
   * Decoded pixels of all textures together: 256 Mi px (1 GiB as RGBA in the viewer's memory) =
   * sixteen 4096² or sixty-four 2048² textures, twice a VRoid export at its largest atlas size.
   */
  maxTexturePixels: 256 * 1024 * 1024,
};

/** A validation is given this long on its thread; a real 30 MB avatar takes well under a second. */
export const AVATAR_VALIDATE_TIMEOUT_MS = 15_000;
/** Simplifying a 5-million-triangle result takes tens of seconds on a small server; the job waits. */
export const AVATAR_FIT_TIMEOUT_MS = 180_000;

export const AVATAR_ERROR_REASONS = [
  "avatar_too_large",
  "avatar_not_glb",
  "avatar_version",
  "avatar_truncated",
  "avatar_malformed",
  "avatar_external_uri",
  "avatar_unsupported_extension",
  "avatar_no_mesh",
  "avatar_too_many_triangles",
  "avatar_json_too_large",
  "avatar_too_many_nodes",
  "avatar_too_many_meshes",
  "avatar_too_many_morph_targets",
  "avatar_too_many_accessors",
  "avatar_too_many_materials",
  "avatar_too_many_textures",
  "avatar_too_many_skins",
  "avatar_too_many_animations",
  "avatar_texture_unreadable",
  "avatar_texture_too_large",
  "avatar_textures_too_large",
  "avatar_too_complex",
] as const;
export type AvatarErrorReason = (typeof AVATAR_ERROR_REASONS)[number];

const MESSAGES: Record<AvatarErrorReason, string> = {
  avatar_too_large: "The model file is larger than {mb} MB.",
  avatar_not_glb: "Models must be VRM or binary glTF (.glb) files.",
  avatar_version: "Only glTF 2.0 models are supported.",
  avatar_truncated: "The model file is incomplete (it was cut off).",
  avatar_malformed: "The model file is damaged and cannot be read.",
  avatar_external_uri: "The model refers to files outside itself; everything must be packed into the .glb/.vrm.",
  avatar_unsupported_extension: "The model needs a glTF extension this app cannot read ({extension}).",
  avatar_no_mesh: "The model has no visible mesh.",
  avatar_too_many_triangles: "The model has too many triangles (at most {max}).",
  avatar_json_too_large: "The model's scene description (its JSON part) is larger than {mb} MB.",
  avatar_too_many_nodes: "The model has too many nodes, bones or objects (at most {max}).",
  avatar_too_many_meshes: "The model has too many meshes or mesh parts (at most {max}).",
  avatar_too_many_morph_targets: "The model has too many blend shapes (at most {max}).",
  avatar_too_many_accessors: "The model is split into too many data blocks (at most {max}).",
  avatar_too_many_materials: "The model has too many materials (at most {max}).",
  avatar_too_many_textures: "The model has too many textures (at most {max}).",
  avatar_too_many_skins: "The model has too many skins or skinned bones (at most {max}).",
  avatar_too_many_animations: "The model has too many animations (at most {max}).",
  avatar_texture_unreadable: "A texture in the model is not a readable PNG, JPEG or WebP image.",
  avatar_texture_too_large: "A texture in the model is larger than {max} pixels on a side.",
  avatar_textures_too_large: "The model's textures are too large together (at most {megapixels} megapixels).",
  avatar_too_complex: "The model is too complex to check in reasonable time and memory.",
};

export function avatarError(reason: AvatarErrorReason, params: Record<string, string | number> = {}): DomainError {
  const message = MESSAGES[reason].replace(/\{(\w+)\}/g, (_, key: string) => String(params[key] ?? ""));
  return new DomainError("bad_input", message, { ...params, reason });
}

/** The limits from the environment (AVATAR_MAX_MB, AVATAR_MAX_TRIANGLES) and the caps, read lazily. */
export function avatarLimitsFromEnv(source: Record<string, string | undefined> = process.env): AvatarModelLimits {
  const mb = Number(source.AVATAR_MAX_MB);
  const triangles = Number(source.AVATAR_MAX_TRIANGLES);
  return {
    ...AVATAR_MODEL_CAPS,
    maxBytes: Number.isInteger(mb) && mb >= 1 ? Math.min(mb * 1024 * 1024, AVATAR_UPLOAD_MAX_BYTES) : AVATAR_UPLOAD_MAX_BYTES,
    maxTriangles: Number.isInteger(triangles) && triangles >= 1 ? triangles : DEFAULT_AVATAR_MAX_TRIANGLES,
    timeoutMs: AVATAR_VALIDATE_TIMEOUT_MS,
  };
}

// --- Entry points: on the worker pool ----------------------------------------------------------

const CHECKS = "server/avatars/model-check.mjs";

export interface FittedAvatarModel {
  bytes: Uint8Array;
  model: ValidatedAvatarModel;
  /** null when the model already fitted. */
  reduction: { fromTriangles: number; toTriangles: number } | null;
}

/** The caller's bytes, copied once into a buffer of their own that is handed (transferred) to the worker. */
function handOver(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** Runs a model check on the pool; its failures become avatar_* DomainErrors. */
async function runCheck<T>(name: string, bytes: Uint8Array, args: unknown[], timeoutMs: number): Promise<T> {
  const copy = handOver(bytes);
  try {
    return await runInWorker<T>({ module: CHECKS, name }, [copy, ...args], { transfer: [copy.buffer as ArrayBuffer], timeoutMs });
  } catch (error) {
    if (error instanceof WorkerRefusal) {
      const reason = (AVATAR_ERROR_REASONS as readonly string[]).includes(error.reason) ? (error.reason as AvatarErrorReason) : "avatar_malformed";
      throw avatarError(reason, error.params);
    }
    // Past its time or its heap: a model that heavy is refused, whatever it holds.
    if (error instanceof WorkerTimeout || error instanceof WorkerOutOfMemory) throw avatarError("avatar_too_complex");
    if (error instanceof WorkerPoolBusy) throw new DomainError("busy", "Too many models are being checked right now. Try again shortly.");
    throw error;
  }
}

function limitsWith(options: Partial<AvatarModelLimits>): AvatarModelLimits {
  return { ...avatarLimitsFromEnv(), ...options };
}

/**
 * Proves `bytes` is a complete, self-contained VRM or GLB within the limits, and describes it.
 * Triangles are counted per node that draws a mesh (a mesh drawn twice costs twice, an instanced
 * one once per instance). Runs on a worker thread; `bytes` stays the caller's.
 */
export async function validateAvatarModel(bytes: Uint8Array, options: Partial<AvatarModelLimits> = {}): Promise<ValidatedAvatarModel> {
  const limits = limitsWith(options);
  // Refused before it is copied.
  if (bytes.length > limits.maxBytes) throw avatarError("avatar_too_large", { mb: Math.floor(limits.maxBytes / (1024 * 1024)) || 1 });
  return runCheck<ValidatedAvatarModel>("validateModel", bytes, [limits], limits.timeoutMs);
}

/**
 * A generated model, made to fit: validated with every limit but a triangle cap of
 * GENERATED_MAX_TRIANGLES, then, when over `maxTriangles`, simplified with meshoptimizer (through
 * @gltf-transform/functions: weld, simplify, prune, dedup; textures, UVs and materials kept) in
 * passes that allow more error each time, and validated again with the real limits. A VRM over
 * the limit is refused (simplifying would lose its humanoid). Runs on a worker thread, with
 * AVATAR_FIT_TIMEOUT_MS unless `limits.timeoutMs` says otherwise.
 */
export async function fitGeneratedModel(bytes: Uint8Array, limits: Partial<AvatarModelLimits> = {}): Promise<FittedAvatarModel> {
  const full = { ...limitsWith(limits), timeoutMs: limits.timeoutMs ?? AVATAR_FIT_TIMEOUT_MS };
  if (bytes.length > full.maxBytes) throw avatarError("avatar_too_large", { mb: Math.floor(full.maxBytes / (1024 * 1024)) || 1 });
  const fitted = await runCheck<{ bytes: Uint8Array | null; model: ValidatedAvatarModel; reduction: FittedAvatarModel["reduction"] }>(
    "fitModel",
    bytes,
    [full, GENERATED_MAX_TRIANGLES],
    full.timeoutMs,
  );
  return { bytes: fitted.bytes ?? bytes, model: fitted.model, reduction: fitted.reduction };
}
