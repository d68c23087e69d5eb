// CharX (Character Card V3's zip container, `.charx`): `card.json` at the root and the assets the
// card lists in `data.assets` as `embeded://<path in the zip>` (the spec's spelling). We write the
// portrait as the `icon` asset named `main` (assets/icon/images/main.png) and the 3D avatar as our
// platform-specific type `x-avatarforge-model` (assets/x-avatarforge-model/3d/main.vrm|glb; the
// spec puts 3D models under `assets/{type}/3d/`). On import any asset with a .vrm extension is
// taken when our own type is absent.
//
// Reading is hostile-archive safe: the central directory is read by hand (entry count, duplicate
// names, encryption flags, sizes, compression ratio), and only the entries the card names are
// inflated, each with its declared size as a hard output limit and its CRC checked. Entry names
// are never used as paths, and a URI that tries to leave the archive (`..`, absolute, `\`) is refused.
import { crc32, inflateRawSync } from "node:zlib";
import { zipSync, type Zippable } from "fflate";
import { CHARX_MAX_BYTES } from "@/lib/charx-limits";
import { CHARACTER_LIMITS } from "@/lib/schemas";
import { AVATAR_UPLOAD_MAX_BYTES, type AvatarFormat } from "@/server/avatars/gltf";
import type { CardV3 } from "./card";
import { cardError } from "./errors";

const MB = 1024 * 1024;
export { CHARX_MAX_BYTES };
/** Real cards carry dozens of emotion images; more entries than this is not a card. */
export const CHARX_MAX_ENTRIES = 2000;
/** An entry over 1 MB that inflates more than this many times its compressed size is a zip bomb. */
export const CHARX_MAX_RATIO = 200;
const RATIO_CHECKED_FROM = 1 * MB;

export const CHARX_CONTENT_TYPE = "application/zip";
export const MODEL_ASSET_TYPE = "x-avatarforge-model";
const ICON_PATH = "assets/icon/images/main.png";
const modelPath = (format: AvatarFormat) => `assets/${MODEL_ASSET_TYPE}/3d/main.${format}`;

export interface CharxAsset {
  type: string;
  uri: string;
  name: string;
  ext: string;
}

/** A zip's first local file header: how a .charx starts. */
export function isCharx(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

// ---------------------------------------------------------------------------------------------
// Pack
// ---------------------------------------------------------------------------------------------

export interface CharxPackInput {
  card: CardV3;
  /** The portrait as PNG bytes. */
  portraitPng?: Uint8Array | null;
  model?: { bytes: Uint8Array; format: AvatarFormat } | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Assets of an imported card that still point somewhere real (not into a zip we no longer have), minus the ones we write. */
function keptAssets(assets: unknown): CharxAsset[] {
  if (!Array.isArray(assets)) return [];
  return assets.filter(
    (asset): asset is CharxAsset =>
      isRecord(asset) &&
      typeof asset.uri === "string" &&
      !asset.uri.startsWith("embeded://") &&
      asset.type !== MODEL_ASSET_TYPE &&
      !(asset.type === "icon" && asset.name === "main"),
  );
}

/** The card, its portrait and its model as one .charx. */
export function packCharx({ card, portraitPng, model }: CharxPackInput): Buffer {
  const files: Zippable = {};
  const assets: CharxAsset[] = [];
  if (portraitPng) {
    files[ICON_PATH] = [portraitPng, { level: 0 }];
    assets.push({ type: "icon", uri: `embeded://${ICON_PATH}`, name: "main", ext: "png" });
  } else {
    assets.push({ type: "icon", uri: "ccdefault:", name: "main", ext: "png" });
  }
  if (model) {
    files[modelPath(model.format)] = [model.bytes, { level: 6 }];
    assets.push({ type: MODEL_ASSET_TYPE, uri: `embeded://${modelPath(model.format)}`, name: "main", ext: model.format });
  }
  const withAssets: CardV3 = { ...card, data: { ...card.data, assets: [...assets, ...keptAssets(card.data.assets)] } };
  files["card.json"] = [Buffer.from(JSON.stringify(withAssets), "utf8"), { level: 6 }];
  return Buffer.from(zipSync(files));
}

// ---------------------------------------------------------------------------------------------
// Unpack
// ---------------------------------------------------------------------------------------------

interface Entry {
  name: string;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

export interface CharxContents {
  /** card.json as text (parse it with parseCardJson). */
  cardJson: string;
  portrait: Buffer | null;
  model: Buffer | null;
}

const damaged = () => cardError("card_charx_damaged", "The .charx file is damaged or not a zip archive.");

function u16(bytes: Buffer, at: number) {
  if (at + 2 > bytes.length) throw damaged();
  return bytes.readUInt16LE(at);
}
function u32(bytes: Buffer, at: number) {
  if (at + 4 > bytes.length) throw damaged();
  return bytes.readUInt32LE(at);
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** Bit 0: encrypted; bit 6: strong encryption. */
const ENCRYPTED_FLAGS = 0x0041;

function findEndOfCentralDirectory(bytes: Buffer): number {
  const last = bytes.length - 22;
  const first = Math.max(0, last - 0xffff);
  for (let at = last; at >= first; at--) {
    if (bytes.readUInt32LE(at) === EOCD) return at;
  }
  throw damaged();
}

/** The central directory: every entry's name, flags and sizes, before anything is inflated. */
function readDirectory(bytes: Buffer): Map<string, Entry> {
  if (bytes.length < 22) throw damaged();
  const end = findEndOfCentralDirectory(bytes);
  const count = u16(bytes, end + 10);
  const directorySize = u32(bytes, end + 12);
  const directoryOffset = u32(bytes, end + 16);
  // Zip64 markers: nothing this small needs them.
  if (count === 0xffff || directoryOffset === 0xffffffff) throw damaged();
  if (count > CHARX_MAX_ENTRIES) {
    throw cardError("card_charx_too_many_files", `The .charx file holds more than ${CHARX_MAX_ENTRIES} files.`, { max: CHARX_MAX_ENTRIES });
  }
  if (directoryOffset + directorySize > end) throw damaged();
  const entries = new Map<string, Entry>();
  let at = directoryOffset;
  for (let i = 0; i < count; i++) {
    if (u32(bytes, at) !== CENTRAL) throw damaged();
    const nameLength = u16(bytes, at + 28);
    const extraLength = u16(bytes, at + 30);
    const commentLength = u16(bytes, at + 32);
    if (at + 46 + nameLength > end) throw damaged();
    const name = bytes.subarray(at + 46, at + 46 + nameLength).toString("utf8");
    const entry: Entry = {
      name,
      flags: u16(bytes, at + 8),
      method: u16(bytes, at + 10),
      crc: u32(bytes, at + 16),
      compressedSize: u32(bytes, at + 20),
      size: u32(bytes, at + 24),
      localOffset: u32(bytes, at + 42),
    };
    if (entry.flags & ENCRYPTED_FLAGS) throw cardError("card_charx_encrypted", "The .charx file is encrypted; export it again without a password.");
    if (entries.has(name)) throw cardError("card_charx_duplicate", "The .charx file holds two files with the same name.");
    entries.set(name, entry);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** One entry's bytes: at most `maxBytes`, inflated no further than its declared size, CRC checked. */
function readEntry(bytes: Buffer, entry: Entry, maxBytes: number, tooLarge: () => Error): Buffer {
  if (entry.size > maxBytes) throw tooLarge();
  if (entry.size >= RATIO_CHECKED_FROM && entry.size > entry.compressedSize * CHARX_MAX_RATIO) {
    throw cardError("card_charx_bomb", "A file inside the .charx is compressed suspiciously much (a zip bomb).", { max: CHARX_MAX_RATIO });
  }
  if (u32(bytes, entry.localOffset) !== LOCAL) throw damaged();
  const start = entry.localOffset + 30 + u16(bytes, entry.localOffset + 26) + u16(bytes, entry.localOffset + 28);
  const stop = start + entry.compressedSize;
  if (stop > bytes.length) throw damaged();
  const data = bytes.subarray(start, stop);
  let out: Buffer;
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size) throw damaged();
    out = Buffer.from(data);
  } else if (entry.method === 8) {
    try {
      out = entry.size === 0 ? Buffer.alloc(0) : inflateRawSync(data, { maxOutputLength: entry.size });
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

/** The zip path an `embeded://` URI names, or null for other URIs; a path out of the archive is refused. */
function embeddedPath(uri: string): string | null {
  if (!uri.startsWith("embeded://")) return null;
  const path = uri.slice("embeded://".length);
  const segments = path.split("/");
  if (path === "" || path.includes("\\") || path.includes("\0") || segments.some((s) => s === "" || s === "." || s === "..") || /^[a-z]:/i.test(path)) {
    throw cardError("card_charx_bad_path", "The card points at a file outside the .charx archive.");
  }
  return path;
}

function assetsOf(cardJson: string): CharxAsset[] {
  let card: unknown;
  try {
    card = JSON.parse(cardJson.replace(/^\uFEFF/, ""));
  } catch {
    return []; // parseCardJson says why.
  }
  const assets = isRecord(card) && isRecord(card.data) ? card.data.assets : undefined;
  if (!Array.isArray(assets)) return [];
  return assets.filter(
    (a): a is CharxAsset => isRecord(a) && typeof a.type === "string" && typeof a.uri === "string" && typeof a.name === "string" && typeof a.ext === "string",
  );
}

function pickIcon(assets: CharxAsset[]) {
  const icons = assets.filter((a) => a.type === "icon" && a.uri.startsWith("embeded://"));
  return icons.find((a) => a.name === "main") ?? icons[0] ?? null;
}

function pickModel(assets: CharxAsset[]) {
  const embedded = assets.filter((a) => a.uri.startsWith("embeded://"));
  return (
    embedded.find((a) => a.type === MODEL_ASSET_TYPE && a.name === "main") ??
    embedded.find((a) => a.type === MODEL_ASSET_TYPE) ??
    embedded.find((a) => a.ext.toLowerCase() === "vrm") ??
    null
  );
}

/** card.json, the portrait and the 3D model of a .charx; nothing else in it is read. */
export function unpackCharx(bytes: Buffer): CharxContents {
  if (bytes.length > CHARX_MAX_BYTES) {
    throw cardError("card_charx_too_large", `.charx files can be at most ${CHARX_MAX_BYTES / MB} MB.`, { mb: CHARX_MAX_BYTES / MB });
  }
  const entries = readDirectory(bytes);
  const cardEntry = entries.get("card.json");
  if (!cardEntry) throw cardError("card_charx_no_card", "The .charx file has no card.json.");
  const cardBytes = readEntry(bytes, cardEntry, CHARACTER_LIMITS.cardBytes, () =>
    cardError("card_too_large", `Character card files can be at most ${CHARACTER_LIMITS.cardBytes / MB} MB.`, { maxBytes: CHARACTER_LIMITS.cardBytes }),
  );
  let cardJson: string;
  try {
    cardJson = new TextDecoder("utf-8", { fatal: true }).decode(cardBytes);
  } catch {
    throw cardError("card_bad_json", "The character card is not valid UTF-8 text.");
  }
  const assets = assetsOf(cardJson);
  const asset = (chosen: CharxAsset | null, maxBytes: number) => {
    const path = chosen && embeddedPath(chosen.uri);
    if (!path) return null;
    const entry = entries.get(path);
    if (!entry) throw cardError("card_charx_missing_file", "The card lists a file the .charx archive does not hold.");
    return readEntry(bytes, entry, maxBytes, () =>
      cardError("card_charx_file_too_large", `A file inside the .charx is larger than ${Math.floor(maxBytes / MB)} MB.`, { mb: Math.floor(maxBytes / MB) }),
    );
  };
  return {
    cardJson,
    portrait: asset(pickIcon(assets), CHARACTER_LIMITS.imageBytes),
    model: asset(pickModel(assets), AVATAR_UPLOAD_MAX_BYTES),
  };
}
