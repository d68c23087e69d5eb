/** Test fixtures: small images made with sharp, and a PNG header crafted by hand. */
import sharp from "sharp";
import { encodePng } from "@/server/cards/png-chunks";

export type Format = "png" | "jpeg" | "webp";

export function makeImage(format: Format, width = 30, height = 20, options: { alpha?: boolean; lossless?: boolean } = {}) {
  const image = sharp({
    create: { width, height, channels: options.alpha ? 4 : 3, background: { r: 40, g: 90, b: 160, alpha: 0.5 } },
  });
  if (format === "png") return image.png().toBuffer();
  if (format === "jpeg") return image.jpeg().toBuffer();
  return image.webp({ lossless: options.lossless }).toBuffer();
}

/** A PNG that is only a header: the IHDR claims a size, there is no pixel data at all. */
export function pngHeaderOnly(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter, no interlace
  return encodePng([
    { type: "IHDR", data: ihdr },
    { type: "IEND", data: Buffer.alloc(0) },
  ]);
}
