import { and, asc, desc, eq, lt } from "drizzle-orm";
import { env } from "@/lib/env.mjs";
import { defaultSessionSettings, type Scenario, type SessionSettings } from "@/lib/schemas";
import { CharacterModel } from "@/server/characters/model";
import type { Database } from "@/server/db";
import { characters, chatSessions, messages } from "@/server/db/schema";
import { notFound } from "@/server/errors";

export interface CreateSessionInput {
  characterId: string;
  scenario?: Scenario;
  model?: string;
  settings?: Partial<SessionSettings>;
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

  /** Creates a session; the character's greeting becomes its first message. */
  async create(input: CreateSessionInput) {
    const character = await new CharacterModel(this.db, this.userId).get(input.characterId);
    return this.db.transaction(async (tx) => {
      const [session] = await tx
        .insert(chatSessions)
        .values({
          userId: this.userId,
          characterId: character.id,
          scenario: input.scenario ?? character.scenario,
          model: input.model ?? env().OLLAMA_MODEL,
          settings: { ...defaultSessionSettings, ...input.settings },
        })
        .returning();
      if (!session) throw new Error("insert returned no row");
      if (character.greeting.trim()) {
        await tx.insert(messages).values({ sessionId: session.id, role: "assistant", content: character.greeting });
      }
      return session;
    });
  }

  async get(id: string) {
    const [row] = await this.db
      .select({ session: chatSessions, character: characters })
      .from(chatSessions)
      .innerJoin(characters, eq(characters.id, chatSessions.characterId))
      .where(this.owned(id))
      .limit(1);
    if (!row) throw notFound("Chat");
    return row;
  }

  async listRecent(limit = 20) {
    return this.db
      .select({
        id: chatSessions.id,
        title: chatSessions.title,
        lastMessageAt: chatSessions.lastMessageAt,
        characterId: characters.id,
        characterName: characters.name,
        characterImage: characters.imageUrl,
      })
      .from(chatSessions)
      .innerJoin(characters, eq(characters.id, chatSessions.characterId))
      .where(eq(chatSessions.userId, this.userId))
      .orderBy(desc(chatSessions.lastMessageAt))
      .limit(limit);
  }

  /** One page of history, newest page first; each page is in reading order. */
  async messages(sessionId: string, options: { beforeSeq?: number; limit: number }) {
    await this.get(sessionId);
    const rows = await this.db
      .select()
      .from(messages)
      .where(
        and(
          eq(messages.sessionId, sessionId),
          options.beforeSeq === undefined ? undefined : lt(messages.seq, options.beforeSeq),
        ),
      )
      .orderBy(desc(messages.seq))
      .limit(options.limit + 1);
    const hasMore = rows.length > options.limit;
    const page = rows.slice(0, options.limit).reverse();
    return { messages: page, nextCursor: hasMore ? (page[0]?.seq ?? null) : null };
  }

  /** All finished turns in order, for building the prompt. */
  async turns(sessionId: string) {
    return this.db
      .select({ role: messages.role, content: messages.content, status: messages.status })
      .from(messages)
      .where(eq(messages.sessionId, sessionId))
      .orderBy(asc(messages.seq));
  }
}
