import { readFile } from "node:fs/promises";
import { downloadName } from "@/server/chats/download";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import { idSchema, voiceInputSchema } from "@/lib/schemas";
import { buildCardV3, exportCardJson, exportCardPng, parseCardFile, parseCardJson, type CardVoice } from "@/server/cards/card";
import { CHARX_CONTENT_TYPE, isCharx, packCharx, unpackCharx } from "@/server/cards/charx";
import { validateAvatarModel } from "@/server/avatars/gltf";
import { avatarModelFor, storeAvatarModel } from "@/server/avatars/models";
import { toPng } from "@/server/images/process";
import type { Database, Queryable } from "@/server/db";
import { characters, images, type Character, type Voice } from "@/server/db/schema";
import { DomainError } from "@/server/errors";
import { preparePortrait, type PreparedImage } from "@/server/images/process";
import { VoiceModel } from "@/server/voices/model";
import { CharacterModel } from "./model";

const DEFAULT_PORTRAIT = "/characters/default.png";

/** Stores a checked, re-encoded portrait; the same picture uploaded twice is stored once. */
export async function uploadPortrait(db: Queryable, ownerId: string, bytes: Buffer) {
  return storePortrait(db, ownerId, await preparePortrait(bytes));
}

async function storePortrait(db: Queryable, ownerId: string, portrait: PreparedImage) {
  const [existing] = await db
    .select({ id: images.id })
    .from(images)
    .where(and(eq(images.ownerId, ownerId), eq(images.sha256, portrait.sha256)))
    .limit(1);
  const id =
    existing?.id ??
    (
      await db
        .insert(images)
        .values({ ownerId, contentType: portrait.contentType, sha256: portrait.sha256, bytes: portrait.bytes })
        .returning({ id: images.id })
    )[0]!.id;
  return { imageId: id, imageUrl: `/api/images/${id}`, width: portrait.width, height: portrait.height };
}

/**
 * The card's voice: one the user can already use, or a new voice of theirs made from the card. A
 * voice that can't be used here is left out and the character comes without it. Runs inside the
 * import's transaction, where a failed statement would spoil the rest: only well-formed ids are
 * looked up, and only the checks made before any statement (bad_input) are caught.
 */
async function voiceForImport(voices: VoiceModel, voice: CardVoice | null): Promise<string | null> {
  if (!voice) return null;
  const known = idSchema.safeParse(voice.id).success ? await voices.get(voice.id).catch(() => null) : null;
  if (known) return known.id;
  const parsed = voiceInputSchema.safeParse({
    name: voice.name,
    refAudioPath: voice.refAudioPath,
    promptText: voice.promptText,
    promptLang: voice.promptLang,
    params: voice.params,
  });
  if (!parsed.success) return null;
  return voices.create(parsed.data).then(
    (created) => created.id,
    (error: unknown) => {
      if (error instanceof DomainError && error.code === "bad_input") return null;
      throw error;
    },
  );
}

/**
 * A card file (PNG or JSON, V1/V2/V3) becomes a new private character. Everything is checked
 * before anything is written, and the writes (a new voice, the portrait, the character) are one
 * transaction, so a card that fails anywhere leaves nothing behind.
 */
export async function importCharacterCard(db: Database, userId: string, bytes: Buffer) {
  const { character, portrait, model } = readCardFile(bytes);
  // Decoding the picture and validating the model are the slow parts: done before the transaction opens.
  const prepared = portrait ? await preparePortrait(portrait) : null;
  const avatar = model ? { bytes: model, validated: await validateAvatarModel(model) } : null;
  const { extensions, cardExtras, voice, ...fields } = character;
  return db.transaction(async (tx) => {
    const voiceId = await voiceForImport(new VoiceModel(tx, userId), voice);
    const image = prepared ? await storePortrait(tx, userId, prepared) : null;
    const created = await new CharacterModel(tx, userId).create(
      { ...fields, voiceId, visibility: "private", imageId: image?.imageId ?? null },
      { extensions, cardExtras },
    );
    if (!avatar) return created;
    const avatarModelId = await storeAvatarModel(tx, userId, avatar.validated, avatar.bytes);
    await tx.update(characters).set({ avatarModelId }).where(eq(characters.id, created.id));
    return { ...created, avatarModelId };
  });
}

/** A PNG/JSON card, or a .charx with its portrait and 3D model (the archive's own asset paths are dropped from the kept extras). */
function readCardFile(bytes: Buffer) {
  if (!isCharx(bytes)) return { ...parseCardFile(bytes), model: null };
  const { cardJson, portrait, model } = unpackCharx(bytes);
  const character = parseCardJson(cardJson);
  const assets = character.cardExtras.assets;
  if (Array.isArray(assets)) {
    const kept = assets.filter((asset: unknown) => !(typeof asset === "object" && asset !== null && String((asset as { uri?: unknown }).uri).startsWith("embeded://")));
    const { assets: _dropped, ...rest } = character.cardExtras;
    character.cardExtras = kept.length > 0 ? { ...rest, assets: kept } : rest;
  }
  return { character, portrait, model };
}

async function portraitBytes(db: Database, imageUrl: string | null): Promise<Buffer> {
  const url = imageUrl ?? DEFAULT_PORTRAIT;
  const uploaded = url.match(/^\/api\/images\/([\w-]+)$/);
  if (uploaded) {
    const [row] = await db.select({ bytes: images.bytes }).from(images).where(eq(images.id, uploaded[1]!)).limit(1);
    if (row) return row.bytes;
  }
  // Presets keep their portraits in public/; `url` came from our own seed data, never from a user.
  const file = path.join(process.cwd(), "public", path.normalize(url.startsWith("/api/") ? DEFAULT_PORTRAIT : url));
  return readFile(file);
}

function cardVoice(voice: Voice | null): CardVoice | null {
  if (!voice) return null;
  return {
    id: voice.id,
    name: voice.name,
    refAudioPath: voice.refAudioPath,
    promptText: voice.promptText,
    promptLang: voice.promptLang,
    params: voice.params,
  };
}

/** The character's name and the time of the export, so two exports of a day don't overwrite each other. */
function fileName(character: Character, extension: string) {
  return downloadName([character.name || "character"], new Date(), extension);
}

/**
 * Any character the viewer can see, as a PNG card (portrait + V2 and V3 chunks), V3 JSON, or a
 * CharX zip carrying the portrait and the 3D avatar (only a model the viewer may load).
 */
export async function exportCharacterCard(db: Database, viewerId: string | null, id: string, format: "png" | "json" | "charx") {
  const character = await new CharacterModel(db, viewerId).get(id);
  const voice = character.voiceId ? await new VoiceModel(db, viewerId).get(character.voiceId).catch(() => null) : null;
  const exportable = { ...character, voice: cardVoice(voice) };
  if (format === "charx") {
    const model = character.avatarModelId ? await avatarModelFor(db, viewerId, character.avatarModelId) : null;
    const charx = packCharx({
      card: buildCardV3(exportable),
      portraitPng: character.imageUrl ? await toPng(await portraitBytes(db, character.imageUrl)) : null,
      model: model && { bytes: model.bytes, format: model.format },
    });
    return { fileName: fileName(character, "charx"), contentType: CHARX_CONTENT_TYPE, dataBase64: charx.toString("base64") };
  }
  if (format === "json") {
    const json = exportCardJson(exportable);
    return { fileName: fileName(character, "json"), contentType: "application/json", dataBase64: Buffer.from(json, "utf8").toString("base64") };
  }
  const png = await exportCardPng(exportable, await portraitBytes(db, character.imageUrl));
  return { fileName: fileName(character, "png"), contentType: "image/png", dataBase64: png.toString("base64") };
}
