// "Bring your own avatar": validated VRM/GLB models (`avatar_models`) attached to characters
// (`characters.avatarModelId`). Only a character's owner attaches or removes; the bytes are
// served to whoever may see a character that uses them (like portraits), everyone else gets
// "not found".
import { and, eq, exists, notExists, or, sql } from "drizzle-orm";
import type { Database, Queryable } from "@/server/db";
import { avatarModels, characters } from "@/server/db/schema";
import { visibleTo } from "@/server/characters/model";
import { DomainError, notFound } from "@/server/errors";
import { validateAvatarModel, type AvatarFormat, type ValidatedAvatarModel, type VrmVersion } from "./gltf";

export interface AvatarInfo {
  id: string;
  /** Where the bytes are served (immutable: a new model gets a new id). */
  url: string;
  format: AvatarFormat;
  vrmVersion: VrmVersion | null;
  triangles: number;
  byteSize: number;
}

export const avatarUrl = (id: string) => `/api/avatars/${id}`;

/** A character the viewer owns (another user's private one is not found; presets and others' public ones are forbidden). */
async function ownCharacter(db: Queryable, userId: string, characterId: string) {
  const [character] = await db
    .select({ id: characters.id, ownerId: characters.ownerId, avatarModelId: characters.avatarModelId })
    .from(characters)
    .where(and(eq(characters.id, characterId), visibleTo(userId)))
    .limit(1);
  if (!character) throw notFound("Character");
  if (character.ownerId !== userId) {
    throw new DomainError("forbidden", character.ownerId === null ? "Preset characters cannot be changed." : "Only the owner can change this character.");
  }
  return character;
}

/** Deletes a model nothing uses any more (no character, deleted ones included, points at it). */
export async function deleteAvatarModelIfUnused(db: Queryable, modelId: string): Promise<boolean> {
  const deleted = await db
    .delete(avatarModels)
    .where(
      and(
        eq(avatarModels.id, modelId),
        notExists(db.select({ id: characters.id }).from(characters).where(eq(characters.avatarModelId, modelId))),
      ),
    )
    .returning({ id: avatarModels.id });
  return deleted.length > 0;
}

/**
 * Validates an uploaded VRM/GLB (nothing is written when it fails) and makes it the character's
 * avatar; the model it replaces is deleted when nothing else uses it. The same file uploaded
 * again by the same user reuses its row.
 */
export async function uploadAvatarModel(db: Database, userId: string, characterId: string, bytes: Uint8Array): Promise<AvatarInfo> {
  await ownCharacter(db, userId, characterId);
  const model = await validateAvatarModel(bytes);
  return db.transaction(async (tx) => {
    const character = await lockOwnCharacter(tx, userId, characterId);
    const id = await storeAvatarModel(tx, userId, model, bytes);
    await tx.update(characters).set({ avatarModelId: id, updatedAt: sql`now()` }).where(eq(characters.id, characterId));
    if (character.avatarModelId && character.avatarModelId !== id) await deleteAvatarModelIfUnused(tx, character.avatarModelId);
    return { id, url: avatarUrl(id), format: model.format, vrmVersion: model.vrmVersion, triangles: model.triangles, byteSize: model.byteSize };
  });
}

/** Stores a validated model as the user's, uploaded or generated (the same file stored again by the same user reuses its row); its id. */
export async function storeAvatarModel(
  db: Queryable,
  userId: string,
  model: ValidatedAvatarModel,
  bytes: Uint8Array,
  source: "upload" | "hunyuan3d" | "trellis" = "upload",
): Promise<string> {
  const [existing] = await db
    .select({ id: avatarModels.id })
    .from(avatarModels)
    .where(and(eq(avatarModels.ownerId, userId), eq(avatarModels.sha256, model.sha256), eq(avatarModels.byteSize, model.byteSize)))
    .limit(1);
  if (existing) return existing.id;
  const [row] = await db
    .insert(avatarModels)
    .values({
      ownerId: userId,
      format: model.format,
      source,
      vrmVersion: model.vrmVersion,
      sha256: model.sha256,
      byteSize: model.byteSize,
      triangles: model.triangles,
      bytes: Buffer.from(bytes),
    })
    .returning({ id: avatarModels.id });
  return row!.id;
}

/** The owner's character, locked: a concurrent upload or removal on it waits for this one. */
async function lockOwnCharacter(tx: Queryable, userId: string, characterId: string) {
  const [character] = await tx
    .select({ avatarModelId: characters.avatarModelId })
    .from(characters)
    .where(and(eq(characters.id, characterId), eq(characters.ownerId, userId)))
    .for("update");
  if (!character) throw notFound("Character");
  return character;
}

/** Detaches the character's avatar (deleting the model when nothing else uses it). */
export async function removeAvatarModel(db: Database, userId: string, characterId: string): Promise<{ removed: boolean }> {
  await ownCharacter(db, userId, characterId);
  return db.transaction(async (tx) => {
    const character = await lockOwnCharacter(tx, userId, characterId);
    if (!character.avatarModelId) return { removed: false };
    await tx.update(characters).set({ avatarModelId: null, updatedAt: sql`now()` }).where(eq(characters.id, characterId));
    await deleteAvatarModelIfUnused(tx, character.avatarModelId);
    return { removed: true };
  });
}

/**
 * A model's bytes, for a viewer (null = signed out) who owns it or may see at least one character
 * that uses it. A private or deleted character's avatar is simply not found, like the character.
 */
export async function avatarModelFor(db: Database, viewerId: string | null, modelId: string) {
  const usedByVisibleCharacter = exists(
    db
      .select({ id: characters.id })
      .from(characters)
      .where(and(eq(characters.avatarModelId, modelId), visibleTo(viewerId))),
  );
  const [model] = await db
    .select({ bytes: avatarModels.bytes, sha256: avatarModels.sha256, format: avatarModels.format })
    .from(avatarModels)
    .where(and(eq(avatarModels.id, modelId), or(viewerId ? eq(avatarModels.ownerId, viewerId) : undefined, usedByVisibleCharacter)))
    .limit(1);
  return model ?? null;
}
