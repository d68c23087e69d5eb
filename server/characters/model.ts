import { and, desc, eq, ilike, isNull, isNotNull, lt, or, sql, type AnyColumn, type SQL } from "drizzle-orm";
import type { CharacterInput } from "@/lib/schemas";
import type { Queryable } from "@/server/db";
import { avatarModels, characters, images, voices, type Character } from "@/server/db/schema";
import { DomainError, notFound } from "@/server/errors";
import { containsPattern, decodeCursor, encodeCursor } from "@/server/db/query-helpers";
import { VoiceModel } from "@/server/voices/model";
import { copyCharacterAssets, deleteCharacterAssets } from "./assets";

export type GalleryScope = "all" | "presets" | "mine" | "public";

export interface GalleryQuery {
  scope: GalleryScope;
  q?: string;
  category?: string;
  tag?: string;
  cursor?: string | null;
  limit: number;
}

/** Columns the gallery shows; persona and dialogue stay on the character page. */
const summary = {
  id: characters.id,
  name: characters.name,
  description: characters.description,
  category: characters.category,
  tags: characters.tags,
  imageUrl: characters.imageUrl,
  ownerId: characters.ownerId,
  visibility: characters.visibility,
  createdAt: characters.createdAt,
};
export type CharacterSummary = { [K in keyof typeof summary]: Character[K] };

/**
 * What `viewer` may see: presets, public characters and their own — never deleted ones. The viewer
 * is a user id, or a column holding one (a chat's user, when chats are joined with characters).
 */
export function visibleTo(viewer: string | AnyColumn | null): SQL {
  const shared = or(isNull(characters.ownerId), eq(characters.visibility, "public"))!;
  return and(isNull(characters.deletedAt), viewer ? or(shared, eq(characters.ownerId, viewer))! : shared)!;
}

/**
 * Characters as one viewer (null = signed out) sees them. Another user's private character is
 * simply not found, so its id leaks nothing; presets and others' public characters can be read
 * but not changed.
 */
export class CharacterModel {
  constructor(
    private readonly db: Queryable,
    private readonly viewerId: string | null,
  ) {}

  private requireViewer() {
    if (!this.viewerId) throw new DomainError("forbidden", "Sign in to manage characters.");
    return this.viewerId;
  }

  async listPresets() {
    return this.db
      .select()
      .from(characters)
      .where(and(isNull(characters.ownerId), isNull(characters.deletedAt)))
      .orderBy(characters.createdAt, characters.id);
  }

  async gallery(query: GalleryQuery) {
    const scope: Record<GalleryScope, SQL> = {
      all: visibleTo(this.viewerId),
      presets: and(isNull(characters.ownerId), isNull(characters.deletedAt))!,
      mine: and(eq(characters.ownerId, this.viewerId ?? ""), isNull(characters.deletedAt))!,
      public: and(isNotNull(characters.ownerId), eq(characters.visibility, "public"), isNull(characters.deletedAt))!,
    };
    const after = query.cursor ? decodeCursor(query.cursor) : null;
    const rows = await this.db
      .select(summary)
      .from(characters)
      .where(
        and(
          scope[query.scope],
          query.q ? ilike(characters.searchText, containsPattern(query.q)) : undefined,
          query.category ? eq(characters.category, query.category) : undefined,
          query.tag ? sql`${characters.tags} @> ${JSON.stringify([query.tag])}::jsonb` : undefined,
          after
            ? or(
                lt(characters.createdAt, after.at),
                and(eq(characters.createdAt, after.at), lt(characters.id, after.id)),
              )
            : undefined,
        ),
      )
      .orderBy(desc(characters.createdAt), desc(characters.id))
      .limit(query.limit + 1);
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return { items: page, nextCursor: rows.length > query.limit && last ? encodeCursor(last.createdAt, last.id) : null };
  }

  /** Categories and tags in use among what the viewer can see, most used first. */
  async facets() {
    const visible = visibleTo(this.viewerId);
    const [categoryRows, tagRows] = await Promise.all([
      this.db
        .select({ value: characters.category, count: sql<number>`count(*)::int` })
        .from(characters)
        .where(and(visible, sql`${characters.category} <> ''`))
        .groupBy(characters.category)
        .orderBy(desc(sql`count(*)`), characters.category),
      this.db.execute<{ value: string; count: number }>(
        sql`select tag as value, count(*)::int as count
            from ${characters}, jsonb_array_elements_text(${characters.tags}) as tag
            where ${visible} group by tag order by count(*) desc, tag limit 30`,
      ),
    ]);
    return { categories: categoryRows, tags: [...tagRows] };
  }

  async get(id: string) {
    const [row] = await this.db
      .select()
      .from(characters)
      .where(and(eq(characters.id, id), visibleTo(this.viewerId)))
      .limit(1);
    if (!row) throw notFound("Character");
    return row;
  }

  /**
   * A character with the name of its voice. The name shows even when the voice is someone else's
   * private one (which the viewer cannot open or use), so a character page can always say it.
   */
  async details(id: string) {
    const [row] = await this.db
      .select({
        character: characters,
        voiceName: voices.name,
        avatarId: avatarModels.id,
        avatarFormat: avatarModels.format,
        avatarVrmVersion: avatarModels.vrmVersion,
      })
      .from(characters)
      .leftJoin(voices, eq(voices.id, characters.voiceId))
      .leftJoin(avatarModels, eq(avatarModels.id, characters.avatarModelId))
      .where(and(eq(characters.id, id), visibleTo(this.viewerId)))
      .limit(1);
    if (!row) throw notFound("Character");
    // The 3D avatar: whoever sees the character may load it (/api/avatars/<id>).
    const avatar =
      row.avatarId && row.avatarFormat
        ? { url: `/api/avatars/${row.avatarId}`, format: row.avatarFormat, vrmVersion: row.avatarVrmVersion }
        : null;
    return { ...row.character, voiceName: row.voiceName, avatar };
  }

  /** A character the viewer may change: their own. Presets and others' public ones are FORBIDDEN. */
  private async editable(id: string) {
    const character = await this.get(id);
    if (character.ownerId !== this.requireViewer()) {
      throw new DomainError("forbidden", character.ownerId === null ? "Preset characters cannot be changed." : "Only the owner can change this character.");
    }
    return character;
  }

  /** An uploaded image becomes the portrait only if it is the viewer's own. */
  private async imageUrlFor(imageId: string | null | undefined, current: string | null): Promise<string | null> {
    if (imageId === undefined) return current;
    if (imageId === null) return null;
    const [image] = await this.db
      .select({ id: images.id })
      .from(images)
      .where(and(eq(images.id, imageId), eq(images.ownerId, this.requireViewer())))
      .limit(1);
    if (!image) throw notFound("Image");
    return `/api/images/${image.id}`;
  }

  private async checkVoice(voiceId: string | null | undefined) {
    if (voiceId) await new VoiceModel(this.db, this.viewerId).get(voiceId);
  }

  async create(
    input: CharacterInput & { imageId?: string | null },
    card: { extensions?: Record<string, unknown>; cardExtras?: Record<string, unknown> } = {},
  ) {
    const ownerId = this.requireViewer();
    await this.checkVoice(input.voiceId);
    const { imageId, ...fields } = input;
    const [row] = await this.db
      .insert(characters)
      .values({
        ...fields,
        ownerId,
        imageUrl: await this.imageUrlFor(imageId, null),
        extensions: card.extensions ?? {},
        cardExtras: card.cardExtras ?? {},
      })
      .returning();
    return row!;
  }

  async update(id: string, patch: Partial<CharacterInput> & { imageId?: string | null }) {
    const character = await this.editable(id);
    await this.checkVoice(patch.voiceId);
    const { imageId, ...fields } = patch;
    const [row] = await this.db
      .update(characters)
      .set({ ...fields, imageUrl: await this.imageUrlFor(imageId, character.imageUrl) })
      .where(eq(characters.id, character.id))
      .returning();
    return row!;
  }

  /** A private copy of anything the viewer can see, presets included. */
  async duplicate(id: string, copySuffix: string) {
    const ownerId = this.requireViewer();
    const source = await this.get(id);
    const [row] = await this.db
      .insert(characters)
      .values({
        name: `${source.name} ${copySuffix}`.slice(0, 80),
        persona: source.persona,
        personality: source.personality,
        description: source.description,
        creatorNotes: source.creatorNotes,
        lorebook: source.lorebook,
        greeting: source.greeting,
        alternateGreetings: source.alternateGreetings,
        exampleDialogue: source.exampleDialogue,
        scenario: source.scenario,
        systemPrompt: source.systemPrompt,
        // Someone else's private voice does not travel with a copy.
        voiceId: await this.voiceIfVisible(source.voiceId),
        category: source.category,
        tags: source.tags,
        imageUrl: source.imageUrl,
        // Like the portrait, the 3D avatar is shared with the copy (served while any user of it may see it).
        avatarModelId: source.avatarModelId,
        extensions: source.extensions,
        cardExtras: source.cardExtras,
        ownerId,
        visibility: "private",
      })
      .returning();
    // The files its card carried (emotion sprites, backgrounds, module…) go with the copy.
    await copyCharacterAssets(this.db, source.id, row!.id);
    return row!;
  }

  private async voiceIfVisible(voiceId: string | null) {
    if (!voiceId) return null;
    return new VoiceModel(this.db, this.viewerId).get(voiceId).then(
      (voice) => voice.id,
      () => null,
    );
  }

  /**
   * Hides the character everywhere. Chats that already use it keep working, so deleting a
   * public character never takes away another person's conversation.
   */
  async delete(id: string) {
    const character = await this.editable(id);
    await this.db.update(characters).set({ deletedAt: new Date() }).where(eq(characters.id, character.id));
    // Nobody sees a deleted character's page again: the files its card carried go now.
    await deleteCharacterAssets(this.db, character.id);
    return { id: character.id };
  }
}
