// The files a character card carries besides its text: what RisuAI calls assets (emotion
// sprites, backgrounds, user icons, `x-risu-asset`s, other files, listed in the V3 card's
// `data.assets`), with `x_meta/*.json` and `module.risum` in a CharX. A card names an asset by a
// URI: `embeded://<path>` inside a CharX, `__asset:<n>` for a PNG's `chara-ext-asset_:<n>` chunk,
// a `data:` URI in a JSON card, `ccdefault:` for the card's own picture, or a remote address.
// Everything it carries is kept (within CARD_ASSET_LIMITS) and written back on export; a remote
// address is kept as it is, never fetched.
import { createHash } from "node:crypto";
import sharp from "sharp";
import { CARD_ASSET_LIMITS } from "@/lib/charx-limits";
import { CHARACTER_LIMITS } from "@/lib/schemas";
import { sniffImage } from "@/server/images/sniff";
import { cardError } from "./errors";

/** An asset as a V3 card lists it. */
export interface CardAsset {
  type: string;
  uri: string;
  name: string;
  ext: string;
}

/** A file of a card, read out of it, before its bytes are checked. */
export interface CardFile {
  kind: "asset" | "x_meta" | "module";
  /** asset type (null for x_meta and the module) */
  type: string | null;
  name: string;
  ext: string;
  /** where it sits in a CharX */
  path: string;
  /** its place in data.assets */
  position: number;
  bytes: Buffer;
  sha256: string;
}

/** A card file whose bytes were checked, ready to store. */
export interface CheckedCardFile extends CardFile {
  contentType: string;
}

const MB = 1024 * 1024;
const OCTET_STREAM = "application/octet-stream";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export const sha256Of = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

// ---------------------------------------------------------------------------------------------
// Which assets are pictures
// ---------------------------------------------------------------------------------------------

const IMAGE_EXTS = new Set(["png", "jpg", "jpeg", "webp", "gif", "avif"]);
/** Types that are pictures unless their extension says otherwise. */
const IMAGE_TYPES = new Set(["icon", "emotion", "background", "user_icon"]);
/** Extensions RisuAI files as audio, video, 3D, AI models, fonts or code (and SVG, which can carry script). */
const OTHER_EXTS = new Set([
  ...["mp3", "wav", "ogg", "flac", "m4a", "aac", "opus", "mp4", "webm", "mov", "avi", "mkv"],
  ...["mmd", "obj", "glb", "gltf", "vrm", "fbx", "safetensors", "ckpt", "cpkt", "onnx", "bin"],
  ...["otf", "ttf", "woff", "woff2", "js", "ts", "lua", "json", "txt", "css", "html", "htm", "svg", "xml"],
]);

/** Whether the card says this asset is a picture (by its extension, or by its type when the extension does not say). */
export function claimsImage(type: string | null, ext: string): boolean {
  const e = ext.toLowerCase();
  return IMAGE_EXTS.has(e) || (type !== null && IMAGE_TYPES.has(type) && !OTHER_EXTS.has(e));
}

type PictureFormat = "png" | "jpeg" | "webp" | "gif" | "avif";

/** A picture's format (and size, when its header says it) from its bytes alone. */
function sniffPicture(bytes: Buffer): { format: PictureFormat; width: number; height: number } | null {
  const common = sniffImage(bytes);
  if (common) return common;
  const head = bytes.toString("latin1", 0, 6);
  if ((head === "GIF87a" || head === "GIF89a") && bytes.length >= 10) {
    return { format: "gif", width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) };
  }
  // ISO media file: "ftyp" box with an AVIF brand; its size is read by the decoder's header parser.
  if (bytes.length >= 12 && bytes.toString("latin1", 4, 8) === "ftyp" && /^avi[fs]$/.test(bytes.toString("latin1", 8, 12))) {
    return { format: "avif", width: 0, height: 0 };
  }
  return null;
}

const SHARP_FORMAT: Record<PictureFormat, string[]> = { png: ["png"], jpeg: ["jpeg"], webp: ["webp"], gif: ["gif"], avif: ["heif", "avif"] };

/**
 * The content type of a picture that really is one: known by its bytes, within the pixel limit
 * by its header (checked before decoding), every frame within the animation limit, and its first
 * frame decoded in full. Null for anything else.
 */
export async function pictureContentType(bytes: Buffer): Promise<string | null> {
  const sniffed = sniffPicture(bytes);
  if (!sniffed) return null;
  const maxPixels = CHARACTER_LIMITS.imagePixels;
  if (sniffed.width * sniffed.height > maxPixels) return null;
  try {
    const meta = await sharp(bytes, { limitInputPixels: maxPixels }).metadata();
    const { width = 0, height = 0, pages = 1 } = meta;
    if (width === 0 || height === 0 || width * height > maxPixels) return null;
    if (pages * width * height > CARD_ASSET_LIMITS.animatedPixels) return null;
    if (!SHARP_FORMAT[sniffed.format].includes(String(meta.format))) return null;
    // Decoding to a thumbnail reads every pixel of the first frame without holding them.
    await sharp(bytes, { limitInputPixels: maxPixels, failOn: "error" }).resize(16, 16, { fit: "inside" }).raw().toBuffer();
  } catch {
    return null;
  }
  return `image/${sniffed.format}`;
}

/**
 * Every file's bytes checked, a few at a time: a picture (by what the card says, or by its bytes)
 * must be a real one within the decoding limits, or the whole card is refused; anything else is
 * kept as opaque bytes and only ever served as a download.
 */
export async function checkCardFiles(files: CardFile[]): Promise<CheckedCardFile[]> {
  const checked: CheckedCardFile[] = new Array(files.length);
  let next = 0;
  const work = async () => {
    while (next < files.length) {
      const index = next++;
      const file = files[index]!;
      checked[index] = { ...file, contentType: await contentTypeOf(file) };
    }
  };
  await Promise.all([work(), work()]);
  return checked;
}

async function contentTypeOf(file: CardFile): Promise<string> {
  if (file.kind === "x_meta") return "application/json";
  if (file.kind === "module") return OCTET_STREAM;
  const mustBePicture = claimsImage(file.type, file.ext) || sniffPicture(file.bytes) !== null;
  if (!mustBePicture) return OCTET_STREAM;
  const contentType = await pictureContentType(file.bytes);
  if (!contentType) {
    const name = displayName(file);
    throw cardError("card_asset_not_image", `The card's file "${name}" should be a picture but is not one that can be opened safely.`, { name });
  }
  return contentType;
}

const displayName = (file: { name: string; ext: string; path: string }) =>
  (file.name ? `${file.name}${file.ext ? `.${file.ext}` : ""}` : file.path).slice(0, 120);

/** The limits on what a card carries in all: how many assets, and their bytes together. */
export function checkCardFileTotals(files: readonly { kind: string; bytes: Uint8Array }[], alreadyBytes = 0) {
  const assets = files.filter((f) => f.kind === "asset").length;
  if (assets > CARD_ASSET_LIMITS.count) {
    throw cardError("card_assets_too_many", `The card carries more than ${CARD_ASSET_LIMITS.count} files.`, { max: CARD_ASSET_LIMITS.count });
  }
  const total = files.reduce((sum, f) => sum + f.bytes.length, alreadyBytes);
  if (total > CARD_ASSET_LIMITS.totalBytes) {
    const mb = CARD_ASSET_LIMITS.totalBytes / MB;
    throw cardError("card_assets_too_large", `The files inside the card come to more than ${mb} MB.`, { mb });
  }
}

// ---------------------------------------------------------------------------------------------
// Names and paths
// ---------------------------------------------------------------------------------------------

/** RisuAI's folder for a kind of file: assets/<type>/<folder>/<name>.<ext>. */
function folderOf(ext: string): string {
  const e = ext.toLowerCase();
  if (IMAGE_EXTS.has(e)) return "image";
  if (["mp3", "wav", "ogg", "flac"].includes(e)) return "audio";
  if (["mp4", "webm", "mov", "avi", "mkv"].includes(e)) return "video";
  if (["mmd", "obj"].includes(e)) return "model";
  if (["safetensors", "cpkt", "onnx"].includes(e)) return "ai";
  if (["otf", "ttf", "woff", "woff2"].includes(e)) return "fonts";
  if (["js", "ts", "lua"].includes(e)) return "code";
  return "other";
}

const KNOWN_TYPES = new Set(["emotion", "background", "user_icon", "icon"]);

/** A name safe in a zip path: no separators, control or reserved characters, no dot at the end, at most 100 characters. */
export function safeFileName(name: string, fallback: string): string {
  const clean = name
    .replace(/[<>:"/\\|?*\u0000-\u001F\u007F]/g, "_")
    .replace(/[. ]+$/, "")
    .slice(0, 100);
  return clean === "" || clean === "." || clean === ".." ? fallback : clean;
}

export const safeExt = (ext: string) => (/^[A-Za-z0-9]{1,10}$/.test(ext) ? ext.toLowerCase() : "");

/** Where RisuAI would put an asset in a CharX. */
export function assetPathFor(type: string | null, name: string, ext: string, fallback: string): string {
  const folderType = type && KNOWN_TYPES.has(type) ? type : "other";
  const e = safeExt(ext);
  return `assets/${folderType}/${folderOf(e)}/${safeFileName(name, fallback)}${e ? `.${e}` : ".png"}`;
}

// ---------------------------------------------------------------------------------------------
// Links: __asset:N, data: URIs and RisuAI's V2 extension lists
// ---------------------------------------------------------------------------------------------

/** Strict base64 (whitespace-free, padded) to bytes, or null: Buffer.from would skip what it does not know. */
export function strictBase64(text: string): Buffer | null {
  const t = text.trim();
  if (t.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(t)) return null;
  return Buffer.from(t, "base64");
}

const ASSET_LINK = /^__asset:(\S+)$/;
const DATA_URI = /^data:([\w.+-]+\/[\w.+-]+)?(?:;[\w-]+=[^;,]*)*;base64,/i;

function pictureExt(bytes: Buffer, fallback: string) {
  const sniffed = sniffPicture(bytes);
  return sniffed ? (sniffed.format === "jpeg" ? "jpg" : sniffed.format) : fallback;
}

export interface LinkedAssets {
  /** files the card carried by link, to store */
  files: CardFile[];
  /** data.assets left as they are: remote addresses and anything else not carried */
  kept: CardAsset[];
  /** the card's extensions with the links RisuAI's V2 lists held taken out (they are files now) */
  extensions: Record<string, unknown>;
}

/**
 * The assets a card carries by link: `__asset:N` (a PNG's `chara-ext-asset_:N` chunk) and
 * `data:` URIs in `data.assets`, and `__asset:N` in RisuAI's V2 lists (`extensions.risuai.emotions`
 * and `additionalAssets`). `embeded://` ones are read from the CharX beforehand and dropped here;
 * `ccdefault:` and the main icon are the portrait. A link to an asset the card does not carry is
 * refused, as RisuAI refuses it.
 */
export function linkedAssets(listed: unknown, extensions: Record<string, unknown>, pngAssets: ReadonlyMap<string, Buffer>): LinkedAssets {
  const files: CardFile[] = [];
  const kept: CardAsset[] = [];
  const resolve = (uri: string): Buffer | null => {
    const link = ASSET_LINK.exec(uri);
    if (link) {
      const bytes = pngAssets.get(link[1]!);
      if (!bytes) throw cardError("card_asset_missing", `The card refers to asset ${link[1]}, which it does not carry.`, { index: link[1]! });
      return bytes;
    }
    if (DATA_URI.test(uri)) {
      const payload = uri.slice(uri.indexOf(",") + 1);
      if (payload.length > Math.ceil(CARD_ASSET_LIMITS.assetBytes / 3) * 4) {
        const mb = CARD_ASSET_LIMITS.assetBytes / MB;
        throw cardError("card_charx_file_too_large", `A file inside the card is larger than ${mb} MB.`, { mb });
      }
      const bytes = strictBase64(payload);
      if (!bytes) throw cardError("card_bad_base64", "A file inside the card is not valid base64.");
      return bytes;
    }
    return null;
  };
  const add = (type: string, name: string, ext: string, bytes: Buffer, position: number) => {
    const e = safeExt(ext) || pictureExt(bytes, "png");
    files.push({ kind: "asset", type, name, ext: e, path: assetPathFor(type, name, e, `asset_${files.length + 1}`), position, bytes, sha256: sha256Of(bytes) });
  };

  (Array.isArray(listed) ? listed : []).forEach((raw: unknown, position) => {
    if (!isRecord(raw) || typeof raw.uri !== "string") return;
    const asset: CardAsset = {
      type: typeof raw.type === "string" ? raw.type : "other",
      uri: raw.uri,
      name: typeof raw.name === "string" ? raw.name : "",
      ext: typeof raw.ext === "string" ? raw.ext : "",
    };
    if (asset.uri.startsWith("embeded://") || asset.uri === "ccdefault:") return;
    const isPortrait = asset.type === "icon" && asset.name === "main";
    const bytes = resolve(asset.uri);
    if (!bytes) return void kept.push(asset);
    if (!isPortrait) add(asset.type, asset.name, asset.ext, bytes, position);
  });

  // RisuAI's V2 cards list emotions as [name, link] and other assets as [name, link, ext].
  const risuai = isRecord(extensions.risuai) ? { ...extensions.risuai } : null;
  if (risuai) {
    let position = files.length + kept.length;
    const takeList = (key: "emotions" | "additionalAssets", type: string) => {
      const list = risuai[key];
      if (!Array.isArray(list)) return;
      const rest = list.filter((item: unknown) => {
        if (!Array.isArray(item) || typeof item[0] !== "string" || typeof item[1] !== "string" || !ASSET_LINK.test(item[1])) return true;
        add(type, item[0], typeof item[2] === "string" ? item[2] : "", resolve(item[1])!, position++);
        return false;
      });
      if (rest.length > 0) risuai[key] = rest;
      else delete risuai[key];
    };
    takeList("emotions", "emotion");
    takeList("additionalAssets", "x-risu-asset");
    // VITS voice files are models for RisuAI's own speech; they are not carried.
    if (isRecord(risuai.vits)) risuai.vits = withoutLinks(risuai.vits);
    extensions = { ...extensions, risuai };
  }
  return { files, kept, extensions };
}

function withoutLinks(record: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => !(typeof value === "string" && ASSET_LINK.test(value))));
}

/** Extensions with no `__asset:` link left in RisuAI's lists: an export never writes one it cannot resolve. */
export function withoutAssetLinks(extensions: Record<string, unknown>): Record<string, unknown> {
  if (!isRecord(extensions.risuai)) return extensions;
  const risuai = { ...extensions.risuai };
  for (const key of ["emotions", "additionalAssets"] as const) {
    const list = risuai[key];
    if (Array.isArray(list)) risuai[key] = list.filter((item: unknown) => !(Array.isArray(item) && typeof item[1] === "string" && ASSET_LINK.test(item[1])));
  }
  if (isRecord(risuai.vits)) risuai.vits = withoutLinks(risuai.vits);
  return { ...extensions, risuai };
}

/** Assets of a card that point somewhere real and are written as they are (not files it carried, nor the ones export writes itself). */
export function keptAssetsOf(assets: unknown, ownTypes: readonly string[] = []): CardAsset[] {
  if (!Array.isArray(assets)) return [];
  return assets.filter(
    (asset): asset is CardAsset =>
      isRecord(asset) &&
      typeof asset.uri === "string" &&
      typeof asset.type === "string" &&
      typeof asset.name === "string" &&
      typeof asset.ext === "string" &&
      !asset.uri.startsWith("embeded://") &&
      !ASSET_LINK.test(asset.uri) &&
      !DATA_URI.test(asset.uri) &&
      asset.uri !== "ccdefault:" &&
      !ownTypes.includes(asset.type) &&
      !(asset.type === "icon" && asset.name === "main"),
  );
}

/** A PNG's `chara-ext-asset_:N` (or `chara-ext-asset_N`) chunks, by N, decoded; each within the asset limit. */
export function pngAssetChunks(chunks: readonly { keyword: string; text: string }[]): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  const maxText = Math.ceil(CARD_ASSET_LIMITS.assetBytes / 3) * 4;
  for (const chunk of chunks) {
    const match = /^chara-ext-asset_:?(.+)$/.exec(chunk.keyword);
    if (!match) continue;
    if (chunk.text.length > maxText) {
      const mb = CARD_ASSET_LIMITS.assetBytes / MB;
      throw cardError("card_charx_file_too_large", `A file inside the card (asset ${match[1]}) is larger than ${mb} MB.`, { mb, name: `asset ${match[1]}` });
    }
    const bytes = strictBase64(chunk.text);
    if (!bytes) throw cardError("card_bad_base64", `The card's "${chunk.keyword}" chunk is not valid base64.`, { chunk: chunk.keyword });
    found.set(match[1]!, bytes);
  }
  if (found.size > CARD_ASSET_LIMITS.count) {
    throw cardError("card_assets_too_many", `The card carries more than ${CARD_ASSET_LIMITS.count} files.`, { max: CARD_ASSET_LIMITS.count });
  }
  return found;
}
