import { characterAssetFor, isPicture } from "@/server/characters/assets";
import { immutableBytesResponse } from "@/server/http/byte-range";
import { notFoundResponse, visibleFile } from "@/server/http/viewer";

export const dynamic = "force-dynamic";

/**
 * A file a character's card carried (an emotion sprite, a background, a sound…), for whoever may
 * see the character; anyone else gets 404, so an id leaks nothing. Pictures (checked from their
 * bytes on import) are served as what they are; anything else only as a download, never rendered.
 */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const asset = await visibleFile(request, params, characterAssetFor);
  if (!asset) return notFoundResponse();
  const picture = isPicture(asset.contentType);
  const response = immutableBytesResponse(
    request,
    { bytes: asset.bytes, contentType: picture ? asset.contentType : "application/octet-stream", etag: asset.sha256 },
    { cache: "private" },
  );
  response.headers.set("Content-Security-Policy", "default-src 'none'; sandbox");
  if (!picture) response.headers.set("Content-Disposition", `attachment; filename="asset.${/^[a-z0-9]{1,10}$/.test(asset.ext) ? asset.ext : "bin"}"`);
  return response;
}
