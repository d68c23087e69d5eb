import "server-only";
import { createHmac } from "node:crypto";
import { and, eq, inArray, lt, sql } from "drizzle-orm";
import { env } from "@/lib/env.mjs";
import type { Database } from "@/server/db";
import { audioClips } from "@/server/db/schema";
import { serverSecret } from "@/server/secrets";
import { CONTENT_TYPES, synthesize, ttsRequest, type AudioFormat, type SovitsVoice } from "./sovits";

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
  done: Promise<void>;
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
async function cacheKey(db: Database, request: ReturnType<typeof ttsRequest>) {
  const secret = await serverSecret(db, "audio_cache_key");
  return createHmac("sha256", secret).update(JSON.stringify(request)).digest("hex");
}

export interface SpeakOptions {
  /** Whose turn this is in GPT-SoVITS's queue (a user id); callers that give none share one turn. */
  owner?: string;
  /** Fires when the audio is no longer wanted: rejects at once, and a synthesis still waiting for its turn is dropped. */
  signal?: AbortSignal;
}

/**
 * Speech for `text` in `voice`, as an immutable URL. The key stands for exactly what GPT-SoVITS
 * is asked (the voice's parameters, the text, the format), so a repeat — by anyone, on any
 * instance — is served from the database without calling GPT-SoVITS again. Every kind of speech
 * (voices.synthesize, realtime replies, replies read aloud, downloads) comes through here, and
 * through GPT-SoVITS's queue (server/tts/sovits.ts): an owner's syntheses join it in the order
 * they were asked for, and a failed one is never cached.
 */
export async function speak(db: Database, voice: SovitsVoice, text: string, format: AudioFormat, options: SpeakOptions = {}) {
  const { owner = "", signal } = options;
  const request = ttsRequest(voice, text, format);
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
      const drop = new AbortController();
      const done = synthesize(request, { owner, signal: drop.signal })
        .then(async (bytes) => {
          // Another instance may have stored the same clip meanwhile: its bytes are as good.
          await db
            .insert(audioClips)
            .values({ key, contentType: CONTENT_TYPES[format], bytes, sizeBytes: bytes.length })
            .onConflictDoNothing();
          await evictBeyondCap(db, key).catch((error: unknown) => console.warn("[speech] could not trim the audio cache", error));
        })
        .finally(() => speaking.delete(key));
      pending = { done, wanted: 0, drop };
      speaking.set(key, pending);
    }
    pending.wanted += 1;
    return { key, known: null, pending };
  });
  const { key, known, pending } = found;
  if (known) {
    await touchIfStale(db, [known]);
    return { key, url: audioUrl(key), cached: true };
  }
  await wantedUntilDone(pending, signal);
  return { key, url: audioUrl(key), cached: false };
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

/** Waits for `pending` (counted as wanted by this caller) unless `signal` fires first; the last caller to give up drops it. */
async function wantedUntilDone(pending: Pending, signal: AbortSignal | undefined) {
  let giveUp = () => {};
  const givenUp = new Promise<never>((_, reject) => {
    giveUp = () => {
      pending.wanted -= 1;
      if (pending.wanted === 0) pending.drop.abort(signal?.reason);
      reject(signal?.reason);
    };
    if (signal?.aborted) giveUp();
    else signal?.addEventListener("abort", giveUp, { once: true });
  });
  givenUp.catch(() => {}); // only raced below
  try {
    await Promise.race([pending.done, givenUp]);
  } finally {
    signal?.removeEventListener("abort", giveUp);
  }
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
