import { createHash } from "node:crypto";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { CHARACTER_LIMITS } from "@/lib/schemas";
import { DomainError } from "@/server/errors";
import { preparePortrait, toPng } from "./process";
import { sniffImage } from "./sniff";
import { makeImage, pngHeaderOnly } from "./test-images";

async function rejection(run: () => Promise<unknown>): Promise<DomainError> {
  const error: unknown = await run().then(
    () => null,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof DomainError)) throw new Error(`Expected a DomainError, got ${String(error)}`);
  expect(error.code).toBe("bad_input");
  return error;
}

describe("preparePortrait", () => {
  it.each(["png", "jpeg", "webp"] as const)("shrinks a 3000×2000 %s to 1024×683 and keeps its format", async (format) => {
    const prepared = await preparePortrait(await makeImage(format, 3000, 2000));
    expect(prepared).toMatchObject({ format, contentType: `image/${format}`, width: 1024, height: 683 });
    expect(sniffImage(prepared.bytes)).toMatchObject({ format, width: 1024, height: 683 });
    expect(prepared.sha256).toBe(createHash("sha256").update(prepared.bytes).digest("hex"));
  });

  it("does not enlarge a small image", async () => {
    const prepared = await preparePortrait(await makeImage("png", 200, 100));
    expect(prepared).toMatchObject({ width: 200, height: 100 });
  });

  it("turns a JPEG upright by its EXIF orientation and strips the metadata", async () => {
    const tagged = await sharp(await makeImage("jpeg", 300, 200))
      .withMetadata({ orientation: 6, exif: { IFD0: { Copyright: "someone" } } })
      .jpeg()
      .toBuffer();
    const prepared = await preparePortrait(tagged);
    expect(prepared).toMatchObject({ width: 200, height: 300 });
    const metadata = await sharp(prepared.bytes).metadata();
    expect(metadata.orientation).toBeUndefined();
    expect(metadata.exif).toBeUndefined();
  });

  it.each([
    ["a GIF", () => sharp({ create: { width: 4, height: 4, channels: 3, background: "red" } }).gif().toBuffer()],
    ["an SVG", async () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')],
  ])("rejects %s as the wrong type", async (_, make) => {
    const bytes = await make();
    const error = await rejection(() => preparePortrait(bytes));
    expect(error.params.reason).toBe("image_type");
    expect(error.message).toBe("Images must be PNG, JPEG or WebP.");
  });

  it("rejects a file over the size limit", async () => {
    const oversized = Buffer.concat([await makeImage("png"), Buffer.alloc(CHARACTER_LIMITS.imageBytes)]);
    const error = await rejection(() => preparePortrait(oversized));
    expect(error.params).toMatchObject({ reason: "image_too_large", maxBytes: CHARACTER_LIMITS.imageBytes });
  });

  it("rejects a PNG whose header claims 50000×50000 without decoding it", async () => {
    // The file has no pixel data: decoding it would fail as malformed, not as too big.
    const error = await rejection(() => preparePortrait(pngHeaderOnly(50_000, 50_000)));
    expect(error.params).toMatchObject({ reason: "image_dimensions", width: 50_000, height: 50_000 });
  });

  it("rejects an image that cannot be decoded", async () => {
    const png = await makeImage("png", 300, 200);
    const error = await rejection(() => preparePortrait(png.subarray(0, png.length - 40)));
    expect(error.params.reason).toBe("image_malformed");
    const headerOnly = await rejection(() => preparePortrait(pngHeaderOnly(10, 10)));
    expect(headerOnly.params.reason).toBe("image_malformed");
  });
});

describe("toPng", () => {
  it.each(["jpeg", "webp", "png"] as const)("turns a %s into a PNG of the same size", async (format) => {
    const png = await toPng(await makeImage(format, 60, 40));
    expect(sniffImage(png)).toMatchObject({ format: "png", width: 60, height: 40 });
  });

  it("rejects what is not a supported image", async () => {
    const error = await rejection(() => toPng(Buffer.from("not an image")));
    expect(error.params.reason).toBe("image_type");
  });
});
