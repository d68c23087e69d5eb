import { eq } from "drizzle-orm";
import { getDb } from "@/server/db";
import { audioClips } from "@/server/db/schema";
import { immutableBytesResponse } from "@/server/http/byte-range";

/** Synthesised speech by its content key: immutable, with ETag and Range support for seeking. */
async function serve(request: Request, { params }: { params: Promise<{ key: string }> }) {
  const { key } = await params;
  if (!/^[0-9a-f]{64}$/.test(key)) return new Response("Not found", { status: 404 });
  const [clip] = await getDb()
    .select({ bytes: audioClips.bytes, contentType: audioClips.contentType })
    .from(audioClips)
    .where(eq(audioClips.key, key))
    .limit(1);
  if (!clip) return new Response("Not found", { status: 404 });
  return immutableBytesResponse(request, { ...clip, etag: key });
}

export { serve as GET, serve as HEAD };
