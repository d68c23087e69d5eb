import { and, eq, exists, or } from "drizzle-orm";
import type { Database } from "@/server/db";
import { characters, images } from "@/server/db/schema";
import { visibleTo } from "./model";

/**
 * An uploaded image's bytes, for a viewer (null = signed out) who owns it or may see at least one
 * character that uses it as its portrait. A private or deleted character's portrait is simply not
 * found, like the character itself. Presets' portraits live under /public and never come here.
 */
export async function portraitFor(db: Database, viewerId: string | null, imageId: string) {
  const usedByVisibleCharacter = exists(
    db
      .select({ id: characters.id })
      .from(characters)
      // Characters point at an upload by the URL it is served at (copies share it).
      .where(and(eq(characters.imageUrl, `/api/images/${imageId}`), visibleTo(viewerId))),
  );
  const [image] = await db
    .select({ bytes: images.bytes, contentType: images.contentType, sha256: images.sha256 })
    .from(images)
    .where(and(eq(images.id, imageId), or(viewerId ? eq(images.ownerId, viewerId) : undefined, usedByVisibleCharacter)))
    .limit(1);
  return image ?? null;
}
