import type { Database } from "./client";
import { presetCharacters, presetVoices } from "./presets";
import { characters, voices } from "./schema";

/** Upserts the presets by id, so a new release's wording replaces the old one. */
export async function seedPresets(db: Database) {
  await db.transaction(async (tx) => {
    for (const voice of presetVoices) {
      const values = { ...voice, ownerId: null, auxRefAudioPaths: [] };
      await tx.insert(voices).values(values).onConflictDoUpdate({ target: voices.id, set: values });
    }
    for (const character of presetCharacters) {
      const values = { ...character, ownerId: null, systemPrompt: "", visibility: "public" as const, extensions: {} };
      await tx.insert(characters).values(values).onConflictDoUpdate({ target: characters.id, set: values });
    }
  });
}
