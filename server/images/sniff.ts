export type ImageFormat = "png" | "jpeg" | "webp";

export interface SniffedImage {
  format: ImageFormat;
  contentType: string;
  width: number;
  height: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * What an image is, judged by its bytes alone (never by a file name or a browser's claim), and
 * its size as the header states it, so limits can be checked before anything is decoded.
 * Null for anything else, including headers cut short.
 */
export function sniffImage(bytes: Buffer): SniffedImage | null {
  return sniffPng(bytes) ?? sniffJpeg(bytes) ?? sniffWebp(bytes);
}

function sniffed(format: ImageFormat, width: number, height: number): SniffedImage | null {
  if (width === 0 || height === 0) return null;
  return { format, contentType: `image/${format}`, width, height };
}

function sniffPng(bytes: Buffer): SniffedImage | null {
  // signature, then the IHDR chunk: length 13, "IHDR", width, height, …
  if (bytes.length < 24 || !bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return null;
  if (bytes.readUInt32BE(8) !== 13 || bytes.toString("latin1", 12, 16) !== "IHDR") return null;
  return sniffed("png", bytes.readUInt32BE(16), bytes.readUInt32BE(20));
}

/** Start-of-frame markers carry the dimensions; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Markers that stand alone, without a length: TEM, RST0–7, SOI. */
function isStandaloneMarker(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8);
}

function sniffJpeg(bytes: Buffer): SniffedImage | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff) return null;
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return null;
    const marker = bytes[offset + 1] ?? 0;
    if (marker === 0xff) {
      offset += 1; // fill byte
    } else if (isStandaloneMarker(marker)) {
      offset += 2;
    } else if (marker === 0xda || marker === 0xd9) {
      return null; // image data or the end, before any frame header
    } else if (isStartOfFrame(marker)) {
      // length, precision, height, width
      if (offset + 9 > bytes.length) return null;
      return sniffed("jpeg", bytes.readUInt16BE(offset + 7), bytes.readUInt16BE(offset + 5));
    } else {
      const segmentLength = bytes.readUInt16BE(offset + 2);
      if (segmentLength < 2) return null;
      offset += 2 + segmentLength;
    }
  }
  return null;
}

function sniffWebp(bytes: Buffer): SniffedImage | null {
  if (bytes.length < 16 || bytes.toString("latin1", 0, 4) !== "RIFF" || bytes.toString("latin1", 8, 12) !== "WEBP") {
    return null;
  }
  // The first chunk's payload starts at 20, after its four-character code and length.
  switch (bytes.toString("latin1", 12, 16)) {
    case "VP8 ":
      return sniffLossyWebp(bytes);
    case "VP8L":
      return sniffLosslessWebp(bytes);
    case "VP8X":
      return sniffExtendedWebp(bytes);
    default:
      return null;
  }
}

function sniffLossyWebp(bytes: Buffer): SniffedImage | null {
  // 3-byte frame tag, start code 9d 01 2a, then 14-bit width and height (the top 2 bits are scaling)
  if (bytes.length < 30 || bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a) return null;
  return sniffed("webp", bytes.readUInt16LE(26) & 0x3fff, bytes.readUInt16LE(28) & 0x3fff);
}

function sniffLosslessWebp(bytes: Buffer): SniffedImage | null {
  // signature 0x2f, then width − 1 and height − 1 as two 14-bit little-endian fields
  if (bytes.length < 25 || bytes[20] !== 0x2f) return null;
  const bits = bytes.readUInt32LE(21);
  return sniffed("webp", (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
}

function sniffExtendedWebp(bytes: Buffer): SniffedImage | null {
  // flags and 3 reserved bytes, then canvas width − 1 and height − 1 as 24-bit little-endian
  if (bytes.length < 30) return null;
  return sniffed("webp", bytes.readUIntLE(24, 3) + 1, bytes.readUIntLE(27, 3) + 1);
}
