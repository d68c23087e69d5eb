import "server-only";
import { createHmac } from "node:crypto";
import { and, eq, inArray, lt, sql } from "drizzle-orm";
import { env } from "@/lib/env.mjs";
import type { Database } from "@/server/db";
import { audioClips } from "@/server/db/schema";
import { serverSecret } from "@/server/secrets";
import { CHANNELS, notify } from "@/server/db/notify";
import { LiveClip, liveClips } from "./live-audio";
import {
  CONTENT_TYPES,
  SILENCE_SAMPLE_RATE,
  synthesize,
  ttsRequest,
  type AudioFormat,
  type SovitsVoice,
  type StreamingMode,
  type TtsRequest,
} from "./sovits";
import type { WavFormat } from "./wav";

/** Where a clip is served (app/api/audio/[key]). */
export const audioUrl = (key: string) => `/api/audio/${key}`;
/** The content key of an audioUrl. */
export const audioKeyOf = (url: string) => url.slice(url.lastIndexOf("/") + 1);
/** What a content key looks like (an HMAC-SHA256 in hex). */
export const AUDIO_KEY_PATTERN = /^[0-9a-f]{64}$/;

/** A clip's last use is written at most this often, so playing it stays a read. */
const TOUCH_EVERY_MS = 60 * 60_000;
/** Eviction goes down to this share of the cap, so the next few clips don't evict again at once. */
const EVICT_DOWN_TO = 0.9;

/** A synthesis in progress in this process, and how many callers still want it. */
interface Pending {
  /** Its first audio can be heard: at once for a streamed clip being served live, else when done. */
  started: Promise<void>;
  /** Synthesised and stored. */
  done: Promise<void>;
  /** Served live as it is synthesised (a streaming mode). */
  live: boolean;
  wanted: number;
  /** Drops the synthesis while it waits in the queue, once nobody wants it any more. */
  drop: AbortController;
}

const holder = globalThis as unknown as { afSpeaking?: Map<string, Pending>; afSpeakLookups?: Map<string, Promise<unknown>> };
/** Syntheses in progress in this process, by key: a second request for the same clip waits for the first. */
const speaking: Map<string, Pending> = (holder.afSpeaking ??= new Map());
/** Per owner, the end of its latest cache lookup (see inOrder). */
const lookups: Map<string, Promise<unknown>> = (holder.afSpeakLookups ??= new Map());

/**
 * The cache key of a synthesis request: an HMAC of exactly what GPT-SoVITS is asked, under a
 * secret of the database. A plain hash of that public data would let anyone compute the key of a
 * sentence in a preset voice and learn from /api/audio/<key> whether it was ever spoken.
 */
async function cacheKey(db: Database, request: TtsRequest) {
  const secret = await serverSecret(db, "audio_cache_key");
  return createHmac("sha256", secret).update(JSON.stringify(request)).digest("hex");
}

export interface SpeakOptions {
  /** Whose turn this is in GPT-SoVITS's queue (a user id); callers that give none share one turn. */
  owner?: string;
  /** Fires when the audio is no longer wanted: rejects at once, and a synthesis still waiting for its turn is dropped. */
  signal?: AbortSignal;
  /** GPT-SoVITS's streaming mode (wav only): 1–3 stream the audio as it is synthesised. */
  streamingMode?: StreamingMode;
}

/**
 * Speech for `text` in `voice`, as an immutable URL. The key stands for exactly what GPT-SoVITS
 * is asked (the voice's parameters, the text, the format, the streaming mode), so a repeat — by
 * anyone, on any instance — is served from the database without calling GPT-SoVITS again. Every
 * kind of speech (voices.synthesize, realtime replies, replies read aloud, downloads) comes
 * through here, and through GPT-SoVITS's queue (server/tts/sovits.ts): an owner's syntheses join
 * it in the order they were asked for, and a failed one is never cached.
 */
export async function speak(db: Database, voice: SovitsVoice, text: string, format: AudioFormat, options: SpeakOptions = {}) {
  const clip = await speakLive(db, voice, text, format, options);
  await clip.done;
  return { key: clip.key, url: audioUrl(clip.key), cached: clip.cached };
}

/**
 * Like `speak`, but resolves as soon as the clip can be heard: in a streaming mode, once its first
 * audio has arrived — `url` then serves it as it grows (`live`), and `done` says when it is
 * complete and stored, or rejects if the synthesis failed after all (a stream that broke off, or
 * api_v2's silence). Otherwise when it is complete, as `speak`. A streamed clip whose first audio is
 * 16 kHz (api_v2's rate for a failed inference, never a model's) is not served live: it waits to
 * be checked.
 */
export async function speakLive(db: Database, voice: SovitsVoice, text: string, format: AudioFormat, options: SpeakOptions = {}) {
  const { owner = "", signal, streamingMode = 0 } = options;
  const request = ttsRequest(voice, text, format, streamingMode);
  const found = await inOrder(owner, async () => {
    signal?.throwIfAborted();
    const key = await cacheKey(db, request);
    const [known] = await db
      .select({ key: audioClips.key, lastUsedAt: audioClips.lastUsedAt })
      .from(audioClips)
      .where(eq(audioClips.key, key))
      .limit(1);
    if (known) return { key, known, pending: null };
    signal?.throwIfAborted();
    let pending = speaking.get(key);
    if (!pending) {
      pending = startSynthesis(db, key, request, owner);
      speaking.set(key, pending);
    }
    pending.wanted += 1;
    return { key, known: null, pending };
  });
  const { key, known, pending } = found;
  if (known) {
    await touchIfStale(db, [known]);
    return { key, url: audioUrl(key), cached: true, live: false, done: Promise.resolve() };
  }
  const wanted = want(pending, signal);
  try {
    await wanted.until(pending.started);
  } catch (error) {
    wanted.release();
    throw error;
  }
  const done = wanted.until(pending.done).finally(wanted.release);
  done.catch(() => {}); // the caller's to await
  return { key, url: pending.live ? `${audioUrl(key)}?live=1` : audioUrl(key), cached: false, live: pending.live, done };
}

/** Sends `request` to GPT-SoVITS when its turn comes and keeps the result under `key`; a streamed one is served live meanwhile. */
function startSynthesis(db: Database, key: string, request: TtsRequest, owner: string): Pending {
  const drop = new AbortController();
  const streamed = request.streaming_mode > 0;
  const live = streamed ? new LiveClip() : null;
  let heard = () => {};
  const started = new Promise<void>((resolve) => (heard = resolve));
  const sink = live && {
    begin: (format: WavFormat) => {
      live.begin(format);
      if (format.sampleRate === SILENCE_SAMPLE_RATE) return;
      liveClips.set(key, live);
    },
    append: (pcm: Buffer) => {
      live.append(pcm);
      if (liveClips.get(key) === live) heard();
    },
  };
  const done = synthesize(request, { owner, signal: drop.signal }, sink ?? undefined)
    .then(async (bytes) => {
      // Another instance may have stored the same clip meanwhile: its bytes are as good.
      await db
        .insert(audioClips)
        .values({ key, contentType: CONTENT_TYPES[request.media_type], bytes, sizeBytes: bytes.length })
        .onConflictDoNothing();
      if (streamed) await notify(db, CHANNELS.audio, key);
      await evictBeyondCap(db, key).catch((error: unknown) => console.warn("[speech] could not trim the audio cache", error));
      live?.finish();
    })
    .catch((error: unknown) => {
      live?.fail();
      throw error;
    })
    .finally(() => {
      speaking.delete(key);
      if (live && liveClips.get(key) === live) liveClips.delete(key);
    });
  // Heard at its first audio (live), else once done; a failure before any audio fails both.
  void done.then(heard, () => {});
  return { started: Promise.race([started, done]), done, live: live !== null, wanted: 0, drop };
}

/**
 * Runs `lookup` (a cache lookup that may join GPT-SoVITS's queue) after `owner`'s previous one:
 * its sentences would otherwise join the queue in the order their lookups happen to finish.
 */
function inOrder<T>(owner: string, lookup: () => Promise<T>): Promise<T> {
  const mine = (lookups.get(owner) ?? Promise.resolve()).then(lookup);
  const settled = mine.then(
    () => {},
    () => {},
  );
  lookups.set(owner, settled);
  void settled.then(() => lookups.get(owner) === settled && lookups.delete(owner));
  return mine;
}

/**
 * This caller's want of `pending`: `until` waits for one of its stages unless `signal` fires
 * first; giving up (the signal, or `release` once the caller is done) counts once, and the last
 * caller to give up drops a synthesis still waiting for its turn.
 */
function want(pending: Pending, signal: AbortSignal | undefined) {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    signal?.removeEventListener("abort", giveUp);
    pending.wanted -= 1;
    if (pending.wanted === 0) pending.drop.abort(signal?.reason);
  };
  let rejectGivenUp = (_: unknown) => {};
  const givenUp = new Promise<never>((_, reject) => (rejectGivenUp = reject));
  givenUp.catch(() => {}); // only raced below
  function giveUp() {
    rejectGivenUp(signal?.reason);
    release();
  }
  if (signal?.aborted) giveUp();
  else signal?.addEventListener("abort", giveUp, { once: true });
  return {
    until: <T>(stage: Promise<T>) => Promise.race([stage, givenUp]),
    release,
  };
}

/** Cached clips by key (those that are there: a clip may have been evicted), marked as used. */
export async function cachedClips(db: Database, keys: string[]) {
  if (keys.length === 0) return new Map<string, { bytes: Buffer; contentType: string }>();
  const rows = await db
    .select({ key: audioClips.key, bytes: audioClips.bytes, contentType: audioClips.contentType, lastUsedAt: audioClips.lastUsedAt })
    .from(audioClips)
    .where(inArray(audioClips.key, keys));
  await touchIfStale(db, rows);
  return new Map(rows.map(({ key, bytes, contentType }) => [key, { bytes, contentType }]));
}

/** Records a use only when the last one is over an hour old: eviction's order needs no finer grain. */
async function touchIfStale(db: Database, clips: { key: string; lastUsedAt: Date }[]) {
  const stale = clips.filter((clip) => Date.now() - clip.lastUsedAt.getTime() > TOUCH_EVERY_MS).map((clip) => clip.key);
  if (stale.length === 0) return;
  await db
    .update(audioClips)
    .set({ lastUsedAt: sql`now()` })
    .where(and(inArray(audioClips.key, stale), lt(audioClips.lastUsedAt, sql`now() - ${TOUCH_EVERY_MS} * interval '1 millisecond'`)));
}

/**
 * Keeps the cache under AUDIO_CACHE_MAX_MB: once the total passes it, the least recently used
 * clips go until the rest fits in 90% of it — never `fresh`, the clip just made, which its caller
 * is about to play. One statement; the ranking only runs when the cache is over (the total is
 * checked first). A clip still listed on a message may go too: the download speaks it again.
 */
async function evictBeyondCap(db: Database, fresh: string) {
  const capBytes = env().AUDIO_CACHE_MAX_MB * 1024 * 1024;
  const keepBytes = Math.floor(capBytes * EVICT_DOWN_TO);
  await db.execute(sql`
    delete from audio_clips
    where (select coalesce(sum(size_bytes), 0) from audio_clips) > ${capBytes}
      and key in (
        select key from (
          select key, sum(size_bytes) over (order by last_used_at desc, key) as newer_and_own
          from audio_clips
        ) as ranked
        where newer_and_own > ${keepBytes} and key <> ${fresh}
      )`);
}
