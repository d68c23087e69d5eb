import { avatarModelFor } from "@/server/avatars/models";
import { immutableBytesResponse } from "@/server/http/byte-range";
import { notFoundResponse, visibleFile } from "@/server/http/viewer";

export const dynamic = "force-dynamic";

/**
 * 3D avatars (VRM or GLB, both glTF binary), for whoever may see a character that uses them (the
 * browser session or a personal API token). Anyone else gets 404, never 403, so an id leaks
 * nothing. A model's bytes never change (a new one gets a new id), but who may see them can:
 * browsers keep them for a year, shared caches never. Range requests let a viewer resume.
 */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const model = await visibleFile(request, params, avatarModelFor);
  if (!model) return notFoundResponse();
  return immutableBytesResponse(request, { bytes: model.bytes, contentType: "model/gltf-binary", etag: model.sha256 }, { cache: "private" });
}
