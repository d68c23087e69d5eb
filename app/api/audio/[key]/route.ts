import { env } from "@/lib/env.mjs";
import { getDb } from "@/server/db";
import { CHANNELS, watch } from "@/server/db/notify";
import { immutableBytesResponse } from "@/server/http/byte-range";
import { liveClips } from "@/server/tts/live-audio";
import { AUDIO_KEY_PATTERN, cachedClips } from "@/server/tts/speech";

/**
 * Synthesised speech by its content key: immutable, with ETag and Range support for seeking.
 * `?live=1` (a clip being synthesised in a streaming mode) is served as it grows when this
 * instance is synthesising it; on another instance, once it is complete.
 */
async function serve(request: Request, { params }: { params: Promise<{ key: string }> }) {
  const { key } = await params;
  if (!AUDIO_KEY_PATTERN.test(key)) return new Response("Not found", { status: 404 });
  const db = getDb();
  const live = new URL(request.url).searchParams.get("live") === "1";
  // Subscribed before the lookup, so a clip completed between the two is not missed.
  const completed = live ? await watch(db, CHANNELS.audio, (payload) => payload === key) : null;
  try {
    const deadline = Date.now() + env().SOVITS_TIMEOUT_MS;
    for (;;) {
      // An evicted clip is not found; a message keeps the text of each clip, so it can be spoken again.
      const clip = (await cachedClips(db, [key])).get(key);
      if (clip) return immutableBytesResponse(request, { ...clip, etag: key });
      const growing = liveClips.get(key);
      if (growing) return streamLive(request, growing);
      if (!completed || Date.now() >= deadline || request.signal.aborted) return new Response("Not found", { status: 404 });
      await completed.next(Math.min(1_000, deadline - Date.now()), request.signal);
    }
  } finally {
    completed?.close();
  }
}

/** A clip still being synthesised, as a WAV stream that ends with it (never cached: it isn't complete). */
function streamLive(request: Request, clip: NonNullable<ReturnType<typeof liveClips.get>>) {
  const headers = { "content-type": "audio/wav", "cache-control": "no-store" };
  if (request.method === "HEAD") return new Response(null, { headers });
  const chunks = clip.read(request.signal);
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(new Uint8Array(next.value));
      } catch (error) {
        // The synthesis failed: the body breaks off, as GPT-SoVITS's own stream does.
        controller.error(error);
      }
    },
    cancel() {
      void chunks.return(undefined);
    },
  });
  return new Response(body, { headers });
}

export { serve as GET, serve as HEAD };
