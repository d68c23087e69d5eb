import { getDb } from "@/server/db";
import { immutableBytesResponse } from "@/server/http/byte-range";
import { AUDIO_KEY_PATTERN, cachedClips } from "@/server/tts/speech";

/** Synthesised speech by its content key: immutable, with ETag and Range support for seeking. */
async function serve(request: Request, { params }: { params: Promise<{ key: string }> }) {
  const { key } = await params;
  if (!AUDIO_KEY_PATTERN.test(key)) return new Response("Not found", { status: 404 });
  // An evicted clip is not found; a message keeps the text of each clip, so it can be spoken again.
  const clip = (await cachedClips(getDb(), [key])).get(key);
  if (!clip) return new Response("Not found", { status: 404 });
  return immutableBytesResponse(request, { ...clip, etag: key });
}

export { serve as GET, serve as HEAD };
