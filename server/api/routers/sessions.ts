import { z } from "zod";
import {
  AUTHOR_NOTE_LIMITS,
  chatTitleSchema,
  idSchema,
  modelNameSchema,
  pageCursorSchema,
  scenarioSchema,
  searchQuerySchema,
  sessionSettingsPatchSchema,
  textSchema,
} from "@/lib/schemas";
import { budgets } from "@/server/limits/budgets";
import { consume } from "@/server/limits/rate-limit";
import { IMPORT_LIMITS } from "@/server/chats/portability";
import { importSillyTavernChat } from "@/server/chats/transfer";
import { SessionModel } from "@/server/sessions/model";
import { createTRPCRouter, protectedProcedure } from "../trpc";

const withSessions = protectedProcedure.use(({ ctx, next }) =>
  next({ ctx: { sessions: new SessionModel(ctx.db, ctx.user.id) } }),
);


export const sessionsRouter = createTRPCRouter({
  create: withSessions
    .input(
      z.object({
        characterId: idSchema,
        scenario: scenarioSchema.optional(),
        model: modelNameSchema.optional(),
        settings: sessionSettingsPatchSchema.optional(),
      }),
    )
    .mutation(({ ctx, input }) => ctx.sessions.create(input)),

  /** The chat, its character, and `userName`: whom `{{user}}` stands for here (its persona, else the account's name). */
  get: withSessions.input(z.object({ id: idSchema })).query(async ({ ctx, input }) => {
    // The persona comes with the chat (one query): no second round trip for a name.
    const chat = await ctx.sessions.get(input.id);
    return { ...chat, userName: chat.persona?.name.trim() || ctx.user.name?.trim() || null };
  }),

  /** Most recent first, with a preview of the last message. */
  list: withSessions
    .input(
      z
        .object({
          cursor: pageCursorSchema,
          limit: z.number().int().min(1).max(100).default(30),
          characterId: idSchema.optional(),
        })
        .default({ limit: 30 }),
    )
    .query(({ ctx, input }) => ctx.sessions.list(input)),

  rename: withSessions
    .input(z.object({ id: idSchema, title: chatTitleSchema }))
    .mutation(({ ctx, input }) => ctx.sessions.rename(input.id, input.title)),

  /** Model, settings (temperature, max tokens, TTS) and scene of a chat. */
  update: withSessions
    .input(
      z.object({
        id: idSchema,
        model: modelNameSchema.optional(),
        settings: sessionSettingsPatchSchema.optional(),
        scenario: scenarioSchema.optional(),
        /** one of the user's personas, or null for the account's name */
        personaId: idSchema.nullable().optional(),
        /** the author's note, put `authorNoteDepth` messages from the end of the conversation */
        authorNote: textSchema(AUTHOR_NOTE_LIMITS.text, `The author's note can be at most ${AUTHOR_NOTE_LIMITS.text} characters.`).optional(),
        authorNoteDepth: z.number().int().min(0).max(AUTHOR_NOTE_LIMITS.depth).optional(),
      }),
    )
    .mutation(({ ctx, input }) => ctx.sessions.update(input.id, input)),

  /** A SillyTavern JSONL chat file becomes a new chat with a character the user may use. */
  importChat: protectedProcedure
    .input(z.object({ characterId: idSchema, jsonl: z.string().min(1, "The chat file is empty.").max(IMPORT_LIMITS.bytes, "The chat file is larger than 5 MB.") }))
    .use(({ ctx, next }) => consume(ctx.db, budgets.cardImport(ctx.user.id)).then(() => next()))
    .mutation(({ ctx, input }) => importSillyTavernChat(ctx.db, ctx.user.id, input.characterId, input.jsonl)),

  delete: withSessions.input(z.object({ id: idSchema })).mutation(({ ctx, input }) => ctx.sessions.delete(input.id)),

  clear: withSessions.input(z.object({ id: idSchema })).mutation(({ ctx, input }) => ctx.sessions.clear(input.id)),

  /** History, newest page first; pass `nextCursor` back to load older messages. */
  messages: withSessions
    .input(
      z.object({
        sessionId: idSchema,
        cursor: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).nullish(),
        limit: z.number().int().min(1).max(200).default(50),
      }),
    )
    .query(({ ctx, input }) => ctx.sessions.messages(input.sessionId, { beforeSeq: input.cursor ?? undefined, limit: input.limit })),

  stats: withSessions.input(z.object({ id: idSchema })).query(({ ctx, input }) => ctx.sessions.stats(input.id)),

  /** The user's own messages containing the text, across all chats. */
  search: withSessions
    .input(z.object({ q: searchQuerySchema().min(1), limit: z.number().int().min(1).max(50).default(20) }))
    .use(({ ctx, next }) => consume(ctx.db, budgets.search(ctx.user.id)).then(() => next()))
    .query(({ ctx, input }) => ctx.sessions.search(input.q, input.limit)),
});
