import { and, asc, eq, inArray, isNull, like, ne, or, sql } from "drizzle-orm";
import type { UserDefaults } from "@/lib/schemas";
import type { Database, Queryable } from "@/server/db";
import {
  accounts,
  apiTokens,
  audioClips,
  authSessions,
  avatarModels,
  characters,
  chatSessions,
  generationSlots,
  images,
  llmQueue,
  messages,
  personas,
  rateLimits,
  replyQuotas,
  users,
  verificationTokens,
  voices,
} from "@/server/db/schema";
import { DomainError, notFound } from "@/server/errors";

// ---------------------------------------------------------------------------------------------
// Per-user defaults (Settings): new chats start with them, and the UI language follows the user.
// ---------------------------------------------------------------------------------------------

export async function getDefaults(db: Queryable, userId: string): Promise<UserDefaults> {
  const [row] = await db.select({ defaults: users.defaults }).from(users).where(eq(users.id, userId)).limit(1);
  if (!row) throw notFound("Account");
  return row.defaults ?? {};
}

/** Replaces the defaults: a field left out follows the app's default again. */
export async function setDefaults(db: Queryable, userId: string, defaults: UserDefaults): Promise<UserDefaults> {
  const clean = Object.fromEntries(Object.entries(defaults).filter(([, v]) => v !== undefined)) as UserDefaults;
  const [row] = await db.update(users).set({ defaults: clean }).where(eq(users.id, userId)).returning({ defaults: users.defaults });
  if (!row) throw notFound("Account");
  return row.defaults;
}

/** What a new chat of the user starts with, unless the caller says otherwise: their defaults and default persona. */
export async function newChatDefaults(db: Queryable, userId: string) {
  const [row] = await db
    .select({ defaults: users.defaults, personaId: personas.id })
    .from(users)
    .leftJoin(personas, and(eq(personas.userId, users.id), eq(personas.isDefault, true)))
    .where(eq(users.id, userId))
    .limit(1);
  const d = row?.defaults ?? {};
  return {
    model: d.model,
    settings: {
      ...(d.temperature !== undefined ? { temperature: d.temperature } : {}),
      ...(d.maxTokens !== undefined ? { maxTokens: d.maxTokens } : {}),
      ...(d.ttsMode !== undefined ? { ttsMode: d.ttsMode } : {}),
    },
    personaId: row?.personaId ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// Export all my data
// ---------------------------------------------------------------------------------------------

/**
 * Everything of the user's, as one JSON document: the profile, characters (their fields),
 * chats with every message (alternatives included), voices (metadata), personas and API token
 * names. Never a token's hash, nor anything of another user's.
 */
export async function exportAccount(db: Queryable, userId: string) {
  const [user] = await db
    .select({ id: users.id, name: users.name, email: users.email, image: users.image, defaults: users.defaults, createdAt: users.createdAt })
    .from(users)
    .where(eq(users.id, userId))
    .limit(1);
  if (!user) throw notFound("Account");
  const [ownCharacters, ownVoices, ownPersonas, tokens, chats] = await Promise.all([
    db
      .select({
        id: characters.id,
        name: characters.name,
        description: characters.description,
        persona: characters.persona,
        personality: characters.personality,
        creatorNotes: characters.creatorNotes,
        greeting: characters.greeting,
        alternateGreetings: characters.alternateGreetings,
        exampleDialogue: characters.exampleDialogue,
        scenario: characters.scenario,
        systemPrompt: characters.systemPrompt,
        lorebook: characters.lorebook,
        category: characters.category,
        tags: characters.tags,
        imageUrl: characters.imageUrl,
        visibility: characters.visibility,
        voiceId: characters.voiceId,
        createdAt: characters.createdAt,
        updatedAt: characters.updatedAt,
      })
      .from(characters)
      .where(and(eq(characters.ownerId, userId), isNull(characters.deletedAt)))
      .orderBy(asc(characters.createdAt)),
    db
      .select({
        id: voices.id,
        name: voices.name,
        description: voices.description,
        refAudioPath: voices.refAudioPath,
        promptText: voices.promptText,
        promptLang: voices.promptLang,
        auxRefAudioPaths: voices.auxRefAudioPaths,
        params: voices.params,
        createdAt: voices.createdAt,
      })
      .from(voices)
      .where(eq(voices.ownerId, userId))
      .orderBy(asc(voices.createdAt)),
    db
      .select({ id: personas.id, name: personas.name, description: personas.description, imageUrl: personas.imageUrl, isDefault: personas.isDefault, createdAt: personas.createdAt })
      .from(personas)
      .where(eq(personas.userId, userId))
      .orderBy(asc(personas.createdAt)),
    db
      .select({ name: apiTokens.name, prefix: apiTokens.prefix, createdAt: apiTokens.createdAt, lastUsedAt: apiTokens.lastUsedAt })
      .from(apiTokens)
      .where(eq(apiTokens.userId, userId))
      .orderBy(asc(apiTokens.createdAt)),
    db
      .select({
        id: chatSessions.id,
        title: chatSessions.title,
        characterId: chatSessions.characterId,
        characterName: sql<string>`coalesce(${chatSessions.characterSnapshot} ->> 'name', '')`,
        personaId: chatSessions.personaId,
        model: chatSessions.model,
        settings: chatSessions.settings,
        scenario: chatSessions.scenario,
        summary: chatSessions.summary,
        authorNote: chatSessions.authorNote,
        createdAt: chatSessions.createdAt,
        lastMessageAt: chatSessions.lastMessageAt,
      })
      .from(chatSessions)
      .where(eq(chatSessions.userId, userId))
      .orderBy(asc(chatSessions.createdAt)),
  ]);
  const chatIds = chats.map((c) => c.id);
  const allMessages = chatIds.length
    ? await db
        .select({
          sessionId: messages.sessionId,
          role: messages.role,
          content: messages.content,
          status: messages.status,
          active: messages.active,
          swipeGroup: messages.swipeGroup,
          model: messages.model,
          createdAt: messages.createdAt,
        })
        .from(messages)
        .where(inArray(messages.sessionId, chatIds))
        .orderBy(asc(messages.seq))
    : [];
  return {
    format: "avatar-forge-account",
    version: 1,
    exportedAt: new Date().toISOString(),
    profile: user,
    characters: ownCharacters,
    voices: ownVoices,
    personas: ownPersonas,
    apiTokens: tokens,
    chats: chats.map((chat) => ({
      ...chat,
      messages: allMessages.filter((m) => m.sessionId === chat.id).map(({ sessionId: _s, ...m }) => m),
    })),
  };
}

/** The advisory lock (hashtext of this) an account's export holds while it is prepared. */
export const accountExportLock = (userId: string) => `account-export:${userId}`;

/**
 * The account export as the download's text, one at a time per account on every app instance: a
 * second request while one is prepared is refused as busy instead of piling up (ten at once made
 * the whole server slow). Read in one read-only snapshot, so the file is consistent. The caller
 * counts it against `budgets.accountExport` first.
 */
export async function exportAccountFile(db: Database, userId: string) {
  return db.transaction(
    async (tx) => {
      const [lock] = await tx.execute<{ locked: boolean }>(sql`select pg_try_advisory_xact_lock(hashtext(${accountExportLock(userId)})) as locked`);
      if (!lock?.locked) {
        throw new DomainError("busy", "Your data is already being exported; try again once that download has finished.", { reason: "export_in_progress" });
      }
      const data = await exportAccount(tx, userId);
      return { name: data.profile.name, text: JSON.stringify(data, null, 2) };
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
}

// ---------------------------------------------------------------------------------------------
// Delete my account
// ---------------------------------------------------------------------------------------------

/**
 * A character of the deleted user that other users still chat with can't go (their chats need a
 * row to point at): it becomes an empty, deleted tombstone owned by this placeholder account —
 * which has no email and can't sign in — and those chats go on with the snapshot they keep.
 */
export const DELETED_ACCOUNT_ID = "deleted-account";

async function tombstoneOwner(tx: Queryable) {
  await tx.insert(users).values({ id: DELETED_ACCOUNT_ID, name: null, email: null }).onConflictDoNothing();
  return DELETED_ACCOUNT_ID;
}

const audioKeyOf = (url: string) => /^\/api\/audio\/([A-Za-z0-9_-]{1,128})$/.exec(url)?.[1] ?? null;

/**
 * Removes every row of the user: characters, chats and messages, voices, personas, uploaded
 * images, API tokens, sign-in rows and sessions, quotas, queue entries and rate-limit counters —
 * and the cached speech of their replies that no remaining message uses. Other users' chats with
 * the user's shared characters keep working (see DELETED_ACCOUNT_ID); portraits and 3D avatars
 * other users' characters still show (copies of a public character) are kept, owned by no one
 * (served while such a character is visible, deleted with the last character using them).
 */
export async function deleteAccount(db: Database, userId: string) {
  if (userId === DELETED_ACCOUNT_ID) throw notFound("Account");
  return db.transaction(async (tx) => {
    const [user] = await tx.select({ id: users.id, email: users.email }).from(users).where(eq(users.id, userId)).for("update").limit(1);
    if (!user) throw notFound("Account");

    // Speech of the user's replies: the keys, to drop the clips nothing else uses once the messages are gone.
    const spoken = await tx
      .select({ audio: messages.audio })
      .from(messages)
      .innerJoin(chatSessions, eq(chatSessions.id, messages.sessionId))
      .where(eq(chatSessions.userId, userId));
    const audioKeys = [...new Set(spoken.flatMap((m) => m.audio.map((clip) => audioKeyOf(clip.url)).filter((k): k is string => k !== null)))];

    // Characters other users still chat with become tombstones; their chats use the snapshot.
    const ownCharacterIds = (await tx.select({ id: characters.id }).from(characters).where(eq(characters.ownerId, userId))).map((c) => c.id);
    const stillUsed = ownCharacterIds.length
      ? (
          await tx
            .selectDistinct({ id: chatSessions.characterId })
            .from(chatSessions)
            .where(and(inArray(chatSessions.characterId, ownCharacterIds), ne(chatSessions.userId, userId)))
        ).map((r) => r.id)
      : [];
    if (stillUsed.length) {
      const owner = await tombstoneOwner(tx);
      await tx
        .update(characters)
        .set({
          ownerId: owner,
          name: "",
          persona: "",
          personality: "",
          description: "",
          creatorNotes: "",
          lorebook: { scanDepth: 4, tokenBudget: 512, entries: [] },
          greeting: "",
          alternateGreetings: [],
          exampleDialogue: "",
          scenario: { opponent: "", situation: "", background: "" },
          systemPrompt: "",
          voiceId: null,
          category: "",
          tags: [],
          imageUrl: null,
          avatarModelId: null,
          visibility: "private",
          extensions: {},
          cardExtras: {},
          deletedAt: new Date(),
        })
        .where(inArray(characters.id, stillUsed));
    }

    // Portraits other users' characters show stay, owned by no one (served while such a character is visible).
    const ownImages = await tx.select({ id: images.id }).from(images).where(eq(images.ownerId, userId));
    if (ownImages.length) {
      const urls = ownImages.map((i) => `/api/images/${i.id}`);
      const shown = await tx
        .selectDistinct({ url: characters.imageUrl })
        .from(characters)
        .where(and(inArray(characters.imageUrl, urls), or(isNull(characters.ownerId), ne(characters.ownerId, userId))));
      const keep = shown.map((s) => s.url!.slice("/api/images/".length));
      if (keep.length) await tx.update(images).set({ ownerId: null }).where(inArray(images.id, keep));
    }

    // Likewise the 3D avatars other users' characters use (copies of a public character share the model).
    const keptModels = await tx
      .selectDistinct({ id: avatarModels.id })
      .from(avatarModels)
      .innerJoin(characters, eq(characters.avatarModelId, avatarModels.id))
      .where(and(eq(avatarModels.ownerId, userId), or(isNull(characters.ownerId), ne(characters.ownerId, userId))));
    if (keptModels.length) await tx.update(avatarModels).set({ ownerId: null }).where(inArray(avatarModels.id, keptModels.map((m) => m.id)));

    // Rows that name the user without a foreign key.
    await tx.delete(llmQueue).where(eq(llmQueue.userId, userId));
    await tx.update(generationSlots).set({ messageId: null, instanceId: null, userId: null }).where(eq(generationSlots.userId, userId));
    await tx.delete(rateLimits).where(like(rateLimits.key, `%:user:${userId}`));
    if (user.email) await tx.delete(verificationTokens).where(eq(verificationTokens.identifier, user.email));

    // Everything else goes with the user (foreign keys cascade), explicitly first for clarity.
    await tx.delete(chatSessions).where(eq(chatSessions.userId, userId));
    await tx.delete(personas).where(eq(personas.userId, userId));
    await tx.delete(characters).where(eq(characters.ownerId, userId));
    await tx.delete(voices).where(eq(voices.ownerId, userId));
    await tx.delete(images).where(eq(images.ownerId, userId));
    await tx.delete(avatarModels).where(eq(avatarModels.ownerId, userId));
    await tx.delete(apiTokens).where(eq(apiTokens.userId, userId));
    await tx.delete(replyQuotas).where(eq(replyQuotas.userId, userId));
    await tx.delete(authSessions).where(eq(authSessions.userId, userId));
    await tx.delete(accounts).where(eq(accounts.userId, userId));
    await tx.delete(users).where(eq(users.id, userId));

    // Cached speech only this user's replies used.
    if (audioKeys.length) {
      await tx.execute(sql`
        delete from ${audioClips} c
        where c.key in (${sql.join(audioKeys.map((k) => sql`${k}`), sql`, `)})
          and not exists (
            select 1 from ${messages} m, jsonb_array_elements(m.audio) clip
            where clip ->> 'url' = '/api/audio/' || c.key)`);
    }
    return { deleted: true as const };
  });
}
