import { readFile } from "node:fs/promises";
import { downloadName } from "@/server/chats/download";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import { idSchema, voiceInputSchema } from "@/lib/schemas";
import { checkCardFileTotals, checkCardFiles, type CardFile } from "@/server/cards/assets";
import { buildCardV3, exportCardJson, exportCardPng, parseCardFile, parseCardJson, type CardVoice } from "@/server/cards/card";
import { CHARX_CONTENT_TYPE, endsWithZip, isCharx, isJpeg, packCharx, unpackCharx } from "@/server/cards/charx";
import { cardError } from "@/server/cards/errors";
import { validateAvatarModel } from "@/server/avatars/gltf";
import { avatarModelFor, storeAvatarModel } from "@/server/avatars/models";
import { toPng } from "@/server/images/process";
import type { Database, Queryable } from "@/server/db";
import { characters, images, type Character, type Voice } from "@/server/db/schema";
import { DomainError } from "@/server/errors";
import { preparePortrait, type PreparedImage } from "@/server/images/process";
import { VoiceModel } from "@/server/voices/model";
import { characterFilesForExport, storeCharacterAssets } from "./assets";
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
 * A card file (PNG or JSON, V1/V2/V3, a .charx or a CHARX-JPEG) becomes a new private character
 * with every file it carries. Everything is checked before anything is written, and the writes (a
 * new voice, the portrait, the character, its files) are one transaction, so a card that fails
 * anywhere leaves nothing behind.
 */
export async function importCharacterCard(db: Database, userId: string, bytes: Buffer) {
  const { character, portrait, model, files: carried } = await readCardFile(bytes);
  // Decoding the pictures and validating the model are the slow parts: done before the transaction opens.
  const prepared = portrait ? await preparePortrait(portrait) : null;
  const avatar = model ? { bytes: model, validated: await validateAvatarModel(model) } : null;
  const { extensions, cardExtras, voice, files: linked, ...fields } = character;
  const files = [...carried, ...linked];
  checkCardFileTotals(files, (portrait?.length ?? 0) + (model?.length ?? 0));
  const checkedFiles = await checkCardFiles(files);
  return db.transaction(async (tx) => {
    const voiceId = await voiceForImport(new VoiceModel(tx, userId), voice);
    const image = prepared ? await storePortrait(tx, userId, prepared) : null;
    const created = await new CharacterModel(tx, userId).create(
      { ...fields, voiceId, visibility: "private", imageId: image?.imageId ?? null },
      { extensions, cardExtras },
    );
    await storeCharacterAssets(tx, created.id, checkedFiles);
    if (!avatar) return created;
    const avatarModelId = await storeAvatarModel(tx, userId, avatar.validated, avatar.bytes);
    await tx.update(characters).set({ avatarModelId }).where(eq(characters.id, created.id));
    return { ...created, avatarModelId };
  });
}

/**
 * A PNG/JSON card, or a .charx or CHARX-JPEG (unpacked on the worker pool) with its portrait, 3D
 * model and files. A CHARX-JPEG without an icon has its JPEG for a portrait.
 */
async function readCardFile(bytes: Buffer): Promise<{ character: ReturnType<typeof parseCardJson>; portrait: Buffer | null; model: Buffer | null; files: CardFile[] }> {
  const zipped = isCharx(bytes) || (isJpeg(bytes) && endsWithZip(bytes));
  if (!zipped) {
    if (isJpeg(bytes)) throw cardError("card_not_card_file", "This JPEG has no character card in it.");
    return { ...parseCardFile(bytes), model: null, files: [] };
  }
  const { cardJson, portrait, jpeg, model, files } = await unpackCharx(bytes);
  return { character: parseCardJson(cardJson), portrait: portrait ?? jpeg, model, files };
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
 * Any character the viewer can see, as a PNG card (portrait + V2 and V3 chunks, its files as
 * `chara-ext-asset_:N` chunks), V3 JSON (its files as `data:` URIs), or a CharX zip carrying the
 * portrait (the app's default picture when it has none: RisuAI's importer waits for an icon), the
 * 3D avatar (only a model the viewer may load) and every file the character carries.
 */
export async function exportCharacterCard(db: Database, viewerId: string | null, id: string, format: "png" | "json" | "charx") {
  const character = await new CharacterModel(db, viewerId).get(id);
  const voice = character.voiceId ? await new VoiceModel(db, viewerId).get(character.voiceId).catch(() => null) : null;
  const exportable = { ...character, voice: cardVoice(voice) };
  const files = await characterFilesForExport(db, character.id);
  if (format === "charx") {
    const model = character.avatarModelId ? await avatarModelFor(db, viewerId, character.avatarModelId) : null;
    const charx = packCharx({
      card: buildCardV3(exportable),
      portraitPng: await toPng(await portraitBytes(db, character.imageUrl)),
      model: model && { bytes: model.bytes, format: model.format },
      files,
    });
    return { fileName: fileName(character, "charx"), contentType: CHARX_CONTENT_TYPE, dataBase64: charx.toString("base64") };
  }
  if (format === "json") {
    const json = exportCardJson(exportable, files);
    return { fileName: fileName(character, "json"), contentType: "application/json", dataBase64: Buffer.from(json, "utf8").toString("base64") };
  }
  const png = await exportCardPng(exportable, await portraitBytes(db, character.imageUrl), files);
  return { fileName: fileName(character, "png"), contentType: "image/png", dataBase64: png.toString("base64") };
}
