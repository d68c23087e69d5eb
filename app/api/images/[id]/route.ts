import { portraitFor } from "@/server/characters/portraits";
import { immutableBytesResponse } from "@/server/http/byte-range";
import { notFoundResponse, visibleFile } from "@/server/http/viewer";

export const dynamic = "force-dynamic";

/**
 * Uploaded portraits, for whoever may see a character that uses them (the browser session or a
 * personal API token). Anyone else gets 404, never 403, so an id leaks nothing. The bytes of an id
 * never change, but who may see them can: browsers keep them for a year, shared caches never.
 */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const image = await visibleFile(request, params, portraitFor);
  if (!image) return notFoundResponse();
  return immutableBytesResponse(request, { bytes: image.bytes, contentType: image.contentType, etag: image.sha256 }, { cache: "private" });
}
