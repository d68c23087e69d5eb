import { createHash, createHmac, randomBytes } from "node:crypto";
import { eq, inArray, sql as raw } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GET as serveAudio } from "@/app/api/audio/[key]/route";
import { startFakeSovits, type FakeSovits } from "@/e2e/fakes/sovits";
import { isolatedDatabase } from "@/e2e/support/isolated-db";
import { createUser } from "@/e2e/support/test-db";
import { replyAudio, speakingVoice } from "@/server/chat/speaker";
import { getSql, setDatabaseUrl } from "@/server/db";
import { createDatabase } from "@/server/db/client";
import { appSecrets, audioClips, characters, messages, voices } from "@/server/db/schema";
import { serverSecret } from "@/server/secrets";
import { SessionModel } from "@/server/sessions/model";
import { joinWavs } from "./wav";
import { ttsRequest } from "./sovits";
import { audioUrl, speak } from "./speech";

// The cache's total, its secret and its eviction are shared by the whole app: this file has a
// database of its own so that the run's other files neither disturb it nor lose clips to it.
let isolated: Awaited<ReturnType<typeof isolatedDatabase>>;
let sovits: FakeSovits;
const CAP_BYTES = 1024 * 1024;

beforeAll(async () => {
  isolated = await isolatedDatabase();
  sovits = await startFakeSovits({ port: 0, latencyMs: 5 });
  Object.assign(process.env, { SOVITS_URL: sovits.url, AUDIO_CACHE_MAX_MB: "1" });
  // The audio route reads through the app's own pool.
  setDatabaseUrl(isolated.url);
});
beforeEach(() => sovits.reset());
afterAll(async () => {
  await sovits.close();
  await getSql().end();
  await isolated.drop();
});

const ttsTexts = () => sovits.requests.filter((r) => r.path === "/tts").map((r) => (r.params as { text: string }).text);

async function presetVoice() {
  const [voice] = await isolated.db.select().from(voices).where(eq(voices.id, "preset-voice-calm"));
  return voice!;
}

/** What a new app process sees: a pool of its own, nothing remembered. */
async function inNewProcess<T>(work: (db: typeof isolated.db) => Promise<T>) {
  const { db, sql } = createDatabase(isolated.url, { max: 2 });
  try {
    return await work(db);
  } finally {
    await sql.end();
  }
}

/** Every clip goes (the database is this file's own). */
const emptyCache = () => isolated.sql`delete from audio_clips`;

const serve = (key: string) => serveAudio(new Request(`http://app${audioUrl(key)}`), { params: Promise.resolve({ key }) });

describe("the audio cache's key", () => {
  it("comes from one secret per database, made once however many instances start together", async () => {
    const secrets = await Promise.all([1, 2, 3].map(() => inNewProcess((db) => serverSecret(db, "audio_cache_key"))));
    expect(secrets[0]!.length).toBe(32);
    expect(secrets[1]).toEqual(secrets[0]);
    expect(secrets[2]).toEqual(secrets[0]);
    expect(await isolated.db.select().from(appSecrets)).toHaveLength(1);
  });

  it("is the same for the same words in the same voice, cannot be computed without the secret, and changes with it", async () => {
    const voice = await presetVoice();
    const text = "비밀 열쇠로 만든 이름이에요.";
    const first = await speak(isolated.db, voice, text, "wav");
    const again = await speak(isolated.db, voice, text, "wav");
    expect(again).toEqual({ ...first, cached: true });
    expect(ttsTexts()).toEqual([text]);

    const request = JSON.stringify(ttsRequest(voice, text, "wav"));
    expect(first.key).not.toBe(createHash("sha256").update(request).digest("hex"));
    const [secret] = await isolated.db.select().from(appSecrets).where(eq(appSecrets.name, "audio_cache_key"));
    expect(first.key).toBe(createHmac("sha256", secret!.value).update(request).digest("hex"));

    await isolated.db.update(appSecrets).set({ value: randomBytes(32) }).where(eq(appSecrets.name, "audio_cache_key"));
    const afterNewSecret = await inNewProcess((db) => speak(db, voice, text, "wav"));
    expect(afterNewSecret.key).not.toBe(first.key);
    expect(afterNewSecret.cached).toBe(false);
  });
});

describe("the audio cache's size", () => {
  const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000);
  const clipRow = (key: string, hours: number) => ({
    key,
    contentType: "audio/wav",
    bytes: Buffer.alloc(360_000),
    sizeBytes: 360_000,
    createdAt: hoursAgo(hours),
    lastUsedAt: hoursAgo(hours),
  });
  const lastUsed = async (key: string) =>
    (await isolated.db.select({ at: audioClips.lastUsedAt }).from(audioClips).where(eq(audioClips.key, key)))[0]?.at;

  it("evicts the least recently used clips once the total passes AUDIO_CACHE_MAX_MB, down to 90% of it", async () => {
    await emptyCache();
    // Three clips, oldest first, together just over the 1 MB cap (eviction runs after inserts only).
    const [oldest, middle, newest] = ["a", "b", "c"].map((letter) => letter.repeat(64));
    await isolated.db.insert(audioClips).values([clipRow(oldest!, 5), clipRow(middle!, 4), clipRow(newest!, 3)]);

    // Playing the oldest makes it the most recently used; a second play within the hour writes nothing.
    expect((await serve(oldest!)).status).toBe(200);
    const touched = await lastUsed(oldest!);
    expect(touched!.getTime()).toBeGreaterThan(hoursAgo(1).getTime());
    expect((await lastUsed(middle!))!.getTime()).toBeLessThan(hoursAgo(3).getTime());
    expect((await serve(oldest!)).status).toBe(200);
    expect(await lastUsed(oldest!)).toEqual(touched);

    const fresh = await speak(isolated.db, await presetVoice(), "새 문장이에요.", "wav");
    const left = await isolated.db.select({ key: audioClips.key, size: audioClips.sizeBytes }).from(audioClips);
    expect(left.map((clip) => clip.key).sort()).toEqual([fresh.key, oldest!, newest!].sort());
    const total = left.reduce((sum, clip) => sum + clip.size, 0);
    expect(total).toBeLessThanOrEqual(CAP_BYTES * 0.9);
    expect((await serve(middle!)).status).toBe(404);
  });

  it("stores each clip's size, and keeps everything while the total is under the cap", async () => {
    await emptyCache();
    const voice = await presetVoice();
    const spoken = [];
    for (const text of ["하나예요.", "둘이에요.", "셋이에요."]) spoken.push(await speak(isolated.db, voice, text, "wav"));
    const rows = await isolated.db
      .select({ size: audioClips.sizeBytes, length: raw<number>`length(${audioClips.bytes})` })
      .from(audioClips)
      .where(inArray(audioClips.key, spoken.map((clip) => clip.key)));
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row.size).toBe(Number(row.length));
  });
});

describe("a reply whose clips were evicted", () => {
  it("downloads all the same: the missing sentences are spoken again from their text", async () => {
    const user = await createUser(isolated.db);
    const session = await new SessionModel(isolated.db, user.id).create({ characterId: "preset-aria" });
    const [aria] = await isolated.db.select().from(characters).where(eq(characters.id, "preset-aria"));
    const voice = (await speakingVoice(isolated.db, aria!.voiceId))!;
    const kept = await speak(isolated.db, voice, "남아 있는 문장이에요.", "wav");
    const evicted = await speak(isolated.db, voice, "지워진 문장이에요.", "wav");
    await isolated.db.delete(audioClips).where(eq(audioClips.key, evicted.key));
    const [reply] = await isolated.db
      .insert(messages)
      .values({
        sessionId: session.id,
        role: "assistant",
        content: "남아 있는 문장이에요. 지워진 문장이에요.",
        audio: [
          { index: 0, text: "남아 있는 문장이에요.", url: kept.url },
          { index: 1, text: "지워진 문장이에요.", url: evicted.url },
        ],
      })
      .returning();
    sovits.reset();

    const file = await replyAudio(isolated.db, user.id, reply!.id);
    expect(ttsTexts()).toEqual(["지워진 문장이에요."]);
    const again = await speak(isolated.db, voice, "지워진 문장이에요.", "wav");
    const clips = await isolated.db.select().from(audioClips).where(inArray(audioClips.key, [kept.key, again.key]));
    const bytesOf = (key: string) => clips.find((clip) => clip.key === key)!.bytes;
    expect(again.cached).toBe(true);
    const expected = joinWavs([bytesOf(kept.key), bytesOf(again.key)])!;
    expect(file.bytes.length).toBe(expected.length);
    expect(file.bytes.equals(expected)).toBe(true);
  });
});
