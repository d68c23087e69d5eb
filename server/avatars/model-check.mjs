// @ts-check
// The checks and the simplification of 3D avatar models (VRM 0.x, VRM 1.0, plain glTF binary).
// Plain JavaScript so that the worker thread (model-worker.mjs) loads it as it is, unbundled,
// under Vitest and under `next start` alike. The policy — the limits' values, the sentences, the
// DomainError — lives in gltf.ts; this file is given every limit and throws ModelRefusal.
//
// Order, cheapest first, so a hostile file is refused before it costs anything:
// size → GLB container (magic, version, header and chunk lengths) → JSON chunk size (before it is
// parsed) → counts of every kind of object (nodes, meshes, accessors, …) → the JSON's structure
// (no external or data: URIs, buffer views and accessors inside the binary chunk, a node forest,
// only extensions we can read) → triangles counted from the JSON, GPU instancing multiplied in →
// texture dimensions read from the image headers → only then a full parse with
// @gltf-transform/core (proves the file is complete).
import { createHash } from "node:crypto";
import { Logger, Primitive, WebIO } from "@gltf-transform/core";
import { EXTMeshGPUInstancing, EXTTextureWebP, KHRONOS_EXTENSIONS } from "@gltf-transform/extensions";
import { dedup, prune, simplify, weld } from "@gltf-transform/functions";
import { MeshoptSimplifier } from "meshoptimizer";

/**
 * Every limit a model is held to (gltf.ts sets their values and says why).
 * @typedef {object} ModelLimits
 * @property {number} maxBytes the whole file
 * @property {number} maxTriangles triangles drawn, a mesh drawn by n nodes or n instances counting n times
 * @property {number} maxJsonBytes the JSON chunk, checked before it is parsed
 * @property {number} maxNodes nodes; also scenes and cameras
 * @property {number} maxMeshes
 * @property {number} maxPrimitives over all meshes
 * @property {number} maxMorphTargets over all primitives
 * @property {number} maxAccessors
 * @property {number} maxBufferViews
 * @property {number} maxMaterials
 * @property {number} maxTextures textures, images and samplers, each
 * @property {number} maxSkins
 * @property {number} maxJoints over all skins
 * @property {number} maxAnimations
 * @property {number} maxAnimationChannels channels and samplers, each, over all animations
 * @property {number} maxTextureEdge the longer side of any texture, in pixels
 * @property {number} maxTexturePixels all textures together, decoded (width × height summed)
 */

/**
 * @typedef {object} ValidatedModel
 * @property {"vrm" | "glb"} format
 * @property {"0" | "1" | null} vrmVersion
 * @property {number} triangles
 * @property {number} byteSize
 * @property {string} sha256
 */

/** A refusal: `reason` is an avatar_* code (error.reason.<reason> in lib/i18n), `params` fill its sentence. */
export class ModelRefusal extends Error {
  /** @param {string} reason @param {Record<string, string | number>} [params] */
  constructor(reason, params = {}) {
    super(reason);
    this.name = "ModelRefusal";
    this.reason = reason;
    this.params = params;
  }
}

/** @param {string} reason @param {Record<string, string | number>} [params] */
const refuse = (reason, params) => new ModelRefusal(reason, params);

// --- GLB container -----------------------------------------------------------------------------

const CHUNK_JSON = 0x4e4f534a; // "JSON"
const CHUNK_BIN = 0x004e4942; // "BIN\0"
const HEADER_BYTES = 12;
const CHUNK_HEADER_BYTES = 8;

/**
 * Reads the GLB header and chunks, trusting no length. The JSON chunk is only located here, not
 * parsed: its size is checked first.
 * @param {Uint8Array} bytes
 * @returns {{ jsonChunk: Uint8Array, bin: Uint8Array | null }}
 */
function readContainer(bytes) {
  if (bytes.length < HEADER_BYTES) throw refuse(bytes.length >= 4 && isMagic(bytes) ? "avatar_truncated" : "avatar_not_glb");
  if (!isMagic(bytes)) throw refuse("avatar_not_glb");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(4, true) !== 2) throw refuse("avatar_version");
  const declared = view.getUint32(8, true);
  if (declared > bytes.length) throw refuse("avatar_truncated");
  if (declared < bytes.length) throw refuse("avatar_malformed");

  let offset = HEADER_BYTES;
  /** @type {Uint8Array | null} */
  let jsonChunk = null;
  /** @type {Uint8Array | null} */
  let bin = null;
  let index = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < CHUNK_HEADER_BYTES) throw refuse("avatar_truncated");
    const length = view.getUint32(offset, true);
    const type = view.getUint32(offset + 4, true);
    const start = offset + CHUNK_HEADER_BYTES;
    if (length > bytes.length - start) throw refuse("avatar_truncated");
    if (length % 4 !== 0) throw refuse("avatar_malformed");
    const data = bytes.subarray(start, start + length);
    if (index === 0) {
      if (type !== CHUNK_JSON) throw refuse("avatar_malformed");
      jsonChunk = data;
    } else if (type === CHUNK_JSON) {
      throw refuse("avatar_malformed");
    } else if (type === CHUNK_BIN) {
      if (index !== 1) throw refuse("avatar_malformed");
      bin = data;
    }
    // Other chunk types are skipped, as the glTF 2.0 specification asks.
    offset = start + length;
    index += 1;
  }
  if (!jsonChunk) throw refuse("avatar_truncated");
  return { jsonChunk, bin };
}

/** @param {Uint8Array} jsonChunk @returns {Record<string, unknown>} */
function parseJsonChunk(jsonChunk) {
  let json;
  try {
    // JSON chunks are padded with spaces; a BOM or invalid UTF-8 is an error.
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(jsonChunk));
  } catch {
    throw refuse("avatar_malformed");
  }
  if (!isObject(json)) throw refuse("avatar_malformed");
  return json;
}

/** "glTF" @param {Uint8Array} bytes */
function isMagic(bytes) {
  return bytes[0] === 0x67 && bytes[1] === 0x6c && bytes[2] === 0x54 && bytes[3] === 0x46;
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** @param {Record<string, unknown>} json @param {string} key @returns {Record<string, unknown>[]} */
function listOf(json, key) {
  const value = json[key];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isObject)) throw refuse("avatar_malformed");
  return value;
}

/** @param {unknown} value @param {number} [fallback] @returns {number} */
function nonNegativeInt(value, fallback) {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) throw refuse("avatar_malformed");
  return value;
}

// --- Counts, from the JSON alone ---------------------------------------------------------------

/** The length of a top-level array, without looking inside it. @param {Record<string, unknown>} json @param {string} key */
function lengthOf(json, key) {
  const value = json[key];
  if (value === undefined) return 0;
  if (!Array.isArray(value)) throw refuse("avatar_malformed");
  return value.length;
}

/**
 * Every kind of object a reader allocates, counted before anything is walked: a million empty
 * nodes cost a full parser seconds and a gigabyte; here they cost one comparison.
 * @param {Record<string, unknown>} json @param {ModelLimits} limits
 */
function checkCounts(json, limits) {
  /** @type {Array<[key: string, max: number, reason: string]>} */
  const caps = [
    ["nodes", limits.maxNodes, "avatar_too_many_nodes"],
    ["scenes", limits.maxNodes, "avatar_too_many_nodes"],
    ["cameras", limits.maxNodes, "avatar_too_many_nodes"],
    ["meshes", limits.maxMeshes, "avatar_too_many_meshes"],
    ["accessors", limits.maxAccessors, "avatar_too_many_accessors"],
    ["bufferViews", limits.maxBufferViews, "avatar_too_many_accessors"],
    ["materials", limits.maxMaterials, "avatar_too_many_materials"],
    ["textures", limits.maxTextures, "avatar_too_many_textures"],
    ["images", limits.maxTextures, "avatar_too_many_textures"],
    ["samplers", limits.maxTextures, "avatar_too_many_textures"],
    ["skins", limits.maxSkins, "avatar_too_many_skins"],
    ["animations", limits.maxAnimations, "avatar_too_many_animations"],
  ];
  for (const [key, max, reason] of caps) if (lengthOf(json, key) > max) throw refuse(reason, { max });

  // Inside the (now few) meshes, skins and animations: their parts, still only counted.
  let primitives = 0;
  let targets = 0;
  /** Attribute and index references: a primitive may name one accessor a million times. */
  let references = 0;
  for (const mesh of listOf(json, "meshes")) {
    const list = mesh.primitives;
    if (!Array.isArray(list) || list.length === 0) throw refuse("avatar_malformed");
    primitives += list.length;
    if (primitives > limits.maxPrimitives) throw refuse("avatar_too_many_meshes", { max: limits.maxPrimitives });
    for (const primitive of list) {
      if (!isObject(primitive) || !isObject(primitive.attributes)) throw refuse("avatar_malformed");
      references += Object.keys(primitive.attributes).length + 1;
      if (primitive.targets === undefined) continue;
      if (!Array.isArray(primitive.targets)) throw refuse("avatar_malformed");
      targets += primitive.targets.length;
      if (targets > limits.maxMorphTargets) throw refuse("avatar_too_many_morph_targets", { max: limits.maxMorphTargets });
      for (const target of primitive.targets) {
        if (!isObject(target)) throw refuse("avatar_malformed");
        references += Object.keys(target).length;
      }
    }
    if (references > 4 * limits.maxAccessors) throw refuse("avatar_too_many_accessors", { max: limits.maxAccessors });
  }
  let joints = 0;
  for (const skin of listOf(json, "skins")) {
    joints += lengthOf(skin, "joints");
    if (joints > limits.maxJoints) throw refuse("avatar_too_many_skins", { max: limits.maxJoints });
  }
  let channels = 0;
  let samplers = 0;
  for (const animation of listOf(json, "animations")) {
    channels += lengthOf(animation, "channels");
    samplers += lengthOf(animation, "samplers");
    if (channels > limits.maxAnimationChannels || samplers > limits.maxAnimationChannels) {
      throw refuse("avatar_too_many_animations", { max: limits.maxAnimationChannels });
    }
  }
}

// --- Structure ---------------------------------------------------------------------------------

/**
 * No extension may be *required* (extensionsRequired): compressed geometry (Draco, meshopt) or
 * exotic textures could not be counted here nor shown without extra decoders, and the reader
 * refuses any required extension it has not registered. Optional ones (VRM, VRMC_*, KHR_*,
 * EXT_mesh_gpu_instancing) are fine.
 */
const REQUIRED_EXTENSIONS_ALLOWED = new Set();
/** Components of accessors without a buffer view (all zeros, allocated by readers): at most this many. */
const MAX_ZERO_COMPONENTS = 1_000_000;

/** @type {Record<number, number>} */
const COMPONENT_BYTES = { 5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4 };
/** @type {Record<string, number>} */
const TYPE_COMPONENTS = { SCALAR: 1, VEC2: 2, VEC3: 3, VEC4: 4, MAT2: 4, MAT3: 9, MAT4: 16 };

/**
 * The JSON's structure; returns the buffer views' byte ranges in the BIN chunk and the VRM version.
 * @param {Record<string, unknown>} json @param {Uint8Array | null} bin
 * @returns {{ views: Array<{ offset: number, length: number }>, vrmVersion: "0" | "1" | null }}
 */
function checkStructure(json, bin) {
  const asset = json.asset;
  if (!isObject(asset) || typeof asset.version !== "string") throw refuse("avatar_malformed");
  if (!/^2\.\d+$/.test(asset.version)) throw refuse("avatar_version");

  const required = json.extensionsRequired;
  if (required !== undefined) {
    if (!Array.isArray(required) || !required.every((name) => typeof name === "string")) throw refuse("avatar_malformed");
    const unknown = required.find((name) => !REQUIRED_EXTENSIONS_ALLOWED.has(name));
    if (unknown !== undefined) throw refuse("avatar_unsupported_extension", { extension: String(unknown).slice(0, 64) });
  }

  // Everything must live in the file: no uri at all, not even data: URIs (the GLB's BIN chunk is
  // the only buffer, and images are buffer views). A uri could point at another host, a local
  // path, or hide megabytes of base64 past the size checks.
  const buffers = listOf(json, "buffers");
  for (const buffer of buffers) if (buffer.uri !== undefined) throw refuse("avatar_external_uri");
  for (const image of listOf(json, "images")) {
    if (image.uri !== undefined) throw refuse("avatar_external_uri");
    if (image.bufferView === undefined) throw refuse("avatar_malformed");
  }
  if (buffers.length > 1) throw refuse("avatar_malformed");
  const binLength = bin?.length ?? 0;
  if (buffers.length === 1 && nonNegativeInt(buffers[0]?.byteLength) > binLength) throw refuse("avatar_truncated");

  const viewList = listOf(json, "bufferViews");
  const views = viewList.map((view) => {
    if (nonNegativeInt(view.buffer) !== 0 || buffers.length === 0) throw refuse("avatar_malformed");
    const offset = nonNegativeInt(view.byteOffset, 0);
    const length = nonNegativeInt(view.byteLength);
    if (offset + length > binLength) throw refuse("avatar_truncated");
    return { offset, length };
  });
  let zeroComponents = 0;
  for (const accessor of listOf(json, "accessors")) {
    const count = nonNegativeInt(accessor.count);
    const componentBytes = COMPONENT_BYTES[nonNegativeInt(accessor.componentType)];
    const components = typeof accessor.type === "string" ? TYPE_COMPONENTS[accessor.type] : undefined;
    if (!componentBytes || !components) throw refuse("avatar_malformed");
    if (accessor.sparse !== undefined) throw refuse("avatar_unsupported_extension", { extension: "sparse accessors" });
    if (accessor.bufferView === undefined) {
      // All zeros, per the specification: readers allocate them, so they are bounded.
      zeroComponents += count * components;
      if (zeroComponents > MAX_ZERO_COMPONENTS) throw refuse("avatar_malformed");
      continue;
    }
    const viewIndex = nonNegativeInt(accessor.bufferView);
    const view = views[viewIndex];
    const stride = nonNegativeInt(viewList[viewIndex]?.byteStride, 0);
    if (!view) throw refuse("avatar_malformed");
    const elementBytes = componentBytes * components;
    const step = stride || elementBytes;
    const needed = count === 0 ? 0 : nonNegativeInt(accessor.byteOffset, 0) + step * (count - 1) + elementBytes;
    if (needed > view.length) throw refuse("avatar_malformed");
  }

  checkNodeTree(json);

  const extensions = json.extensions;
  if (extensions !== undefined && !isObject(extensions)) throw refuse("avatar_malformed");
  const vrmVersion = extensions && isObject(extensions.VRMC_vrm) ? "1" : extensions && isObject(extensions.VRM) ? "0" : null;
  return { views, vrmVersion };
}

/** Nodes form a forest: valid child indices, one parent at most, no cycles (a viewer would loop). @param {Record<string, unknown>} json */
function checkNodeTree(json) {
  const nodes = listOf(json, "nodes");
  const parent = new Int32Array(nodes.length).fill(-1);
  nodes.forEach((node, index) => {
    if (node.children === undefined) return;
    if (!Array.isArray(node.children)) throw refuse("avatar_malformed");
    for (const child of node.children) {
      const at = nonNegativeInt(child);
      if (at >= nodes.length || at === index || parent[at] !== -1) throw refuse("avatar_malformed");
      parent[at] = index;
    }
  });
  // With one parent each, a cycle is a walk up that meets itself before a root or a node
  // already known to reach one (linear: each node is walked once).
  const state = new Uint8Array(nodes.length); // 0 unseen, 1 on this walk, 2 reaches a root
  for (let start = 0; start < nodes.length; start += 1) {
    const walk = [];
    let at = start;
    while (at !== -1 && state[at] === 0) {
      state[at] = 1;
      walk.push(at);
      at = parent[at] ?? -1;
    }
    if (at !== -1 && state[at] === 1) throw refuse("avatar_malformed");
    for (const node of walk) state[node] = 2;
  }
}

// --- Triangles, from the JSON ------------------------------------------------------------------

/**
 * Triangles drawn: per node that draws a mesh (a mesh drawn by two nodes costs twice), times its
 * instances under EXT_mesh_gpu_instancing (twelve triangles drawn a million times are twelve
 * million triangles to the browser).
 * @param {Record<string, unknown>} json
 */
function countTriangles(json) {
  const accessors = listOf(json, "accessors");
  /** @param {unknown} index */
  const countOf = (index) => {
    const accessor = accessors[nonNegativeInt(index)];
    if (!accessor) throw refuse("avatar_malformed");
    return nonNegativeInt(accessor.count);
  };
  const meshTriangles = listOf(json, "meshes").map((mesh) => {
    let triangles = 0;
    for (const primitive of /** @type {Record<string, unknown>[]} */ (mesh.primitives)) {
      const attributes = /** @type {Record<string, unknown>} */ (primitive.attributes);
      const count = primitive.indices !== undefined ? countOf(primitive.indices) : attributes.POSITION !== undefined ? countOf(attributes.POSITION) : 0;
      const mode = nonNegativeInt(primitive.mode, 4);
      if (mode === 4) triangles += Math.floor(count / 3);
      else if (mode === 5 || mode === 6) triangles += Math.max(0, count - 2);
      else if (mode > 6) throw refuse("avatar_malformed");
      // points and lines draw no surface
    }
    return triangles;
  });
  let total = 0;
  for (const node of listOf(json, "nodes")) {
    if (node.mesh === undefined) continue;
    const triangles = meshTriangles[nonNegativeInt(node.mesh)];
    if (triangles === undefined) throw refuse("avatar_malformed");
    total += triangles * instancesOf(node, countOf);
  }
  return total;
}

/** How many times a node draws its mesh: 1, or the count of its EXT_mesh_gpu_instancing attributes. @param {Record<string, unknown>} node @param {(index: unknown) => number} countOf */
function instancesOf(node, countOf) {
  const extensions = node.extensions;
  if (extensions === undefined) return 1;
  if (!isObject(extensions)) throw refuse("avatar_malformed");
  const instancing = extensions.EXT_mesh_gpu_instancing;
  if (instancing === undefined) return 1;
  if (!isObject(instancing) || !isObject(instancing.attributes)) throw refuse("avatar_malformed");
  const counts = Object.values(instancing.attributes).map(countOf);
  if (counts.length === 0) return 1;
  // The specification asks for equal counts; a viewer may use the largest.
  return Math.max(...counts);
}

// --- Textures, from the image headers ----------------------------------------------------------

/**
 * Width and height from the first bytes of a PNG (IHDR), JPEG (SOFn), WebP (VP8, VP8L, VP8X);
 * null for anything else (KTX2/Basis included: the viewer has no transcoder) or a damaged header.
 * @param {Uint8Array} bytes
 * @returns {{ width: number, height: number } | null}
 */
export function imageSize(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = (/** @type {number[]} */ signature, offset = 0) => signature.every((byte, i) => bytes[offset + i] === byte);
  // PNG: signature, then IHDR (big-endian width and height) first.
  if (at([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    if (bytes.length < 24 || !at([0x49, 0x48, 0x44, 0x52], 12)) return null;
    return sized(view.getUint32(16), view.getUint32(20));
  }
  // JPEG: SOI, then segments until a start of frame.
  if (at([0xff, 0xd8])) return jpegSize(bytes, view);
  // WebP: RIFF container with a VP8 (lossy), VP8L (lossless) or VP8X (extended) first chunk.
  if (at([0x52, 0x49, 0x46, 0x46]) && at([0x57, 0x45, 0x42, 0x50], 8) && bytes.length >= 30) {
    const chunk = String.fromCharCode(...bytes.subarray(12, 16));
    if (chunk === "VP8X") return sized(1 + (view.getUint32(24, true) & 0xffffff), 1 + (view.getUint32(27, true) & 0xffffff));
    if (chunk === "VP8L" && bytes[20] === 0x2f) {
      const bits = view.getUint32(21, true);
      return sized(1 + (bits & 0x3fff), 1 + ((bits >>> 14) & 0x3fff));
    }
    if (chunk === "VP8 " && at([0x9d, 0x01, 0x2a], 23)) return sized(view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff);
  }
  return null;
}

/** @param {number} width @param {number} height */
const sized = (width, height) => (width > 0 && height > 0 ? { width, height } : null);

/** @param {Uint8Array} bytes @param {DataView} view */
function jpegSize(bytes, view) {
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return null;
    const marker = /** @type {number} */ (bytes[offset + 1]);
    if (marker === 0xff) {
      offset += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2; // no length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image or scan data before any frame
    const length = view.getUint16(offset + 2);
    if (length < 2) return null;
    // SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (offset + 9 > bytes.length) return null;
      return sized(view.getUint16(offset + 7), view.getUint16(offset + 5));
    }
    offset += 2 + length;
  }
  return null;
}

/**
 * Each image's size from its header: none larger than maxTextureEdge on a side, all together
 * within maxTexturePixels once decoded. A 16384² PNG compresses to kilobytes and decodes to 1 GiB.
 * @param {Record<string, unknown>} json @param {Uint8Array | null} bin
 * @param {Array<{ offset: number, length: number }>} views @param {ModelLimits} limits
 */
function checkTextures(json, bin, views, limits) {
  let pixels = 0;
  for (const image of listOf(json, "images")) {
    const view = views[nonNegativeInt(image.bufferView)];
    if (!view || !bin) throw refuse("avatar_malformed");
    const size = imageSize(bin.subarray(view.offset, view.offset + view.length));
    if (!size) throw refuse("avatar_texture_unreadable");
    if (Math.max(size.width, size.height) > limits.maxTextureEdge) {
      throw refuse("avatar_texture_too_large", { max: limits.maxTextureEdge, width: size.width, height: size.height });
    }
    pixels += size.width * size.height;
    if (pixels > limits.maxTexturePixels) throw refuse("avatar_textures_too_large", { megapixels: Math.round(limits.maxTexturePixels / 1e6) });
  }
}

// --- Entry points (run in the worker) ----------------------------------------------------------

// VRM extensions are not registered with the reader: it would warn about each one.
const reader = new WebIO().setLogger(new Logger(Logger.Verbosity.ERROR));

/**
 * Proves `bytes` is a complete, self-contained VRM or GLB within `limits`, and describes it.
 * @param {Uint8Array} bytes @param {ModelLimits} limits
 * @returns {Promise<ValidatedModel>}
 */
export async function validateModel(bytes, limits) {
  if (bytes.length > limits.maxBytes) throw refuse("avatar_too_large", { mb: Math.floor(limits.maxBytes / (1024 * 1024)) || 1 });
  const { jsonChunk, bin } = readContainer(bytes);
  if (jsonChunk.length > limits.maxJsonBytes) throw refuse("avatar_json_too_large", { mb: Math.max(1, Math.floor(limits.maxJsonBytes / (1024 * 1024))) });
  const json = parseJsonChunk(jsonChunk);
  checkCounts(json, limits);
  const { views, vrmVersion } = checkStructure(json, bin);
  const triangles = countTriangles(json);
  if (triangles > limits.maxTriangles) throw refuse("avatar_too_many_triangles", { max: limits.maxTriangles, triangles });
  checkTextures(json, bin, views, limits);

  try {
    await reader.readBinary(bytes);
  } catch {
    throw refuse("avatar_malformed");
  }
  if (triangles === 0) throw refuse("avatar_no_mesh");
  return {
    format: vrmVersion === null ? "glb" : "vrm",
    vrmVersion,
    triangles,
    byteSize: bytes.length,
    sha256: createHash("sha256").update(bytes).digest("hex"),
  };
}

/** Simplification passes: each aims under the limit, allowing more error (a fraction of the mesh's radius) than the last. */
const SIMPLIFY_ERRORS = [0.005, 0.02, 0.1, 1];
/** Aim a little under the limit: the simplifier lands near its target, not exactly on it. */
const SIMPLIFY_AIM = 0.95;

/**
 * A generated model made to fit: validated with every limit but a triangle cap of
 * `maxTrianglesBefore`, then, when over `limits.maxTriangles`, simplified with meshoptimizer
 * (weld, simplify, prune, dedup; textures, UVs and materials are kept) in passes that allow more
 * error each time, and validated again with the real limits. `bytes` is null when the model
 * already fitted (the caller keeps its own).
 * @param {Uint8Array} bytes @param {ModelLimits} limits @param {number} maxTrianglesBefore
 * @returns {Promise<{ bytes: Uint8Array | null, model: ValidatedModel, reduction: { fromTriangles: number, toTriangles: number } | null }>}
 */
export async function fitModel(bytes, limits, maxTrianglesBefore) {
  const first = await validateModel(bytes, { ...limits, maxTriangles: Math.max(maxTrianglesBefore, limits.maxTriangles) });
  if (first.triangles <= limits.maxTriangles) return { bytes: null, model: first, reduction: null };
  // Simplifying would drop what the reader does not know (VRM's humanoid, expressions, springs):
  // a VRM must fit as it is.
  if (first.vrmVersion !== null) throw refuse("avatar_too_many_triangles", { max: limits.maxTriangles, triangles: first.triangles });

  await MeshoptSimplifier.ready;
  const io = new WebIO()
    .setLogger(new Logger(Logger.Verbosity.ERROR))
    .registerExtensions([...KHRONOS_EXTENSIONS, EXTMeshGPUInstancing, EXTTextureWebP]);
  const document = await io.readBinary(bytes);
  let triangles = first.triangles;
  for (const error of SIMPLIFY_ERRORS) {
    if (triangles <= limits.maxTriangles) break;
    const ratio = Math.min(1, (limits.maxTriangles / triangles) * SIMPLIFY_AIM);
    await document.transform(weld(), simplify({ simplifier: MeshoptSimplifier, ratio, error }), prune(), dedup());
    triangles = documentTriangles(document);
  }
  const out = await io.writeBinary(document);
  const model = await validateModel(out, limits);
  return { bytes: out, model, reduction: { fromTriangles: first.triangles, toTriangles: model.triangles } };
}

/** Triangles of a parsed document (instancing included), to know when simplification is done. @param {import("@gltf-transform/core").Document} document */
function documentTriangles(document) {
  let total = 0;
  for (const node of document.getRoot().listNodes()) {
    const mesh = node.getMesh();
    if (!mesh) continue;
    let triangles = 0;
    for (const primitive of mesh.listPrimitives()) {
      const count = primitive.getIndices()?.getCount() ?? primitive.getAttribute("POSITION")?.getCount() ?? 0;
      const mode = primitive.getMode();
      if (mode === Primitive.Mode.TRIANGLES) triangles += Math.floor(count / 3);
      else if (mode === Primitive.Mode.TRIANGLE_STRIP || mode === Primitive.Mode.TRIANGLE_FAN) triangles += Math.max(0, count - 2);
    }
    const instanced = /** @type {import("@gltf-transform/extensions").InstancedMesh | null} */ (node.getExtension("EXT_mesh_gpu_instancing"));
    const instances = instanced ? Math.max(1, ...instanced.listAttributes().map((attribute) => attribute.getCount())) : 1;
    total += triangles * instances;
  }
  return total;
}
