import { and, asc, count, desc, eq, inArray, lt, or, sql, sum } from "drizzle-orm";
import { env } from "@/lib/env.mjs";
import { defaultSessionSettings, type Scenario, type SessionSettings } from "@/lib/schemas";
import { newChatDefaults } from "@/server/account/data";
import { CharacterModel } from "@/server/characters/model";
import { PersonaModel } from "@/server/personas/model";
import type { Database } from "@/server/db";
import { characters, chatSessions, messages } from "@/server/db/schema";
import { DomainError, notFound } from "@/server/errors";
import { containsPattern, decodeCursor, encodeCursor } from "@/server/db/query-helpers";
import { chatCharacterColumns, findChat, snapshotOf, type ChatCharacter } from "./chat-character";

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

export interface CreateSessionInput {
  characterId: string;
  scenario?: Scenario;
  model?: string;
  settings?: Partial<SessionSettings>;
}

export interface SessionPatch {
  /** who the user plays here (one of their personas), or null for the account's name */
  personaId?: string | null;
  authorNote?: string;
  authorNoteDepth?: number;
  scenario?: Scenario;
  model?: string;
  settings?: Partial<SessionSettings>;
}

const PREVIEW_LENGTH = 120;

/** The greeting opens the chat; the card's alternate greetings are its other "swipes". */
async function insertGreetings(tx: Tx, sessionId: string, character: Pick<ChatCharacter, "greeting" | "alternateGreetings">) {
  const greetings = [character.greeting, ...character.alternateGreetings].map((g) => g.trim()).filter(Boolean);
  const [first, ...alternates] = greetings;
  if (!first) return;
  const groupId = crypto.randomUUID();
  await tx.insert(messages).values({ id: groupId, sessionId, role: "assistant", content: first, swipeGroup: alternates.length ? groupId : null });
  for (const content of alternates) {
    await tx.insert(messages).values({ sessionId, role: "assistant", content, swipeGroup: groupId, active: false });
  }
}

/** Chat sessions of one user; every query is scoped to that user by construction. */
export class SessionModel {
  constructor(
    private readonly db: Database,
    private readonly userId: string,
  ) {}

  private owned(id: string) {
    return and(eq(chatSessions.id, id), eq(chatSessions.userId, this.userId));
  }

  async create(input: CreateSessionInput) {
    const character = await new CharacterModel(this.db, this.userId).get(input.characterId);
    // The user's defaults (Settings) and default persona; what the caller gives wins.
    const defaults = await newChatDefaults(this.db, this.userId);
    return this.db.transaction(async (tx) => {
      const [session] = await tx
        .insert(chatSessions)
        .values({
          userId: this.userId,
          characterId: character.id,
          scenario: input.scenario ?? character.scenario,
          model: input.model ?? defaults.model ?? env().OLLAMA_MODEL,
          settings: { ...defaultSessionSettings, ...defaults.settings, ...input.settings },
          characterSnapshot: snapshotOf(character),
          personaId: defaults.personaId,
        })
        .returning();
      await insertGreetings(tx, session!.id, character);
      return session!;
    });
  }

  /**
   * The chat with its character as this user may still see it (live, or the snapshot taken when
   * the chat started; see chat-character.ts) and the voice it speaks with.
   */
  async get(id: string) {
    const chat = await findChat(this.db, this.owned(id));
    if (!chat) throw notFound("Chat");
    return chat;
  }

  /** Most recent first, with the last message as a preview; `cursor` continues a page. */
  async list(options: { cursor?: string | null; limit: number; characterId?: string }) {
    const after = options.cursor ? decodeCursor(options.cursor) : null;
    const lastMessage = sql<string | null>`(
      select left(m.content, ${PREVIEW_LENGTH}) from ${messages} m
      where m.session_id = ${chatSessions.id} and m.active
      order by m.seq desc limit 1)`;
    const rows = await this.db
      .select({
        id: chatSessions.id,
        title: chatSessions.title,
        lastMessageAt: chatSessions.lastMessageAt,
        createdAt: chatSessions.createdAt,
        characterId: characters.id,
        characterName: chatCharacterColumns.name,
        characterImage: chatCharacterColumns.imageUrl,
        preview: lastMessage,
        /** a branch: the chat it was made from (null once that chat is deleted) */
        parentId: chatSessions.parentId,
      })
      .from(chatSessions)
      .innerJoin(characters, eq(characters.id, chatSessions.characterId))
      .where(
        and(
          eq(chatSessions.userId, this.userId),
          options.characterId ? eq(chatSessions.characterId, options.characterId) : undefined,
          after
            ? or(lt(chatSessions.lastMessageAt, after.at), and(eq(chatSessions.lastMessageAt, after.at), lt(chatSessions.id, after.id)))
            : undefined,
        ),
      )
      .orderBy(desc(chatSessions.lastMessageAt), desc(chatSessions.id))
      .limit(options.limit + 1);
    const page = rows.slice(0, options.limit);
    const last = page.at(-1);
    return { items: page, nextCursor: rows.length > options.limit && last ? encodeCursor(last.lastMessageAt, last.id) : null };
  }

  /** A title the user chose is never replaced by a generated one. */
  async rename(id: string, title: string) {
    const [row] = await this.db.update(chatSessions).set({ title, titleSource: "user" }).where(this.owned(id)).returning();
    if (!row) throw notFound("Chat");
    return row;
  }

  async update(id: string, patch: SessionPatch) {
    const { session } = await this.get(id);
    if (patch.personaId) await new PersonaModel(this.db, this.userId).get(patch.personaId);
    const [row] = await this.db
      .update(chatSessions)
      .set({
        ...(patch.personaId !== undefined ? { personaId: patch.personaId } : {}),
        ...(patch.authorNote !== undefined ? { authorNote: patch.authorNote } : {}),
        ...(patch.authorNoteDepth !== undefined ? { authorNoteDepth: patch.authorNoteDepth } : {}),
        ...(patch.scenario ? { scenario: patch.scenario } : {}),
        ...(patch.model ? { model: patch.model } : {}),
        ...(patch.settings ? { settings: { ...session.settings, ...patch.settings } } : {}),
      })
      .where(this.owned(id))
      .returning();
    return row!;
  }

  /** Deletes the chat and all its messages. */
  async delete(id: string) {
    const [row] = await this.db.delete(chatSessions).where(this.owned(id)).returning({ id: chatSessions.id });
    if (!row) throw notFound("Chat");
    return row;
  }

  /** Starts the chat over: every message goes, the summary too; the greeting comes back. */
  async clear(id: string) {
    const { session, character } = await this.get(id);
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select 1 from ${chatSessions} where ${chatSessions.id} = ${session.id} for update`);
      const [writing] = await tx
        .select({ n: count() })
        .from(messages)
        .where(and(eq(messages.sessionId, session.id), eq(messages.status, "streaming")));
      if ((writing?.n ?? 0) > 0) throw new DomainError("reply_in_progress", "Stop the reply before clearing the chat.");
      await tx.delete(messages).where(eq(messages.sessionId, session.id));
      await tx.update(chatSessions).set({ summary: "", summaryThroughSeq: null, lastMessageAt: new Date() }).where(eq(chatSessions.id, session.id));
      await insertGreetings(tx, session.id, character);
      return { id: session.id };
    });
  }

  /**
   * One page of the conversation (active messages only), newest page first, each page in
   * reading order. Messages with alternatives say which one they are and how many there are.
   */
  async messages(sessionId: string, options: { beforeSeq?: number; limit: number }) {
    await this.get(sessionId);
    const rows = await this.db
      .select()
      .from(messages)
      .where(
        and(
          eq(messages.sessionId, sessionId),
          eq(messages.active, true),
          options.beforeSeq === undefined ? undefined : lt(messages.seq, options.beforeSeq),
        ),
      )
      .orderBy(desc(messages.seq))
      .limit(options.limit + 1);
    const hasMore = rows.length > options.limit;
    const page = rows.slice(0, options.limit).reverse();
    const groups = [...new Set(page.map((m) => m.swipeGroup).filter((g): g is string => g !== null))];
    const members = groups.length
      ? await this.db
          .select({ id: messages.id, group: messages.swipeGroup })
          .from(messages)
          .where(inArray(messages.swipeGroup, groups))
          .orderBy(asc(messages.seq))
      : [];
    const withSwipes = page.map((m) => {
      // A message without alternatives is the only one of its kind: 1 of 1.
      const siblings = m.swipeGroup ? members.filter((s) => s.group === m.swipeGroup) : [];
      return siblings.length ? { ...m, swipeIndex: siblings.findIndex((s) => s.id === m.id), swipeCount: siblings.length } : { ...m, swipeIndex: 0, swipeCount: 1 };
    });
    return { messages: withSwipes, nextCursor: hasMore ? (page[0]?.seq ?? null) : null };
  }

  async stats(sessionId: string) {
    const { session } = await this.get(sessionId);
    const rows = await this.db
      .select({
        role: messages.role,
        messages: count(),
        promptTokens: sum(messages.promptTokens).mapWith(Number),
        completionTokens: sum(messages.completionTokens).mapWith(Number),
      })
      .from(messages)
      .where(and(eq(messages.sessionId, sessionId), eq(messages.active, true)))
      .groupBy(messages.role);
    const of = (role: "user" | "assistant") => rows.find((r) => r.role === role);
    return {
      messages: { user: of("user")?.messages ?? 0, assistant: of("assistant")?.messages ?? 0 },
      tokens: {
        prompt: rows.reduce((n, r) => n + (r.promptTokens || 0), 0),
        completion: rows.reduce((n, r) => n + (r.completionTokens || 0), 0),
      },
      createdAt: session.createdAt,
      lastActiveAt: session.lastMessageAt,
      summarized: Boolean(session.summary),
    };
  }

  /** The user's own messages containing `q` (Korean substrings work), newest first. */
  async search(q: string, limit: number) {
    return this.db
      .select({
        messageId: messages.id,
        sessionId: chatSessions.id,
        sessionTitle: chatSessions.title,
        characterName: chatCharacterColumns.name,
        characterImage: chatCharacterColumns.imageUrl,
        role: messages.role,
        content: messages.content,
        createdAt: messages.createdAt,
      })
      .from(messages)
      .innerJoin(chatSessions, eq(chatSessions.id, messages.sessionId))
      .innerJoin(characters, eq(characters.id, chatSessions.characterId))
      .where(
        and(
          eq(chatSessions.userId, this.userId),
          eq(messages.active, true),
          // Finished text only, as the trigram index covers it.
          sql`${messages.status} <> 'streaming'`,
          sql`lower(${messages.content}) like ${containsPattern(q)}`,
        ),
      )
      .orderBy(desc(messages.seq))
      .limit(limit);
  }
}
