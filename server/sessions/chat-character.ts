import { and, eq, sql, type SQL } from "drizzle-orm";
import { emptyLorebook } from "@/lib/schemas";
import { visibleTo } from "@/server/characters/model";
import type { Database } from "@/server/db";
import { DEFAULT_VOICE_ID } from "@/server/db/presets";
import { characters, chatSessions, personas, type Character, type CharacterSnapshot } from "@/server/db/schema";

/*
 * Which character a chat talks with. A chat follows the live character while its user may still
 * see it (`visibleTo`: presets, public, their own, not deleted). Once the owner makes it private or
 * deletes it, the chat goes on with the snapshot taken when it started — which its user could
 * already read then — so nothing the owner writes afterwards (persona, system prompt, portrait)
 * reaches someone it is no longer shared with. The owner's own deleted character follows the same
 * rule. Every reader of a chat's character (the chat page, the sidebar, the prompt, speech) goes
 * through this module.
 */

/** What a chat keeps of its character when it starts. */
export function snapshotOf(character: Character): CharacterSnapshot {
  return {
    name: character.name,
    description: character.description,
    persona: character.persona,
    personality: character.personality,
    lorebook: character.lorebook,
    greeting: character.greeting,
    exampleDialogue: character.exampleDialogue,
    systemPrompt: character.systemPrompt,
    scenario: character.scenario,
    voiceId: character.voiceId,
    cardExtras: character.cardExtras,
  };
}

/** True while the chat's user may see its character (then the chat uses it as it is now). */
const characterShared = sql<boolean>`(${visibleTo(chatSessions.userId)})`;

export interface ChatCharacter extends CharacterSnapshot {
  id: string;
  /** null while the snapshot is used: the portrait belongs to a character its user may no longer see */
  imageUrl: string | null;
  alternateGreetings: string[];
  /** "live": the character as it is now; "snapshot": as it was when the chat started */
  source: "live" | "snapshot";
  /** its 3D avatar (served like portraits); null without one, and while the snapshot is used */
  avatarUrl: string | null;
}

/** Where an avatar model is served (to whoever may see a character that uses it). */
export const avatarUrlOf = (modelId: string | null) => (modelId ? `/api/avatars/${modelId}` : null);

// Every chat gets a snapshot (at creation, or migration 0008's backfill); were one missing, the
// chat would show nothing rather than fall back to the hidden character.
const emptySnapshot: CharacterSnapshot = {
  name: "",
  description: "",
  persona: "",
  personality: "",
  lorebook: emptyLorebook,
  greeting: "",
  exampleDialogue: "",
  systemPrompt: "",
  scenario: { opponent: "", situation: "", background: "" },
  voiceId: null,
  cardExtras: {},
};

function chatCharacter(live: Character, snapshot: CharacterSnapshot | null, shared: boolean): ChatCharacter {
  if (shared) {
    return { ...snapshotOf(live), id: live.id, imageUrl: live.imageUrl, alternateGreetings: live.alternateGreetings, source: "live", avatarUrl: avatarUrlOf(live.avatarModelId) };
  }
  return { ...emptySnapshot, ...snapshot, ...olderSnapshotFields(snapshot), id: live.id, imageUrl: null, alternateGreetings: [], source: "snapshot", avatarUrl: null };
}

/**
 * Snapshots taken before personality and the lorebook had columns (migration 0017) kept the
 * personality among the card's extra fields; the lorebook they had was never used, and stays so.
 */
function olderSnapshotFields(snapshot: CharacterSnapshot | null): Partial<CharacterSnapshot> {
  if (!snapshot || snapshot.personality !== undefined) return {};
  const personality = snapshot.cardExtras?.personality;
  return { personality: typeof personality === "string" ? personality : "" };
}

/**
 * The chat picked by `where` (callers scope it to a user), with its character as that chat's user
 * may use it, and the voice it speaks with (its own, or the app's default). The snapshot itself
 * stays inside: readers get the one character the rule chose.
 */
export async function findChat(db: Database, where: SQL | undefined) {
  const [row] = await db
    .select({
      session: chatSessions,
      character: characters,
      shared: characterShared,
      persona: { id: personas.id, name: personas.name, description: personas.description, imageUrl: personas.imageUrl },
    })
    .from(chatSessions)
    .innerJoin(characters, eq(characters.id, chatSessions.characterId))
    // The chat's persona comes with it (no extra round trip on a send); only ever the chat user's own.
    .leftJoin(personas, and(eq(personas.id, chatSessions.personaId), eq(personas.userId, chatSessions.userId)))
    .where(where)
    .limit(1);
  if (!row) return null;
  const { characterSnapshot, ...session } = row.session;
  const character = chatCharacter(row.character, characterSnapshot, row.shared);
  return { session, character, persona: row.persona, voiceId: character.voiceId ?? DEFAULT_VOICE_ID };
}

export type ChatView = NonNullable<Awaited<ReturnType<typeof findChat>>>;

/**
 * The same rule as columns, for queries that join chats with characters and need only the name,
 * portrait or voice (chat lists, search results, a reply's download).
 */
export const chatCharacterColumns = {
  name: sql<string>`case when ${characterShared} then ${characters.name} else coalesce(${chatSessions.characterSnapshot} ->> 'name', '') end`,
  imageUrl: sql<string | null>`case when ${characterShared} then ${characters.imageUrl} end`,
  voiceId: sql<string | null>`case when ${characterShared} then ${characters.voiceId} else ${chatSessions.characterSnapshot} ->> 'voiceId' end`,
};
