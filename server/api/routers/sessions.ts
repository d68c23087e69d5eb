import { z } from "zod";
import {
  chatTitleSchema,
  idSchema,
  modelNameSchema,
  pageCursorSchema,
  scenarioSchema,
  searchQuerySchema,
  sessionSettingsPatchSchema,
} from "@/lib/schemas";
import { budgets } from "@/server/limits/budgets";
import { consume } from "@/server/limits/rate-limit";
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

  get: withSessions.input(z.object({ id: idSchema })).query(({ ctx, input }) => ctx.sessions.get(input.id)),

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
      }),
    )
    .mutation(({ ctx, input }) => ctx.sessions.update(input.id, input)),

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
