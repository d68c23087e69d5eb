import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { sniffImage } from "./sniff";
import { makeImage, pngHeaderOnly } from "./test-images";

describe("sniffImage", () => {
  it.each([
    ["PNG", () => makeImage("png", 30, 20), "png"],
    ["PNG with alpha", () => makeImage("png", 30, 20, { alpha: true }), "png"],
    ["JPEG", () => makeImage("jpeg", 30, 20), "jpeg"],
    ["lossy WebP (VP8)", () => makeImage("webp", 30, 20), "webp"],
    ["lossless WebP (VP8L)", () => makeImage("webp", 30, 20, { lossless: true }), "webp"],
    ["WebP with alpha (VP8X)", () => makeImage("webp", 30, 20, { alpha: true }), "webp"],
  ] as const)("recognises %s and reads its size from the header", async (_, make, format) => {
    expect(sniffImage(await make())).toEqual({ format, contentType: `image/${format}`, width: 30, height: 20 });
  });

  it("reads the size of a JPEG whose frame header comes after EXIF and other segments", async () => {
    const jpeg = await sharp(await makeImage("png", 300, 200)).jpeg({ progressive: true }).withMetadata({ orientation: 6 }).toBuffer();
    expect(sniffImage(jpeg)).toMatchObject({ format: "jpeg", width: 300, height: 200 });
  });

  it("reads a PNG header without any pixel data", () => {
    expect(sniffImage(pngHeaderOnly(50_000, 50_000))).toMatchObject({ format: "png", width: 50_000, height: 50_000 });
  });

  it.each([
    ["a GIF", () => sharp({ create: { width: 4, height: 4, channels: 3, background: "red" } }).gif().toBuffer()],
    ["an SVG", async () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')],
    ["text", async () => Buffer.from("안녕하세요")],
    ["an empty file", async () => Buffer.alloc(0)],
    ["random bytes", async () => Buffer.from([0x13, 0x37, 0x00, 0xff, 0x42, 0x42, 0x42, 0x42])],
    ["a RIFF file that is not WebP", async () => Buffer.from("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00", "latin1")],
  ])("rejects %s", async (_, make) => {
    expect(sniffImage(await make())).toBeNull();
  });

  it.each(["png", "jpeg", "webp"] as const)("rejects a %s cut off inside its header", async (format) => {
    const bytes = await makeImage(format);
    const headerEnd = { png: 20, jpeg: 3, webp: 24 }[format];
    expect(sniffImage(bytes.subarray(0, headerEnd))).toBeNull();
  });

  it("rejects a JPEG that reaches its image data before any frame header", () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0xff, 0xd9]);
    expect(sniffImage(jpeg)).toBeNull();
  });

  it("rejects a zero-sized PNG", () => {
    expect(sniffImage(pngHeaderOnly(0, 10))).toBeNull();
  });
});
