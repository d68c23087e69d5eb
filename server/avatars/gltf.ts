// Validation of 3D avatar models (VRM 0.x, VRM 1.0, plain glTF binary) before they are stored or
// served: every byte comes from a user upload or a generator server, so nothing is trusted.
//
// Order: size → GLB container (magic, version, header and chunk lengths) → JSON chunk (an object,
// glTF 2.x, no external or data: URIs, buffer views and accessors inside the binary chunk, only
// extensions we can read) → a full parse with @gltf-transform/core (proves the file is complete)
// → triangle count. Each failure is a `bad_input` DomainError whose `reason` names it
// (translated as error.reason.<reason> in lib/i18n).
import { createHash } from "node:crypto";
import { Logger, Primitive, WebIO, type Document } from "@gltf-transform/core";
import { dedup, prune, simplify, weld } from "@gltf-transform/functions";
import { MeshoptSimplifier } from "meshoptimizer";
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

export interface AvatarModelLimits {
  maxBytes: number;
  maxTriangles: number;
}

/** The hard ceiling of an upload (the zod boundary uses it too); AVATAR_MAX_MB may only lower it. */
export const AVATAR_UPLOAD_MAX_BYTES = 30 * 1024 * 1024;
export const DEFAULT_AVATAR_MAX_TRIANGLES = 500_000;

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
};

export function avatarError(reason: AvatarErrorReason, params: Record<string, string | number> = {}): DomainError {
  const message = MESSAGES[reason].replace(/\{(\w+)\}/g, (_, key: string) => String(params[key] ?? ""));
  return new DomainError("bad_input", message, { ...params, reason });
}

/** The limits from the environment (AVATAR_MAX_MB, AVATAR_MAX_TRIANGLES), read lazily. */
export function avatarLimitsFromEnv(source: Record<string, string | undefined> = process.env): AvatarModelLimits {
  const mb = Number(source.AVATAR_MAX_MB);
  const triangles = Number(source.AVATAR_MAX_TRIANGLES);
  return {
    maxBytes: Number.isInteger(mb) && mb >= 1 ? Math.min(mb * 1024 * 1024, AVATAR_UPLOAD_MAX_BYTES) : AVATAR_UPLOAD_MAX_BYTES,
    maxTriangles: Number.isInteger(triangles) && triangles >= 1 ? triangles : DEFAULT_AVATAR_MAX_TRIANGLES,
  };
}

// --- GLB container -----------------------------------------------------------------------------

const CHUNK_JSON = 0x4e4f534a; // "JSON"
const CHUNK_BIN = 0x004e4942; // "BIN\0"
const HEADER_BYTES = 12;
const CHUNK_HEADER_BYTES = 8;

export interface GlbContainer {
  json: Record<string, unknown>;
  /** The BIN chunk, or null when there is none. */
  bin: Uint8Array | null;
}

/** Reads the GLB header and chunks, trusting no length; throws avatar_* errors. */
export function parseGlbContainer(bytes: Uint8Array): GlbContainer {
  if (bytes.length < HEADER_BYTES) throw avatarError(bytes.length >= 4 && isMagic(bytes) ? "avatar_truncated" : "avatar_not_glb");
  if (!isMagic(bytes)) throw avatarError("avatar_not_glb");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== 2) throw avatarError("avatar_version");
  const declared = view.getUint32(8, true);
  if (declared > bytes.length) throw avatarError("avatar_truncated");
  if (declared < bytes.length) throw avatarError("avatar_malformed");

  let offset = HEADER_BYTES;
  let jsonChunk: Uint8Array | null = null;
  let bin: Uint8Array | null = null;
  let index = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < CHUNK_HEADER_BYTES) throw avatarError("avatar_truncated");
    const length = view.getUint32(offset, true);
    const type = view.getUint32(offset + 4, true);
    const start = offset + CHUNK_HEADER_BYTES;
    if (length > bytes.length - start) throw avatarError("avatar_truncated");
    if (length % 4 !== 0) throw avatarError("avatar_malformed");
    const data = bytes.subarray(start, start + length);
    if (index === 0) {
      if (type !== CHUNK_JSON) throw avatarError("avatar_malformed");
      jsonChunk = data;
    } else if (type === CHUNK_JSON) {
      throw avatarError("avatar_malformed");
    } else if (type === CHUNK_BIN) {
      if (index !== 1) throw avatarError("avatar_malformed");
      bin = data;
    }
    // Other chunk types are skipped, as the glTF 2.0 specification asks.
    offset = start + length;
    index += 1;
  }
  if (!jsonChunk) throw avatarError("avatar_truncated");

  let json: unknown;
  try {
    // JSON chunks are padded with spaces; a BOM or invalid UTF-8 is an error.
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(jsonChunk));
  } catch {
    throw avatarError("avatar_malformed");
  }
  if (!isObject(json)) throw avatarError("avatar_malformed");
  return { json, bin };
}

/** "glTF" */
function isMagic(bytes: Uint8Array): boolean {
  return bytes[0] === 0x67 && bytes[1] === 0x6c && bytes[2] === 0x54 && bytes[3] === 0x46;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function listOf(json: Record<string, unknown>, key: string): Record<string, unknown>[] {
  const value = json[key];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isObject)) throw avatarError("avatar_malformed");
  return value;
}

function nonNegativeInt(value: unknown, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) throw avatarError("avatar_malformed");
  return value;
}

// --- JSON checks -------------------------------------------------------------------------------

/**
 * No extension may be *required* (extensionsRequired): compressed geometry (Draco, meshopt) or
 * exotic textures could not be counted here nor shown without extra decoders, and the reader
 * refuses any required extension it has not registered. Optional ones (VRM, VRMC_*, KHR_*) are fine.
 */
const REQUIRED_EXTENSIONS_ALLOWED = new Set<string>();
/** Components of accessors without a buffer view (all zeros, allocated by readers): at most this many. */
const MAX_ZERO_COMPONENTS = 1_000_000;

const COMPONENT_BYTES: Record<number, number> = { 5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4 };
const TYPE_COMPONENTS: Record<string, number> = { SCALAR: 1, VEC2: 2, VEC3: 3, VEC4: 4, MAT2: 4, MAT3: 9, MAT4: 16 };

function checkJson({ json, bin }: GlbContainer): VrmVersion | null {
  const asset = json.asset;
  if (!isObject(asset) || typeof asset.version !== "string") throw avatarError("avatar_malformed");
  if (!/^2\.\d+$/.test(asset.version)) throw avatarError("avatar_version");

  const required = json.extensionsRequired;
  if (required !== undefined) {
    if (!Array.isArray(required) || !required.every((name) => typeof name === "string")) throw avatarError("avatar_malformed");
    const unknown = required.find((name) => !REQUIRED_EXTENSIONS_ALLOWED.has(name));
    if (unknown !== undefined) throw avatarError("avatar_unsupported_extension", { extension: unknown.slice(0, 64) });
  }

  // Everything must live in the file: no uri at all, not even data: URIs (the GLB's BIN chunk is
  // the only buffer, and images are buffer views). A uri could point at another host, a local
  // path, or hide megabytes of base64 past the size checks.
  const buffers = listOf(json, "buffers");
  for (const buffer of buffers) if (buffer.uri !== undefined) throw avatarError("avatar_external_uri");
  for (const image of listOf(json, "images")) {
    if (image.uri !== undefined) throw avatarError("avatar_external_uri");
    if (image.bufferView === undefined) throw avatarError("avatar_malformed");
  }
  if (buffers.length > 1) throw avatarError("avatar_malformed");
  const binLength = bin?.length ?? 0;
  if (buffers.length === 1 && nonNegativeInt(buffers[0]?.byteLength) > binLength) throw avatarError("avatar_truncated");

  const views = listOf(json, "bufferViews");
  const viewLengths = views.map((view) => {
    if (nonNegativeInt(view.buffer) !== 0 || buffers.length === 0) throw avatarError("avatar_malformed");
    const offset = nonNegativeInt(view.byteOffset, 0);
    const length = nonNegativeInt(view.byteLength);
    if (offset + length > binLength) throw avatarError("avatar_truncated");
    return length;
  });
  let zeroComponents = 0;
  for (const accessor of listOf(json, "accessors")) {
    const count = nonNegativeInt(accessor.count);
    const componentBytes = COMPONENT_BYTES[nonNegativeInt(accessor.componentType)];
    const components = typeof accessor.type === "string" ? TYPE_COMPONENTS[accessor.type] : undefined;
    if (!componentBytes || !components) throw avatarError("avatar_malformed");
    if (accessor.sparse !== undefined) throw avatarError("avatar_unsupported_extension", { extension: "sparse accessors" });
    if (accessor.bufferView === undefined) {
      // All zeros, per the specification: readers allocate them, so they are bounded.
      zeroComponents += count * components;
      if (zeroComponents > MAX_ZERO_COMPONENTS) throw avatarError("avatar_malformed");
      continue;
    }
    const viewIndex = nonNegativeInt(accessor.bufferView);
    const viewLength = viewLengths[viewIndex];
    const view = views[viewIndex];
    if (viewLength === undefined || !view) throw avatarError("avatar_malformed");
    const elementBytes = componentBytes * components;
    const stride = nonNegativeInt(view.byteStride, elementBytes) || elementBytes;
    const needed = count === 0 ? 0 : nonNegativeInt(accessor.byteOffset, 0) + stride * (count - 1) + elementBytes;
    if (needed > viewLength) throw avatarError("avatar_malformed");
  }

  checkNodeTree(json);

  const extensions = json.extensions;
  if (extensions !== undefined && !isObject(extensions)) throw avatarError("avatar_malformed");
  if (extensions && isObject(extensions.VRMC_vrm)) return "1";
  if (extensions && isObject(extensions.VRM)) return "0";
  return null;
}

/** Nodes form a forest: valid child indices, one parent at most, no cycles (a viewer would loop). */
function checkNodeTree(json: Record<string, unknown>): void {
  const nodes = listOf(json, "nodes");
  const parent = new Array<number>(nodes.length).fill(-1);
  nodes.forEach((node, index) => {
    if (node.children === undefined) return;
    if (!Array.isArray(node.children)) throw avatarError("avatar_malformed");
    for (const child of node.children) {
      const at = nonNegativeInt(child);
      if (at >= nodes.length || at === index || parent[at] !== -1) throw avatarError("avatar_malformed");
      parent[at] = index;
    }
  });
  // With one parent each, a cycle is a walk up that meets itself before a root or a node
  // already known to reach one (linear: each node is walked once).
  const state = new Uint8Array(nodes.length); // 0 unseen, 1 on this walk, 2 reaches a root
  for (let start = 0; start < nodes.length; start += 1) {
    const walk: number[] = [];
    let at = start;
    while (at !== -1 && state[at] === 0) {
      state[at] = 1;
      walk.push(at);
      at = parent[at] ?? -1;
    }
    if (at !== -1 && state[at] === 1) throw avatarError("avatar_malformed");
    for (const node of walk) state[node] = 2;
  }
}

// --- Triangles ---------------------------------------------------------------------------------

function primitiveTriangles(primitive: Primitive): number {
  const indices = primitive.getIndices();
  const count = indices ? indices.getCount() : (primitive.getAttribute("POSITION")?.getCount() ?? 0);
  switch (primitive.getMode()) {
    case Primitive.Mode.TRIANGLES:
      return Math.floor(count / 3);
    case Primitive.Mode.TRIANGLE_STRIP:
    case Primitive.Mode.TRIANGLE_FAN:
      return Math.max(0, count - 2);
    default:
      return 0; // points and lines draw no surface
  }
}

// --- Entry point -------------------------------------------------------------------------------

// VRM extensions are not registered with the reader: it would warn about each one.
const io = new WebIO().setLogger(new Logger(Logger.Verbosity.ERROR));

/**
 * Proves `bytes` is a complete, self-contained VRM or GLB within the limits, and describes it.
 * Triangles are counted per node that draws a mesh (a mesh drawn twice costs twice).
 */
export async function validateAvatarModel(
  bytes: Uint8Array,
  options: Partial<AvatarModelLimits> = {},
): Promise<ValidatedAvatarModel> {
  const defaults = avatarLimitsFromEnv();
  const maxBytes = options.maxBytes ?? defaults.maxBytes;
  const maxTriangles = options.maxTriangles ?? defaults.maxTriangles;
  if (bytes.length > maxBytes) throw avatarError("avatar_too_large", { mb: Math.floor(maxBytes / (1024 * 1024)) || 1 });

  const container = parseGlbContainer(bytes);
  const vrmVersion = checkJson(container);

  let triangles = 0;
  try {
    const document = await io.readBinary(bytes);
    for (const node of document.getRoot().listNodes()) {
      for (const primitive of node.getMesh()?.listPrimitives() ?? []) triangles += primitiveTriangles(primitive);
    }
  } catch {
    throw avatarError("avatar_malformed");
  }
  if (triangles === 0) throw avatarError("avatar_no_mesh");
  if (triangles > maxTriangles) throw avatarError("avatar_too_many_triangles", { max: maxTriangles, triangles });

  return {
    format: vrmVersion === null ? "glb" : "vrm",
    vrmVersion,
    triangles,
    byteSize: bytes.length,
    sha256: createHash("sha256").update(bytes).digest("hex"),
  };
}

// --- Fitting a generated model -----------------------------------------------------------------

/** A generated model may be this heavy before it is simplified (every other cap still applies). */
export const GENERATED_MAX_TRIANGLES = 5_000_000;

export interface FittedAvatarModel {
  bytes: Uint8Array;
  model: ValidatedAvatarModel;
  /** null when the model already fitted. */
  reduction: { fromTriangles: number; toTriangles: number } | null;
}

function documentTriangles(document: Document): number {
  let triangles = 0;
  for (const node of document.getRoot().listNodes()) {
    for (const primitive of node.getMesh()?.listPrimitives() ?? []) triangles += primitiveTriangles(primitive);
  }
  return triangles;
}

/**
 * A generated model, made to fit: validated with a higher triangle cap, then simplified
 * (meshoptimizer) under `maxTriangles` when it is over, keeping its textures and UVs; the result
 * is validated again with the real limits.
 */
export async function fitGeneratedModel(bytes: Uint8Array, limits: Partial<AvatarModelLimits> = {}): Promise<FittedAvatarModel> {
  const maxTriangles = limits.maxTriangles ?? avatarLimitsFromEnv().maxTriangles;
  const first = await validateAvatarModel(bytes, { ...limits, maxTriangles: Math.max(GENERATED_MAX_TRIANGLES, maxTriangles) });
  if (first.triangles <= maxTriangles) return { bytes, model: first, reduction: null };

  await MeshoptSimplifier.ready;
  const document = await io.readBinary(bytes);
  let triangles = first.triangles;
  for (const error of [0.01, 0.05, 1]) {
    if (triangles <= maxTriangles) break;
    const ratio = Math.min(1, (maxTriangles / triangles) * 0.95);
    await document.transform(weld(), simplify({ simplifier: MeshoptSimplifier, ratio, error }), prune(), dedup());
    triangles = documentTriangles(document);
  }
  const out = await io.writeBinary(document);
  const model = await validateAvatarModel(out, limits);
  return { bytes: out, model, reduction: { fromTriangles: first.triangles, toTriangles: model.triangles } };
}
