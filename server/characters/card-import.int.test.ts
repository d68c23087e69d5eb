import { and, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import { base64Json, cardPng, fullV2Card } from "@/server/cards/test-cards";
import { characters, images, voices } from "@/server/db/schema";
import { importCharacterCard } from "./cards";

const { db, sql } = testDatabase();

// Fails the insert of a character with this name only, the way a constraint or a lost connection
// would at that moment; every other test file using the database is untouched.
const DOOMED = `실패할 카드 ${crypto.randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  await sql.unsafe(`
    create or replace function af_test_fail_doomed_character() returns trigger language plpgsql as $$
    begin
      if new.name = '${DOOMED}' then raise exception 'the character insert failed'; end if;
      return new;
    end $$;
    create trigger af_test_fail_doomed_character before insert on characters
      for each row execute function af_test_fail_doomed_character();`);
});
afterAll(async () => {
  await sql.unsafe(`drop trigger if exists af_test_fail_doomed_character on characters;
    drop function if exists af_test_fail_doomed_character();`);
  await sql.end();
});

/** A PNG card (so it brings a portrait) with a voice the importer does not have yet. */
function cardWithNewVoice(name: string, voiceChanges: { id?: string; refAudioPath?: string } = {}) {
  const card = fullV2Card();
  card.data.name = name;
  const voice = {
    id: crypto.randomUUID(),
    name: "카드의 목소리",
    refAudioPath: "presets/card-voice.wav",
    promptText: "안녕하세요.",
    promptLang: "ko",
    params: {},
    ...voiceChanges,
  };
  Object.assign(card.data.extensions, { avatarforge: { voice } });
  return cardPng([{ keyword: "chara", text: base64Json(card) }]);
}

async function ownedRows(userId: string) {
  const [voiceRows] = await db.select({ n: count() }).from(voices).where(eq(voices.ownerId, userId));
  const [imageRows] = await db.select({ n: count() }).from(images).where(eq(images.ownerId, userId));
  const [characterRows] = await db.select({ n: count() }).from(characters).where(eq(characters.ownerId, userId));
  return { voices: voiceRows!.n, images: imageRows!.n, characters: characterRows!.n };
}

describe("importing a character card", () => {
  it("writes the new voice, the portrait and the character together", async () => {
    const user = await createUser(db);
    const imported = await importCharacterCard(db, user.id, await cardWithNewVoice("무사히 들어온 카드"));
    expect(await ownedRows(user.id)).toEqual({ voices: 1, images: 1, characters: 1 });
    const [voice] = await db.select().from(voices).where(and(eq(voices.ownerId, user.id), eq(voices.id, imported.voiceId!)));
    expect(voice?.name).toBe("카드의 목소리");
    expect(imported.imageUrl).toMatch(/^\/api\/images\//);
  });

  it("leaves out a voice that can't be used here, and imports the character without it", async () => {
    const user = await createUser(db);
    const outside = await importCharacterCard(db, user.id, await cardWithNewVoice("밖의 목소리", { refAudioPath: "/etc/passwd" }));
    const oddId = await importCharacterCard(db, user.id, await cardWithNewVoice("이상한 아이디", { id: "목소리 #1", refAudioPath: "/etc/passwd" }));
    expect([outside.voiceId, oddId.voiceId]).toEqual([null, null]);
    expect(await ownedRows(user.id)).toEqual({ voices: 0, images: 1, characters: 2 });
  });

  it("leaves no voice and no image behind when the character cannot be stored", async () => {
    const user = await createUser(db);
    const before = await ownedRows(user.id);
    await expect(importCharacterCard(db, user.id, await cardWithNewVoice(DOOMED))).rejects.toThrow();
    expect(await ownedRows(user.id)).toEqual(before);
    expect(before).toEqual({ voices: 0, images: 0, characters: 0 });
  });
});
