import { createHash } from "node:crypto";
import sharp, { type OutputInfo, type Sharp } from "sharp";
import { CHARACTER_LIMITS } from "@/lib/schemas";
import { DomainError } from "@/server/errors";
import { sniffImage, type ImageFormat, type SniffedImage } from "./sniff";

export interface PreparedImage {
  bytes: Buffer;
  contentType: string;
  format: ImageFormat;
  width: number;
  height: number;
  sha256: string;
}

const PORTRAIT_MAX_SIDE = 1024;
const QUALITY = 88;

type ImageErrorReason = "image_type" | "image_too_large" | "image_dimensions" | "image_malformed";

function imageError(reason: ImageErrorReason, message: string, params: Record<string, string | number> = {}) {
  return new DomainError("bad_input", message, { ...params, reason });
}

/** Type, file size and pixel count, all from the bytes and the header: nothing is decoded yet. */
function checkImage(bytes: Buffer): SniffedImage {
  const image = sniffImage(bytes);
  if (!image) throw imageError("image_type", "Images must be PNG, JPEG or WebP.");
  const maxBytes = CHARACTER_LIMITS.imageBytes;
  if (bytes.length > maxBytes) {
    throw imageError("image_too_large", `Images can be at most ${maxBytes / 1024 / 1024} MB.`, { maxBytes });
  }
  const maxPixels = CHARACTER_LIMITS.imagePixels;
  if (image.width * image.height > maxPixels) {
    throw imageError(
      "image_dimensions",
      `This image is ${image.width} × ${image.height} pixels; images can have at most ${maxPixels} pixels (${Math.sqrt(maxPixels)} × ${Math.sqrt(maxPixels)}).`,
      { width: image.width, height: image.height, maxPixels },
    );
  }
  return image;
}

/** A decoder for checked bytes; the pixel limit holds even if a header understated the size. */
function decode(bytes: Buffer): Sharp {
  return sharp(bytes, { limitInputPixels: CHARACTER_LIMITS.imagePixels }).rotate();
}

function encodeAs(image: Sharp, format: ImageFormat): Sharp {
  switch (format) {
    case "png":
      return image.png();
    case "jpeg":
      return image.jpeg({ quality: QUALITY });
    case "webp":
      return image.webp({ quality: QUALITY });
  }
}

async function render(image: Sharp): Promise<{ data: Buffer; info: OutputInfo }> {
  try {
    return await image.toBuffer({ resolveWithObject: true });
  } catch {
    throw imageError("image_malformed", "The image file is damaged or incomplete.");
  }
}

/**
 * An uploaded portrait made safe to store and serve: checked against the limits, turned upright,
 * stripped of metadata (EXIF can carry GPS positions) and scaled to fit 1024 × 1024.
 */
export async function preparePortrait(bytes: Buffer): Promise<PreparedImage> {
  const { format, contentType } = checkImage(bytes);
  const resized = decode(bytes).resize(PORTRAIT_MAX_SIDE, PORTRAIT_MAX_SIDE, { fit: "inside", withoutEnlargement: true });
  const { data, info } = await render(encodeAs(resized, format));
  return {
    bytes: data,
    contentType,
    format,
    width: info.width,
    height: info.height,
    sha256: createHash("sha256").update(data).digest("hex"),
  };
}

/** Any supported image as PNG, at its own size (for character cards, which live in PNG files). */
export async function toPng(bytes: Buffer): Promise<Buffer> {
  checkImage(bytes);
  const { data } = await render(decode(bytes).png());
  return data;
}
