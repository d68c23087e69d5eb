// A character's own files from its card (character_assets): emotion sprites, backgrounds, user
// icons, RisuAI's `x-risu-asset`s and other files, `x_meta/*.json` and `module.risum`. Stored
// byte for byte when a card is imported, shown on the character page (emotions and backgrounds),
// served with the character's visibility, copied with the character, written back on export.
import { and, asc, eq, sql } from "drizzle-orm";
import type { CheckedCardFile } from "@/server/cards/assets";
import type { ExportFile } from "@/server/cards/card";
import type { Database, Queryable } from "@/server/db";
import { characterAssets, characters } from "@/server/db/schema";
import { CharacterModel, visibleTo } from "./model";

/** Rows per insert: a card's files can run to tens of MB, sent a few at a time. */
const INSERT_BATCH = 8;

/** Stores a card's checked files for a new character (inside the import's transaction). */
export async function storeCharacterAssets(db: Queryable, characterId: string, files: readonly CheckedCardFile[]) {
  for (let i = 0; i < files.length; i += INSERT_BATCH) {
    await db.insert(characterAssets).values(
      files.slice(i, i + INSERT_BATCH).map((file) => ({
        characterId,
        kind: file.kind,
        type: file.kind === "asset" ? file.type : null,
        name: file.name,
        ext: file.ext,
        path: file.path,
        position: file.position,
        contentType: file.contentType,
        byteSize: file.bytes.length,
        sha256: file.sha256,
        bytes: file.bytes,
      })),
    );
  }
}

/** A copy of a character gets its files too (copied inside the database, never through the app). */
export async function copyCharacterAssets(db: Queryable, fromId: string, toId: string) {
  await db.execute(sql`
    insert into ${characterAssets} (id, character_id, kind, type, name, ext, path, position, content_type, byte_size, sha256, bytes)
    select gen_random_uuid()::text, ${toId}, kind, type, name, ext, path, position, content_type, byte_size, sha256, bytes
    from ${characterAssets} where character_id = ${fromId}`);
}

/** A deleted character's files are gone with it (its row stays for the chats that used it). */
export async function deleteCharacterAssets(db: Queryable, characterId: string) {
  await db.delete(characterAssets).where(eq(characterAssets.characterId, characterId));
}

export const isPicture = (contentType: string) => contentType.startsWith("image/");

export interface CharacterAssetSummary {
  id: string;
  type: string;
  name: string;
  ext: string;
  url: string;
  isImage: boolean;
  byteSize: number;
}

export interface CharacterFiles {
  /** expression sprites, in the card's order */
  emotions: CharacterAssetSummary[];
  backgrounds: CharacterAssetSummary[];
  /** user icons, x-risu-assets and other files */
  others: CharacterAssetSummary[];
  /** RisuAI's module (regex scripts, triggers) is carried */
  hasModule: boolean;
  xMetaCount: number;
}

/**
 * What files a character the viewer may see carries, without their bytes (another's private or a
 * deleted character is not found, as by characters.get). Only named assets get a URL; x_meta and
 * the module are only ever written back on export.
 */
export async function characterFilesFor(db: Database, viewerId: string | null, characterId: string): Promise<CharacterFiles> {
  await new CharacterModel(db, viewerId).get(characterId);
  const rows = await db
    .select({
      id: characterAssets.id,
      kind: characterAssets.kind,
      type: characterAssets.type,
      name: characterAssets.name,
      ext: characterAssets.ext,
      contentType: characterAssets.contentType,
      byteSize: characterAssets.byteSize,
    })
    .from(characterAssets)
    .innerJoin(characters, eq(characters.id, characterAssets.characterId))
    .where(and(eq(characterAssets.characterId, characterId), visibleTo(viewerId)))
    .orderBy(asc(characterAssets.kind), asc(characterAssets.position), asc(characterAssets.createdAt));
  const files: CharacterFiles = { emotions: [], backgrounds: [], others: [], hasModule: false, xMetaCount: 0 };
  for (const row of rows) {
    if (row.kind === "module") files.hasModule = true;
    else if (row.kind === "x_meta") files.xMetaCount++;
    else {
      const summary: CharacterAssetSummary = {
        id: row.id,
        type: row.type ?? "other",
        name: row.name,
        ext: row.ext,
        url: `/api/assets/${row.id}`,
        isImage: isPicture(row.contentType),
        byteSize: row.byteSize,
      };
      if (summary.type === "emotion" && summary.isImage) files.emotions.push(summary);
      else if (summary.type === "background" && summary.isImage) files.backgrounds.push(summary);
      else files.others.push(summary);
    }
  }
  return files;
}

/** One named asset's bytes, for a viewer who may see its character (null otherwise: the route answers 404). */
export async function characterAssetFor(db: Database, viewerId: string | null, assetId: string) {
  const [row] = await db
    .select({
      bytes: characterAssets.bytes,
      contentType: characterAssets.contentType,
      sha256: characterAssets.sha256,
      name: characterAssets.name,
      ext: characterAssets.ext,
    })
    .from(characterAssets)
    .innerJoin(characters, eq(characters.id, characterAssets.characterId))
    .where(and(eq(characterAssets.id, assetId), eq(characterAssets.kind, "asset"), visibleTo(viewerId)))
    .limit(1);
  return row ?? null;
}

/** Every file of a character, with its bytes and where it sat, in the card's order (the caller checked the character is visible). */
export async function characterFilesForExport(db: Queryable, characterId: string): Promise<(ExportFile & { path: string })[]> {
  const rows = await db
    .select({
      kind: characterAssets.kind,
      type: characterAssets.type,
      name: characterAssets.name,
      ext: characterAssets.ext,
      path: characterAssets.path,
      contentType: characterAssets.contentType,
      bytes: characterAssets.bytes,
    })
    .from(characterAssets)
    .where(eq(characterAssets.characterId, characterId))
    .orderBy(asc(characterAssets.kind), asc(characterAssets.position), asc(characterAssets.createdAt));
  return rows;
}
