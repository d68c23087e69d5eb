// @ts-check
// Reading a CharX (`.charx`, or a CHARX-JPEG: the same zip after a JPEG) as a pure function:
// bytes in, plain data out. Plain JavaScript, so the worker pool (server/avatars/worker-pool.ts)
// runs it as it is, unbundled, off the event loop; charx.ts holds the policy (the limits' values,
// the sentences, the DomainError) and calls it there. It imports only Node's zlib and crypto.
//
// Hostile archives: the central directory is read by hand (entry count, duplicate names,
// encryption, Zip64, sizes), every limit is checked on the declared sizes before anything is
// inflated, and only the entries the card names (plus `x_meta/*.json` and `module.risum`) are
// inflated, each no further than its declared size and with its CRC checked. Entry names are
// never used as file paths, and a URI that leaves the archive (`..`, absolute, `\`) is refused.
// A refusal is thrown as a CharxRefusal: its `reason` (a card_* code) and `params` cross the
// thread as they are.
import { createHash } from "node:crypto";
import { crc32, inflateRawSync } from "node:zlib";

/**
 * Every limit the reader is held to, passed in so the function stays pure.
 * @typedef {object} CharxUnpackLimits
 * @property {number} fileBytes the whole file
 * @property {number} entries zip entries of any kind
 * @property {number} cardBytes card.json
 * @property {number} portraitBytes the `icon` asset named `main` (the portrait)
 * @property {number} modelBytes the 3D avatar
 * @property {number} assetCount assets named in data.assets besides the portrait and the avatar
 * @property {number} assetBytes one such asset
 * @property {number} xMetaFiles x_meta/*.json files
 * @property {number} xMetaBytes one x_meta file
 * @property {number} moduleBytes module.risum
 * @property {number} totalBytes everything inflated, together
 * @property {number} maxRatio an entry of 1 MB or more inflating more than this many times its compressed size is a bomb
 */

/**
 * Where one file's bytes are in the result's `data`.
 * @typedef {{ start: number, end: number, sha256: string }} Slice
 */

/**
 * @typedef {object} UnpackedAsset
 * @property {string} type the card's asset type: emotion, background, user_icon, x-risu-asset, other, icon…
 * @property {string} name
 * @property {string} ext
 * @property {string} path its path in the archive
 * @property {number} position its index in data.assets
 * @property {Slice} slice
 */

/**
 * @typedef {object} UnpackedFile
 * @property {"x_meta" | "module"} kind
 * @property {string} path
 * @property {Slice} slice
 */

/**
 * What a CharX holds. Every file's bytes sit in `data`, one buffer (handed back from a worker
 * without a copy), at their slice.
 * @typedef {object} CharxUnpacked
 * @property {string} cardJson card.json as text (parse it with parseCardJson)
 * @property {Uint8Array} data
 * @property {Slice | null} jpeg the picture in front of a CHARX-JPEG's zip; null for a plain .charx
 * @property {Slice | null} portrait
 * @property {Slice | null} model
 * @property {UnpackedAsset[]} assets
 * @property {UnpackedFile[]} files x_meta/*.json in archive order, then module.risum
 */

/** Our own asset type for the 3D avatar. */
export const MODEL_ASSET_TYPE = "x-avatarforge-model";
export const MODULE_PATH = "module.risum";
const X_META = /^x_meta\/[^\\\0]+\.json$/;

const MB = 1024 * 1024;
const RATIO_CHECKED_FROM = 1 * MB;

export class CharxRefusal extends Error {
  /** @param {string} reason @param {string} message @param {Record<string, string | number>} [params] */
  constructor(reason, message, params = {}) {
    super(message);
    this.reason = reason;
    this.params = params;
  }
}

const damaged = () => new CharxRefusal("card_charx_damaged", "The .charx file is damaged or not a zip archive.");
/** @param {number} bytes */
const mbOf = (bytes) => Math.max(1, Math.floor(bytes / MB));

/**
 * @typedef {object} Entry
 * @property {string} name
 * @property {number} flags
 * @property {number} method
 * @property {number} crc
 * @property {number} compressedSize
 * @property {number} size
 * @property {number} localOffset where its local header is in the file (the zip's own offset plus where the zip starts)
 */

/** @param {Uint8Array} bytes @param {number} at */
function u16(bytes, at) {
  if (at < 0 || at + 2 > bytes.length) throw damaged();
  return (bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8);
}
/** @param {Uint8Array} bytes @param {number} at */
function u32(bytes, at) {
  if (at < 0 || at + 4 > bytes.length) throw damaged();
  return ((bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16) | ((bytes[at + 3] ?? 0) << 24)) >>> 0;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** Bit 0: encrypted; bit 6: strong encryption. */
const ENCRYPTED_FLAGS = 0x0041;
const EOCD_SIZE = 22;

/** The end-of-central-directory record: the last one whose comment ends within the file. @param {Uint8Array} bytes */
function findEndOfCentralDirectory(bytes) {
  const last = bytes.length - EOCD_SIZE;
  const first = Math.max(0, last - 0xffff);
  for (let at = last; at >= first; at--) {
    if (u32(bytes, at) === EOCD && at + EOCD_SIZE + u16(bytes, at + 20) <= bytes.length) return at;
  }
  throw damaged();
}

/** Whether a zip ends these bytes (cheap: only its end-of-central-directory record is looked for). @param {Uint8Array} bytes */
export function endsWithZip(bytes) {
  if (bytes.length < EOCD_SIZE) return false;
  try {
    findEndOfCentralDirectory(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * The central directory: every entry's name, flags and sizes, before anything is inflated. The
 * zip may sit after other bytes (a CHARX-JPEG): where it starts follows from where its central
 * directory really is, so offsets written relative to the zip's own start (as RisuAI writes them)
 * and offsets relative to the file both read right.
 * @param {Uint8Array} bytes @param {CharxUnpackLimits} limits
 * @returns {{ entries: Map<string, Entry>, zipStart: number }}
 */
function readDirectory(bytes, limits) {
  if (bytes.length < EOCD_SIZE) throw damaged();
  const end = findEndOfCentralDirectory(bytes);
  if (u16(bytes, end + 4) !== 0 || u16(bytes, end + 6) !== 0) throw damaged(); // split archives
  const count = u16(bytes, end + 10);
  const directorySize = u32(bytes, end + 12);
  const directoryOffset = u32(bytes, end + 16);
  // Zip64 markers: nothing this small needs them.
  if (count === 0xffff || directoryOffset === 0xffffffff || directorySize === 0xffffffff) throw damaged();
  if (count > limits.entries) {
    throw new CharxRefusal("card_charx_too_many_files", `The .charx file holds more than ${limits.entries} files.`, { max: limits.entries });
  }
  const shift = end - directorySize - directoryOffset;
  if (shift < 0) throw damaged();
  /** @type {Map<string, Entry>} */
  const entries = new Map();
  let zipStart = end;
  let at = directoryOffset + shift;
  const decoder = new TextDecoder("utf-8");
  for (let i = 0; i < count; i++) {
    if (u32(bytes, at) !== CENTRAL) throw damaged();
    const nameLength = u16(bytes, at + 28);
    const extraLength = u16(bytes, at + 30);
    const commentLength = u16(bytes, at + 32);
    if (at + 46 + nameLength > end) throw damaged();
    const name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    const offset = u32(bytes, at + 42);
    /** @type {Entry} */
    const entry = {
      name,
      flags: u16(bytes, at + 8),
      method: u16(bytes, at + 10),
      crc: u32(bytes, at + 16),
      compressedSize: u32(bytes, at + 20),
      size: u32(bytes, at + 24),
      localOffset: offset + shift,
    };
    if (entry.compressedSize === 0xffffffff || entry.size === 0xffffffff || offset === 0xffffffff) throw damaged();
    if (entry.flags & ENCRYPTED_FLAGS) throw new CharxRefusal("card_charx_encrypted", "The .charx file is encrypted; export it again without a password.");
    if (entries.has(name)) throw new CharxRefusal("card_charx_duplicate", "The .charx file holds two files with the same name.");
    entries.set(name, entry);
    zipStart = Math.min(zipStart, entry.localOffset);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return { entries, zipStart };
}

/**
 * One entry's bytes: inflated no further than its declared size, CRC checked (its size was checked against its limit before).
 * @param {Uint8Array} bytes @param {Entry} entry @param {number} maxRatio @returns {Uint8Array}
 */
function readEntry(bytes, entry, maxRatio) {
  if (entry.size >= RATIO_CHECKED_FROM && entry.size > entry.compressedSize * maxRatio) {
    throw new CharxRefusal("card_charx_bomb", "A file inside the .charx is compressed suspiciously much (a zip bomb).", { max: maxRatio });
  }
  if (u32(bytes, entry.localOffset) !== LOCAL) throw damaged();
  // The local header's own sizes may be zero (data descriptors, as RisuAI writes): the central directory's count.
  const start = entry.localOffset + 30 + u16(bytes, entry.localOffset + 26) + u16(bytes, entry.localOffset + 28);
  const stop = start + entry.compressedSize;
  if (stop > bytes.length) throw damaged();
  const data = bytes.subarray(start, stop);
  /** @type {Uint8Array} */
  let out;
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size) throw damaged();
    out = data;
  } else if (entry.method === 8) {
    try {
      out = entry.size === 0 ? new Uint8Array(0) : inflateRawSync(data, { maxOutputLength: entry.size });
    } catch {
      // Also what a stream that inflates past its declared size ends in.
      throw damaged();
    }
  } else {
    throw damaged();
  }
  if (out.length !== entry.size || crc32(out) !== entry.crc) throw damaged();
  return out;
}

/**
 * The zip path an `embeded://` URI names, or null for other URIs; a path out of the archive is refused.
 * @param {string} uri @returns {string | null}
 */
export function embeddedPath(uri) {
  if (!uri.startsWith("embeded://")) return null;
  const path = uri.slice("embeded://".length);
  const segments = path.split("/");
  if (path === "" || path.includes("\\") || path.includes("\0") || segments.some((s) => s === "" || s === "." || s === "..") || /^[a-z]:/i.test(path)) {
    throw new CharxRefusal("card_charx_bad_path", "The card points at a file outside the .charx archive.");
  }
  return path;
}

/** @typedef {{ type: string, uri: string, name: string, ext: string, position: number }} ListedAsset */

/** @param {unknown} value @returns {value is Record<string, unknown>} */
function isRecord(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** @param {string} cardJson @returns {ListedAsset[]} */
function assetsOf(cardJson) {
  /** @type {unknown} */
  let card;
  try {
    card = JSON.parse(cardJson.replace(/^\uFEFF/, ""));
  } catch {
    return []; // parseCardJson says why.
  }
  const assets = isRecord(card) && isRecord(card.data) ? card.data.assets : undefined;
  if (!Array.isArray(assets)) return [];
  /** @type {ListedAsset[]} */
  const listed = [];
  assets.forEach((/** @type {unknown} */ a, position) => {
    if (!isRecord(a) || typeof a.uri !== "string") return;
    listed.push({
      type: typeof a.type === "string" ? a.type : "other",
      uri: a.uri,
      name: typeof a.name === "string" ? a.name : "",
      ext: typeof a.ext === "string" ? a.ext : "",
      position,
    });
  });
  return listed;
}

/** @param {ListedAsset[]} assets */
function pickIcon(assets) {
  const icons = assets.filter((a) => a.type === "icon" && a.uri.startsWith("embeded://"));
  return icons.find((a) => a.name === "main") ?? icons[0] ?? null;
}

/** @param {ListedAsset[]} assets */
function pickModel(assets) {
  const embedded = assets.filter((a) => a.uri.startsWith("embeded://"));
  return (
    embedded.find((a) => a.type === MODEL_ASSET_TYPE && a.name === "main") ??
    embedded.find((a) => a.type === MODEL_ASSET_TYPE) ??
    embedded.find((a) => a.ext.toLowerCase() === "vrm") ??
    null
  );
}

/** @param {Uint8Array} bytes */
const isJpeg = (bytes) => bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;

/**
 * card.json, the portrait, the 3D avatar and every other file the card names (emotion sprites,
 * backgrounds…), with `x_meta/*.json` and `module.risum`, of a .charx or a CHARX-JPEG. Throws a
 * CharxRefusal for anything over a limit, damaged or hostile.
 * @param {Uint8Array} bytes @param {CharxUnpackLimits} limits @returns {CharxUnpacked}
 */
export function unpackCharxFile(bytes, limits) {
  if (bytes.length > limits.fileBytes) {
    throw new CharxRefusal("card_charx_too_large", `.charx files can be at most ${mbOf(limits.fileBytes)} MB.`, { mb: mbOf(limits.fileBytes) });
  }
  const { entries, zipStart } = readDirectory(bytes, limits);
  const cardEntry = entries.get("card.json");
  if (!cardEntry) throw new CharxRefusal("card_charx_no_card", "The .charx file has no card.json.");
  if (cardEntry.size > limits.cardBytes) {
    throw new CharxRefusal("card_too_large", `Character card files can be at most ${mbOf(limits.cardBytes)} MB.`, { maxBytes: limits.cardBytes, mb: mbOf(limits.cardBytes) });
  }
  /** @type {string} */
  let cardJson;
  try {
    cardJson = new TextDecoder("utf-8", { fatal: true }).decode(readEntry(bytes, cardEntry, limits.maxRatio));
  } catch (error) {
    if (error instanceof CharxRefusal) throw error;
    throw new CharxRefusal("card_bad_json", "The character card is not valid UTF-8 text.");
  }

  // What will be read, all checked against the limits on their declared sizes first.
  const listed = assetsOf(cardJson);
  const icon = pickIcon(listed);
  const model = pickModel(listed);
  const others = listed.filter((a) => a !== icon && a !== model && a.uri.startsWith("embeded://"));
  if (others.length > limits.assetCount) {
    throw new CharxRefusal("card_assets_too_many", `The card carries more than ${limits.assetCount} files.`, { max: limits.assetCount });
  }
  let total = 0;
  /** @type {Map<string, Entry>} */
  const toRead = new Map();
  /** @param {Entry} entry @param {number} maxBytes @param {string} name */
  const take = (entry, maxBytes, name) => {
    if (entry.size > maxBytes) {
      throw new CharxRefusal("card_charx_file_too_large", `A file inside the .charx (${name}) is larger than ${mbOf(maxBytes)} MB.`, { mb: mbOf(maxBytes), name });
    }
    if (!toRead.has(entry.name)) total += entry.size;
    toRead.set(entry.name, entry);
    return entry;
  };
  /** @param {ListedAsset} asset @param {number} maxBytes */
  const entryFor = (asset, maxBytes) => {
    const entry = entries.get(/** @type {string} */ (embeddedPath(asset.uri)));
    if (!entry) throw new CharxRefusal("card_charx_missing_file", "The card lists a file the .charx archive does not hold.", { name: asset.name });
    return take(entry, maxBytes, asset.name || entry.name);
  };
  const iconEntry = icon ? entryFor(icon, limits.portraitBytes) : null;
  const modelEntry = model ? entryFor(model, limits.modelBytes) : null;
  const assetEntries = others.map((asset) => ({ asset, entry: entryFor(asset, limits.assetBytes) }));
  const xMeta = [...entries.values()]
    .filter((e) => X_META.test(e.name) && !e.name.split("/").some((s) => s === ".." || s === "." || s === ""))
    .sort((a, b) => a.localOffset - b.localOffset);
  if (xMeta.length > limits.xMetaFiles) {
    throw new CharxRefusal("card_assets_too_many", `The card carries more than ${limits.xMetaFiles} x_meta files.`, { max: limits.xMetaFiles });
  }
  for (const entry of xMeta) take(entry, limits.xMetaBytes, entry.name);
  const moduleEntry = entries.get(MODULE_PATH);
  if (moduleEntry) take(moduleEntry, limits.moduleBytes, MODULE_PATH);
  if (total > limits.totalBytes) {
    throw new CharxRefusal("card_assets_too_large", `The files inside the card come to more than ${mbOf(limits.totalBytes)} MB.`, { mb: mbOf(limits.totalBytes) });
  }

  // Now read, each entry once, into one buffer.
  const prefix = zipStart > 0 && isJpeg(bytes.subarray(0, zipStart)) ? bytes.subarray(0, zipStart) : null;
  const data = new Uint8Array(total + (prefix?.length ?? 0));
  /** @type {Map<string, Slice>} */
  const slices = new Map();
  let at = 0;
  /** @param {Uint8Array} content */
  const put = (content) => {
    data.set(content, at);
    const slice = { start: at, end: at + content.length, sha256: createHash("sha256").update(content).digest("hex") };
    at += content.length;
    return slice;
  };
  for (const entry of toRead.values()) slices.set(entry.name, put(readEntry(bytes, entry, limits.maxRatio)));
  /** @param {Entry} entry */
  const sliceOf = (entry) => /** @type {Slice} */ (slices.get(entry.name));
  return {
    cardJson,
    data,
    jpeg: prefix ? put(prefix) : null,
    portrait: iconEntry ? sliceOf(iconEntry) : null,
    model: modelEntry ? sliceOf(modelEntry) : null,
    assets: assetEntries.map(({ asset, entry }) => ({ type: asset.type, name: asset.name, ext: asset.ext, path: entry.name, position: asset.position, slice: sliceOf(entry) })),
    files: [
      ...xMeta.map((entry) => ({ kind: /** @type {const} */ ("x_meta"), path: entry.name, slice: sliceOf(entry) })),
      ...(moduleEntry ? [{ kind: /** @type {const} */ ("module"), path: MODULE_PATH, slice: sliceOf(moduleEntry) }] : []),
    ],
  };
}
