// CharX (Character Card V3's zip container, `.charx`) as RisuAI writes and reads it: `card.json`
// at the root, written last; the assets the card lists in `data.assets` as `embeded://<path>`
// (the spec's spelling) under `assets/<type>/<kind>/<name>.<ext>`; `x_meta/*.json` and
// `module.risum` beside them. We write the portrait as the `icon` asset named `main` (always: RisuAI's
// importer waits for an icon), the 3D avatar as our platform-specific type `x-avatarforge-model`
// (assets/x-avatarforge-model/3d/main.vrm|glb), every other asset a card brought back where it
// was, and `x_meta/` and `module.risum` unchanged. A CHARX-JPEG (the same zip after a JPEG) is
// read too.
//
// Reading (charx-unpack.mjs) is hostile-archive safe and runs on the worker pool, off the event
// loop; this file holds its limits, the sentences and the DomainError.
import { zipSync, type Zippable } from "fflate";
import { CARD_ASSET_LIMITS, CHARX_MAX_BYTES } from "@/lib/charx-limits";
import { CHARACTER_LIMITS } from "@/lib/schemas";
import type { AvatarFormat } from "@/server/avatars/gltf";
import { runInWorker, WorkerOutOfMemory, WorkerPoolBusy, WorkerRefusal, WorkerTimeout } from "@/server/avatars/worker-pool";
import { DomainError } from "@/server/errors";
import { assetPathFor, keptAssetsOf, safeFileName, type CardAsset, type CardFile } from "./assets";
import type { CardV3 } from "./card";
import { CharxRefusal, MODEL_ASSET_TYPE, MODULE_PATH, unpackCharxFile, type CharxUnpacked, type CharxUnpackLimits, type Slice } from "./charx-unpack.mjs";
import { CARD_ERROR_REASONS, cardError, type CardErrorReason } from "./errors";

export { CHARX_MAX_BYTES, MODEL_ASSET_TYPE };
/** The 3D avatar's own ceiling (AVATAR_UPLOAD_MAX_BYTES in gltf.ts; AVATAR_MAX_MB may lower it, which its own check applies). */
const MODEL_MAX_BYTES = 30 * 1024 * 1024;
/** Real cards carry hundreds of files at most (assets and their x_meta); more entries than this is not a card. */
export const CHARX_MAX_ENTRIES = 2000;
/** An entry over 1 MB that inflates more than this many times its compressed size is a zip bomb. */
export const CHARX_MAX_RATIO = 200;
/** Unpacking a 64 MB archive takes well under a second; past this, the archive is refused. */
const UNPACK_TIMEOUT_MS = 30_000;

export const CHARX_CONTENT_TYPE = "application/zip";
const ICON_PATH = "assets/icon/images/main.png";
const modelPath = (format: AvatarFormat) => `assets/${MODEL_ASSET_TYPE}/3d/main.${format}`;

export const CHARX_LIMITS: CharxUnpackLimits = {
  fileBytes: CHARX_MAX_BYTES,
  entries: CHARX_MAX_ENTRIES,
  cardBytes: CHARACTER_LIMITS.cardBytes,
  portraitBytes: CHARACTER_LIMITS.imageBytes,
  modelBytes: MODEL_MAX_BYTES,
  assetCount: CARD_ASSET_LIMITS.count,
  assetBytes: CARD_ASSET_LIMITS.assetBytes,
  xMetaFiles: CARD_ASSET_LIMITS.xMetaFiles,
  xMetaBytes: CARD_ASSET_LIMITS.xMetaBytes,
  moduleBytes: CARD_ASSET_LIMITS.moduleBytes,
  totalBytes: CARD_ASSET_LIMITS.totalBytes,
  maxRatio: CHARX_MAX_RATIO,
};

/** A zip's first local file header: how a .charx starts. */
export function isCharx(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

export { endsWithZip } from "./charx-unpack.mjs";

/** A JPEG: how a CHARX-JPEG starts (its zip is found from the end). */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

// ---------------------------------------------------------------------------------------------
// Pack
// ---------------------------------------------------------------------------------------------

/** A file the card carries, to write back. */
export interface CharxPackFile {
  kind: "asset" | "x_meta" | "module";
  type: string | null;
  name: string;
  ext: string;
  path: string;
  bytes: Uint8Array;
  contentType?: string;
}

export interface CharxPackInput {
  card: CardV3;
  /** The portrait as PNG bytes: the card's icon, always written. */
  portraitPng: Uint8Array;
  model?: { bytes: Uint8Array; format: AvatarFormat } | null;
  /** Assets (in the card's order), x_meta files and the module. */
  files?: readonly CharxPackFile[];
}

const RESERVED = new Set(["card.json", MODULE_PATH]);
const X_META_PATH = /^x_meta\/[^\\\0]+\.json$/;

/** A path that stays inside the archive, under assets/. */
function isAssetPath(path: string): boolean {
  const segments = path.split("/");
  return segments[0] === "assets" && segments.length >= 2 && !path.includes("\\") && !path.includes("\0") && segments.every((s) => s !== "" && s !== "." && s !== "..");
}

/** `path`, or `name_1.ext`, `name_2.ext`… when it is taken (as RisuAI's writer does). */
function uniquePath(path: string, taken: Set<string>): string {
  if (!taken.has(path)) return path;
  const dot = path.lastIndexOf(".");
  const [base, ext] = dot > path.lastIndexOf("/") ? [path.slice(0, dot), path.slice(dot)] : [path, ""];
  for (let n = 1; ; n++) {
    const candidate = `${base}_${n}${ext}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** Already-compressed kinds of file are stored; text is deflated. */
const levelFor = (contentType: string | undefined, path: string) =>
  /^image\/|^audio\/|^video\//.test(contentType ?? "") || /\.(png|jpe?g|webp|gif|avif|mp3|ogg|mp4|webm|vrm|glb)$/i.test(path) ? 0 : 6;

/** The card, its portrait, its model and every file it carries as one .charx; card.json is written last. */
export function packCharx({ card, portraitPng, model, files = [] }: CharxPackInput): Buffer {
  const zip: Zippable = {};
  const taken = new Set<string>(RESERVED);
  const listed: CardAsset[] = [];
  const put = (path: string, bytes: Uint8Array, level: 0 | 6) => {
    taken.add(path);
    zip[path] = [bytes, { level }];
  };
  put(ICON_PATH, portraitPng, 0);
  listed.push({ type: "icon", uri: `embeded://${ICON_PATH}`, name: "main", ext: "png" });
  if (model) {
    put(modelPath(model.format), model.bytes, 0);
    listed.push({ type: MODEL_ASSET_TYPE, uri: `embeded://${modelPath(model.format)}`, name: "main", ext: model.format });
  }
  files.forEach((file, index) => {
    if (file.kind !== "asset") return;
    const wanted = isAssetPath(file.path) ? file.path : assetPathFor(file.type, file.name, file.ext, `asset_${index + 1}`);
    const path = uniquePath(wanted, taken);
    put(path, file.bytes, levelFor(file.contentType, path));
    listed.push({ type: file.type ?? "other", uri: `embeded://${path}`, name: file.name, ext: file.ext });
  });
  for (const file of files) {
    if (file.kind === "x_meta") {
      const path = X_META_PATH.test(file.path) ? file.path : `x_meta/${safeFileName(file.name, "meta")}.json`;
      put(uniquePath(path, taken), file.bytes, 6);
    } else if (file.kind === "module" && !zip[MODULE_PATH]) {
      zip[MODULE_PATH] = [file.bytes, { level: 6 }];
    }
  }
  const assets = [...listed, ...keptAssetsOf(card.data.assets, [MODEL_ASSET_TYPE])];
  const withAssets: CardV3 = { ...card, data: { ...card.data, assets } };
  zip["card.json"] = [Buffer.from(JSON.stringify(withAssets), "utf8"), { level: 6 }];
  return Buffer.from(zipSync(zip));
}

// ---------------------------------------------------------------------------------------------
// Unpack
// ---------------------------------------------------------------------------------------------

export interface CharxContents {
  /** card.json as text (parse it with parseCardJson). */
  cardJson: string;
  /** The picture in front of a CHARX-JPEG's zip. */
  jpeg: Buffer | null;
  portrait: Buffer | null;
  model: Buffer | null;
  /** Every other asset the card names, then x_meta/*.json and module.risum. */
  files: CardFile[];
}

const MB = 1024 * 1024;

/** The English sentence of a refusal that came back from the worker (its reason and limit crossed the thread, not its text). */
function refusalMessage(reason: CardErrorReason, params: Record<string, string | number>): string {
  switch (reason) {
    case "card_charx_too_large":
      return `.charx files can be at most ${params.mb} MB.`;
    case "card_charx_too_many_files":
      return `The .charx file holds more than ${params.max} files.`;
    case "card_charx_encrypted":
      return "The .charx file is encrypted; export it again without a password.";
    case "card_charx_duplicate":
      return "The .charx file holds two files with the same name.";
    case "card_charx_bomb":
      return "A file inside the .charx is compressed suspiciously much (a zip bomb).";
    case "card_charx_no_card":
      return "The .charx file has no card.json.";
    case "card_charx_missing_file":
      return "The card lists a file the .charx archive does not hold.";
    case "card_charx_file_too_large":
      return `A file inside the .charx${params.name ? ` (${params.name})` : ""} is larger than ${params.mb} MB.`;
    case "card_charx_bad_path":
      return "The card points at a file outside the .charx archive.";
    case "card_assets_too_many":
      return `The card carries more than ${params.max} files.`;
    case "card_assets_too_large":
      return `The files inside the card come to more than ${params.mb} MB.`;
    case "card_too_large":
      return `Character card files can be at most ${CHARACTER_LIMITS.cardBytes / MB} MB.`;
    case "card_bad_json":
      return "The character card is not valid UTF-8 text.";
    default:
      return "The .charx file is damaged or not a zip archive.";
  }
}

function asCardError(reason: string, params: Record<string, string | number>): DomainError {
  const known = (CARD_ERROR_REASONS as readonly string[]).includes(reason) ? (reason as CardErrorReason) : "card_charx_damaged";
  return cardError(known, refusalMessage(known, params), params);
}

function contentsOf(unpacked: CharxUnpacked): CharxContents {
  const { data } = unpacked;
  const bytesAt = (slice: Slice) => Buffer.from(data.buffer, data.byteOffset + slice.start, slice.end - slice.start);
  return {
    cardJson: unpacked.cardJson,
    jpeg: unpacked.jpeg && bytesAt(unpacked.jpeg),
    portrait: unpacked.portrait && bytesAt(unpacked.portrait),
    model: unpacked.model && bytesAt(unpacked.model),
    files: [
      ...unpacked.assets.map((a): CardFile => ({ kind: "asset", type: a.type, name: a.name, ext: a.ext, path: a.path, position: a.position, bytes: bytesAt(a.slice), sha256: a.slice.sha256 })),
      ...unpacked.files.map((f, i): CardFile => ({ kind: f.kind, type: null, name: "", ext: "", path: f.path, position: i, bytes: bytesAt(f.slice), sha256: f.slice.sha256 })),
    ],
  };
}

/** Unpacks in this thread (tests, and what the worker runs); refusals are card_* DomainErrors. */
export function unpackCharxHere(bytes: Uint8Array, limits: CharxUnpackLimits = CHARX_LIMITS): CharxContents {
  try {
    return contentsOf(unpackCharxFile(bytes, limits));
  } catch (error) {
    if (error instanceof CharxRefusal) throw asCardError(error.reason, error.params);
    throw error;
  }
}

const UNPACK_TASK = { module: "server/cards/charx-unpack.mjs", name: "unpackCharxFile" };

/**
 * A .charx or CHARX-JPEG read on the worker pool (inflating and checking tens of MB never holds
 * the event loop); its refusals are card_* DomainErrors. An archive that outruns the worker's time
 * or memory is refused as too large.
 */
export async function unpackCharx(bytes: Uint8Array, limits: CharxUnpackLimits = CHARX_LIMITS): Promise<CharxContents> {
  if (bytes.length > limits.fileBytes) throw asCardError("card_charx_too_large", { mb: Math.floor(limits.fileBytes / MB) });
  const copy = new Uint8Array(bytes);
  try {
    const unpacked = await runInWorker<CharxUnpacked>(UNPACK_TASK, [copy, limits], { transfer: [copy.buffer], timeoutMs: UNPACK_TIMEOUT_MS });
    return contentsOf(unpacked);
  } catch (error) {
    if (error instanceof WorkerRefusal) throw asCardError(error.reason, error.params);
    if (error instanceof WorkerTimeout || error instanceof WorkerOutOfMemory) throw asCardError("card_assets_too_large", { mb: limits.totalBytes / MB });
    if (error instanceof WorkerPoolBusy) throw new DomainError("busy", "Too many files are being checked right now. Try again shortly.");
    throw error;
  }
}
