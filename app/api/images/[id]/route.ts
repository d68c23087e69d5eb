import { eq } from "drizzle-orm";
import { getDb } from "@/server/db";
import { images } from "@/server/db/schema";
import { immutableBytesResponse } from "@/server/http/byte-range";

/** Uploaded portraits. An id never changes its bytes, so browsers may keep them for a year. */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!/^[\w-]{1,64}$/.test(id)) return new Response("Not found", { status: 404 });
  const [image] = await getDb()
    .select({ bytes: images.bytes, contentType: images.contentType, sha256: images.sha256 })
    .from(images)
    .where(eq(images.id, id))
    .limit(1);
  if (!image) return new Response("Not found", { status: 404 });
  return immutableBytesResponse(request, { bytes: image.bytes, contentType: image.contentType, etag: image.sha256 });
}
