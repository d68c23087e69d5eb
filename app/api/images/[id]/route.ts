import { eq } from "drizzle-orm";
import { getDb } from "@/server/db";
import { images } from "@/server/db/schema";

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
  const etag = `"${image.sha256}"`;
  const headers = {
    "Content-Type": image.contentType,
    "Cache-Control": "public, max-age=31536000, immutable",
    ETag: etag,
    "X-Content-Type-Options": "nosniff",
  };
  if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
  return new Response(new Uint8Array(image.bytes), { headers: { ...headers, "Content-Length": String(image.bytes.length) } });
}
