import { and, asc, count, desc, eq, sql } from "drizzle-orm";
import { PERSONA_LIMITS } from "@/lib/schemas";
import type { Database, Queryable } from "@/server/db";
import { images, personas, users } from "@/server/db/schema";
import { DomainError, notFound } from "@/server/errors";

export interface PersonaInput {
  name: string;
  description?: string;
  /** an uploaded image of the user's (characters.uploadImage); null removes the portrait */
  imageId?: string | null;
  isDefault?: boolean;
}

export type Persona = typeof personas.$inferSelect;

/**
 * Who one user plays in chats. Every query is scoped to that user by construction: another user's
 * persona is simply not found. At most one is the default (the one new chats start with).
 */
export class PersonaModel {
  constructor(
    private readonly db: Database,
    private readonly userId: string,
  ) {}

  private owned(id: string) {
    return and(eq(personas.id, id), eq(personas.userId, this.userId));
  }

  async list() {
    return this.db.select().from(personas).where(eq(personas.userId, this.userId)).orderBy(desc(personas.isDefault), asc(personas.createdAt), asc(personas.id));
  }

  async get(id: string) {
    const [row] = await this.db.select().from(personas).where(this.owned(id)).limit(1);
    if (!row) throw notFound("Persona");
    return row;
  }

  /** The default persona, or null. */
  async defaultPersona() {
    const [row] = await this.db.select().from(personas).where(and(eq(personas.userId, this.userId), eq(personas.isDefault, true))).limit(1);
    return row ?? null;
  }

  private async imageUrlFor(db: Queryable, imageId: string | null | undefined, current: string | null) {
    if (imageId === undefined) return current;
    if (imageId === null) return null;
    const [image] = await db.select({ id: images.id }).from(images).where(and(eq(images.id, imageId), eq(images.ownerId, this.userId))).limit(1);
    if (!image) throw notFound("Image");
    return `/api/images/${image.id}`;
  }

  async create(input: PersonaInput) {
    return this.db.transaction(async (tx) => {
      // One creation at a time per user, so two at once can't both pass the count.
      await tx.execute(sql`select 1 from ${users} where ${users.id} = ${this.userId} for no key update`);
      const [existing] = await tx.select({ n: count() }).from(personas).where(eq(personas.userId, this.userId));
      const n = existing?.n ?? 0;
      if (n >= PERSONA_LIMITS.perUser) {
        throw new DomainError("bad_input", `At most ${PERSONA_LIMITS.perUser} personas. Delete one you no longer use.`, { reason: "persona_limit", limit: PERSONA_LIMITS.perUser });
      }
      const imageUrl = await this.imageUrlFor(tx, input.imageId, null);
      // The first persona becomes the default unless said otherwise.
      const isDefault = input.isDefault ?? n === 0;
      if (isDefault) await tx.update(personas).set({ isDefault: false }).where(and(eq(personas.userId, this.userId), eq(personas.isDefault, true)));
      const [row] = await tx
        .insert(personas)
        .values({ userId: this.userId, name: input.name, description: input.description ?? "", imageUrl, isDefault })
        .returning();
      return row!;
    });
  }

  async update(id: string, patch: Partial<PersonaInput>) {
    return this.db.transaction(async (tx) => {
      const [current] = await tx.select().from(personas).where(this.owned(id)).limit(1).for("update");
      if (!current) throw notFound("Persona");
      const imageUrl = await this.imageUrlFor(tx, patch.imageId, current.imageUrl);
      if (patch.isDefault) await tx.update(personas).set({ isDefault: false }).where(and(eq(personas.userId, this.userId), eq(personas.isDefault, true)));
      const [row] = await tx
        .update(personas)
        .set({
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.description !== undefined ? { description: patch.description } : {}),
          ...(patch.isDefault !== undefined ? { isDefault: patch.isDefault } : {}),
          imageUrl,
        })
        .where(this.owned(id))
        .returning();
      return row!;
    });
  }

  /** Makes the persona the default; null: no default (new chats use the account's name). */
  async setDefault(id: string | null) {
    return this.db.transaction(async (tx) => {
      if (id) {
        const [row] = await tx.select({ id: personas.id }).from(personas).where(this.owned(id)).limit(1);
        if (!row) throw notFound("Persona");
      }
      await tx.update(personas).set({ isDefault: false }).where(and(eq(personas.userId, this.userId), eq(personas.isDefault, true)));
      if (id) await tx.update(personas).set({ isDefault: true }).where(this.owned(id));
      return { id };
    });
  }

  /** Chats that used it go on with the account's name. */
  async delete(id: string) {
    const [row] = await this.db.delete(personas).where(this.owned(id)).returning({ id: personas.id });
    if (!row) throw notFound("Persona");
    return row;
  }
}

/**
 * The name `{{user}}` stands for: in a chat, its persona's (`personaId`; null = the account's
 * name); outside a chat ("default"), the default persona's, else the account's name. Null when
 * there is no name at all (the UI then says "you").
 */
export async function userNameFor(db: Queryable, userId: string, persona: string | null | "default"): Promise<string | null> {
  if (persona) {
    const [row] = await db
      .select({ name: personas.name })
      .from(personas)
      .where(and(eq(personas.userId, userId), persona === "default" ? eq(personas.isDefault, true) : eq(personas.id, persona)))
      .limit(1);
    if (row) return row.name;
  }
  const [user] = await db.select({ name: users.name }).from(users).where(eq(users.id, userId)).limit(1);
  return user?.name?.trim() || null;
}
