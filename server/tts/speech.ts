import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Database } from "@/server/db";
import { audioClips } from "@/server/db/schema";
import { CONTENT_TYPES, synthesize, ttsRequest, type AudioFormat, type SovitsVoice } from "./sovits";

/** Where a clip is served (app/api/audio/[key]). */
export const audioUrl = (key: string) => `/api/audio/${key}`;
/** The content key of an audioUrl. */
export const audioKeyOf = (url: string) => url.slice(url.lastIndexOf("/") + 1);

const holder = globalThis as unknown as { afSpeaking?: Map<string, Promise<void>> };
/** Syntheses in progress in this process, by key: a second request for the same clip waits for the first. */
const speaking: Map<string, Promise<void>> = (holder.afSpeaking ??= new Map());

/**
 * Speech for `text` in `voice`, as an immutable URL. The key is a hash of exactly what GPT-SoVITS
 * is asked (the voice's parameters, the text, the format), so a repeat — by anyone, on any
 * instance — is served from the database without calling GPT-SoVITS again.
 */
export async function speak(db: Database, voice: SovitsVoice, text: string, format: AudioFormat) {
  const request = ttsRequest(voice, text, format);
  const key = createHash("sha256").update(JSON.stringify(request)).digest("hex");
  const [known] = await db.select({ key: audioClips.key }).from(audioClips).where(eq(audioClips.key, key)).limit(1);
  if (known) return { key, url: audioUrl(key), cached: true };
  let pending = speaking.get(key);
  if (!pending) {
    pending = synthesize(request)
      .then(async (bytes) => {
        // Another instance may have stored the same clip meanwhile: its bytes are as good.
        await db.insert(audioClips).values({ key, contentType: CONTENT_TYPES[format], bytes }).onConflictDoNothing();
      })
      .finally(() => speaking.delete(key));
    speaking.set(key, pending);
  }
  await pending;
  return { key, url: audioUrl(key), cached: false };
}
