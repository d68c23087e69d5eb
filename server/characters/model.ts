import { and, asc, eq, isNull, or, type SQL } from "drizzle-orm";
import type { Database } from "@/server/db";
import { characters } from "@/server/db/schema";
import { notFound } from "@/server/errors";

/** What `userId` may see: presets, public characters, and their own. */
export function visibleTo(userId: string | null): SQL {
  const shared = or(isNull(characters.ownerId), eq(characters.visibility, "public"))!;
  return userId ? or(shared, eq(characters.ownerId, userId))! : shared;
}

/**
 * Character reads for one viewer (null = signed out). Another user's private character is
 * simply not found, so its id leaks nothing.
 */
export class CharacterModel {
  constructor(
    private readonly db: Database,
    private readonly viewerId: string | null,
  ) {}

  async listPresets() {
    return this.db
      .select()
      .from(characters)
      .where(isNull(characters.ownerId))
      .orderBy(asc(characters.createdAt), asc(characters.id));
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
}
