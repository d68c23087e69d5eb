import { crc32 as zlibCrc32 } from "node:zlib";
import { cardError } from "./errors";

export interface PngChunk {
  type: string;
  data: Buffer;
}

export interface TextChunk {
  keyword: string;
  text: string;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const MAX_CHUNK_LENGTH = 0x7fffffff;
const TEXT_CHUNK_TYPES = new Set(["tEXt", "iTXt", "zTXt"]);
const CARD_KEYWORDS = new Set(["chara", "ccv3"]);

/** CRC-32 as PNG uses it, in native code (a card PNG with its assets runs to tens of MB). */
export function crc32(...parts: Uint8Array[]): number {
  let crc = 0;
  for (const part of parts) crc = zlibCrc32(part, crc);
  return crc >>> 0;
}

export function isPng(bytes: Buffer): boolean {
  return bytes.length >= SIGNATURE.length && bytes.subarray(0, SIGNATURE.length).equals(SIGNATURE);
}

function malformed(problem: string) {
  return cardError("card_malformed_png", `The PNG file is damaged: ${problem}.`);
}

/** Every chunk up to IEND, with lengths and checksums verified; anything after IEND is ignored. */
export function readChunks(png: Buffer): PngChunk[] {
  if (!isPng(png)) throw malformed("it does not start with the PNG signature");
  const chunks: PngChunk[] = [];
  let offset = SIGNATURE.length;
  for (;;) {
    if (offset + 12 > png.length) throw malformed("it ends before its IEND chunk");
    const length = png.readUInt32BE(offset);
    const typeBytes = png.subarray(offset + 4, offset + 8);
    const type = typeBytes.toString("latin1");
    if (!/^[A-Za-z]{4}$/.test(type)) throw malformed(`a chunk has the invalid type "${type}"`);
    const dataEnd = offset + 8 + length;
    if (length > MAX_CHUNK_LENGTH || dataEnd + 4 > png.length) throw malformed(`the ${type} chunk is cut off`);
    const data = png.subarray(offset + 8, dataEnd);
    if (png.readUInt32BE(dataEnd) !== crc32(typeBytes, data)) throw malformed(`the ${type} chunk's checksum is wrong`);
    if (chunks.length === 0 && type !== "IHDR") throw malformed("it does not begin with an IHDR chunk");
    chunks.push({ type, data });
    if (type === "IEND") return chunks;
    offset = dataEnd + 4;
  }
}

export function encodeChunk({ type, data }: PngChunk): Buffer {
  const typeBytes = Buffer.from(type, "latin1");
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  typeBytes.copy(chunk, 4);
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(typeBytes, data), 8 + data.length);
  return chunk;
}

export function encodePng(chunks: PngChunk[]): Buffer {
  return Buffer.concat([SIGNATURE, ...chunks.map(encodeChunk)]);
}

/** The keyword every text chunk type starts with, ended by a zero byte. */
function keywordOf(chunk: PngChunk): string | null {
  const end = chunk.data.indexOf(0);
  return end >= 1 ? chunk.data.toString("latin1", 0, end) : null;
}

function decodeTextChunk(chunk: PngChunk): TextChunk | null {
  const keyword = keywordOf(chunk);
  if (keyword === null) return null;
  if (chunk.type === "tEXt") return { keyword, text: chunk.data.toString("latin1", keyword.length + 1) };
  if (chunk.type === "iTXt") return decodeInternationalText(chunk.data, keyword);
  return null;
}

function decodeInternationalText(data: Buffer, keyword: string): TextChunk | null {
  // keyword \0, compression flag, compression method, language \0, translated keyword \0, UTF-8 text
  const flagAt = keyword.length + 1;
  // Card writers never compress, and inflating untrusted data invites zip bombs.
  if (data[flagAt] !== 0) return null;
  const languageEnd = data.indexOf(0, flagAt + 2);
  const translatedEnd = languageEnd < 0 ? -1 : data.indexOf(0, languageEnd + 1);
  if (translatedEnd < 0) return null;
  return { keyword, text: data.toString("utf8", translatedEnd + 1) };
}

/** The `tEXt` chunks and uncompressed `iTXt` chunks of a PNG, in file order. */
export function readTextChunks(png: Buffer): TextChunk[] {
  return readChunks(png)
    .map(decodeTextChunk)
    .filter((chunk): chunk is TextChunk => chunk !== null);
}

/** A card's own text chunks: `chara`, `ccv3` and RisuAI's `chara-ext-asset_:N` files. */
function isCardTextChunk(chunk: PngChunk): boolean {
  if (!TEXT_CHUNK_TYPES.has(chunk.type)) return false;
  const keyword = keywordOf(chunk)?.toLowerCase() ?? "";
  return CARD_KEYWORDS.has(keyword) || keyword.startsWith("chara-ext-asset_");
}

/** The picture alone: the PNG without any text chunk (a card PNG with its assets can be far larger than its picture). */
export function withoutTextChunks(png: Buffer): Buffer {
  return encodePng(readChunks(png).filter((chunk) => !TEXT_CHUNK_TYPES.has(chunk.type)));
}

function encodeTextChunk({ keyword, text }: TextChunk): PngChunk {
  // tEXt holds Latin-1: a 1–79 character keyword without zero bytes, and text without them.
  if (!/^[\x20-\x7e\xa1-\xff]{1,79}$/.test(keyword)) throw new RangeError(`Invalid PNG text keyword "${keyword}".`);
  if (/[^\x01-\xff]/.test(text)) throw new RangeError("PNG tEXt chunks can only hold Latin-1 text.");
  return { type: "tEXt", data: Buffer.from(`${keyword}\0${text}`, "latin1") };
}

/** The PNG with its old card chunks (`chara`, `ccv3`, `chara-ext-asset_`) removed and `chunks` added as tEXt right before IEND. */
export function withTextChunks(png: Buffer, chunks: TextChunk[]): Buffer {
  const kept = readChunks(png).filter((chunk) => chunk.type !== "IEND" && !isCardTextChunk(chunk));
  return encodePng([...kept, ...chunks.map(encodeTextChunk), { type: "IEND", data: Buffer.alloc(0) }]);
}
