import { and, asc, eq } from "drizzle-orm";
import { defaultSessionSettings } from "@/lib/schemas";
import { env } from "@/lib/env.mjs";
import { newChatDefaults } from "@/server/account/data";
import { CharacterModel } from "@/server/characters/model";
import type { Database } from "@/server/db";
import { chatSessions, messages } from "@/server/db/schema";
import { DomainError, notFound } from "@/server/errors";
import { userNameFor } from "@/server/personas/model";
import { findChat, snapshotOf } from "@/server/sessions/chat-character";
import { fromSillyTavernJsonl, PortabilityError, type PortableChat, type PortableMessage } from "./portability";

/** Rows one import may write at most (messages and their alternatives together). */
export const MAX_IMPORTED_ROWS = 20_000;

/**
 * One of the user's chats, ready to convert: every message in order, a reply's alternatives
 * together with the active one. `{{user}}` stays as written (a transcript is read elsewhere).
 */
export async function portableChat(db: Database, userId: string, sessionId: string): Promise<PortableChat> {
  const chat = await findChat(db, and(eq(chatSessions.id, sessionId), eq(chatSessions.userId, userId)));
  if (!chat) throw notFound("Chat");
  const rows = await db
    .select({ id: messages.id, role: messages.role, content: messages.content, active: messages.active, swipeGroup: messages.swipeGroup, status: messages.status, createdAt: messages.createdAt })
    .from(messages)
    .where(eq(messages.sessionId, sessionId))
    .orderBy(asc(messages.seq));
  const groups = new Map<string, typeof rows>();
  for (const row of rows) if (row.swipeGroup) groups.set(row.swipeGroup, [...(groups.get(row.swipeGroup) ?? []), row]);
  const out: PortableMessage[] = [];
  for (const row of rows) {
    if (!row.active || (row.content.trim() === "" && row.status !== "complete")) continue;
    const siblings = row.swipeGroup ? (groups.get(row.swipeGroup) ?? []).filter((s) => s.content.trim() !== "" || s.id === row.id) : [];
    if (siblings.length > 1) {
      out.push({ role: row.role, content: row.content, createdAt: row.createdAt, swipes: siblings.map((s) => s.content), swipeId: siblings.findIndex((s) => s.id === row.id) });
    } else {
      out.push({ role: row.role, content: row.content, createdAt: row.createdAt });
    }
  }
  return {
    userName: (await userNameFor(db, userId, chat.session.personaId)) ?? "User",
    characterName: chat.character.name,
    title: chat.session.title,
    createdAt: chat.session.createdAt,
    messages: out,
  };
}

/**
 * A SillyTavern JSONL chat becomes a new chat of the user with a character they may use: the
 * messages in order, a reply's alternatives as its swipes. Checked whole before anything is
 * written; written in one transaction.
 */
export async function importSillyTavernChat(db: Database, userId: string, characterId: string, text: string) {
  let parsed: PortableChat;
  try {
    parsed = fromSillyTavernJsonl(text);
  } catch (error) {
    if (error instanceof PortabilityError) throw new DomainError("bad_input", error.message, { reason: error.code, ...(error.line ? { line: error.line } : {}) });
    throw error;
  }
  const rowCount = parsed.messages.reduce((n, m) => n + (m.swipes?.length ?? 1), 0);
  if (rowCount > MAX_IMPORTED_ROWS) {
    throw new DomainError("bad_input", `A chat file can hold at most ${MAX_IMPORTED_ROWS} messages and alternatives together.`, { reason: "chat_file_too_many_messages" });
  }
  const character = await new CharacterModel(db, userId).get(characterId);
  const defaults = await newChatDefaults(db, userId);
  return db.transaction(async (tx) => {
    const [session] = await tx
      .insert(chatSessions)
      .values({
        userId,
        characterId: character.id,
        title: parsed.title ?? null,
        titleSource: parsed.title ? "user" : null,
        scenario: character.scenario,
        model: defaults.model ?? env().OLLAMA_MODEL,
        settings: { ...defaultSessionSettings, ...defaults.settings },
        characterSnapshot: snapshotOf(character),
        personaId: defaults.personaId,
        lastMessageAt: new Date(),
      })
      .returning({ id: chatSessions.id });
    const sessionId = session!.id;
    const rows: (typeof messages.$inferInsert)[] = [];
    for (const m of parsed.messages) {
      if (m.swipes && m.swipes.length > 1) {
        const group = crypto.randomUUID();
        m.swipes.forEach((content, i) => {
          rows.push({ ...(i === 0 ? { id: group } : {}), sessionId, role: m.role, content, createdAt: m.createdAt, swipeGroup: group, active: i === m.swipeId });
        });
      } else {
        rows.push({ sessionId, role: m.role, content: m.content, createdAt: m.createdAt });
      }
    }
    // In order: seq (an identity) follows insertion, and a multi-row insert keeps its order.
    for (let i = 0; i < rows.length; i += 500) await tx.insert(messages).values(rows.slice(i, i + 500));
    return { id: sessionId, messages: parsed.messages.length };
  });
}
