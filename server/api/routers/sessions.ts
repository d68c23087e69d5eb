import { z } from "zod";
import { idSchema, LIMITS, scenarioSchema, sessionSettingsPatchSchema } from "@/lib/schemas";
import { SessionModel } from "@/server/sessions/model";
import { createTRPCRouter, protectedProcedure } from "../trpc";

const withSessions = protectedProcedure.use(({ ctx, next }) =>
  next({ ctx: { sessions: new SessionModel(ctx.db, ctx.user.id) } }),
);

const modelName = z.string().trim().min(1).max(200);

export const sessionsRouter = createTRPCRouter({
  create: withSessions
    .input(
      z.object({
        characterId: idSchema,
        scenario: scenarioSchema.optional(),
        model: modelName.optional(),
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
          cursor: z.string().max(200).nullish(),
          limit: z.number().int().min(1).max(100).default(30),
          characterId: idSchema.optional(),
        })
        .default({ limit: 30 }),
    )
    .query(({ ctx, input }) => ctx.sessions.list(input)),

  rename: withSessions
    .input(z.object({ id: idSchema, title: z.string().trim().min(1, "Give the chat a title.").max(LIMITS.title) }))
    .mutation(({ ctx, input }) => ctx.sessions.rename(input.id, input.title)),

  /** Model, settings (temperature, max tokens, TTS) and scene of a chat. */
  update: withSessions
    .input(
      z.object({
        id: idSchema,
        model: modelName.optional(),
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
        cursor: z.number().int().positive().nullish(),
        limit: z.number().int().min(1).max(200).default(50),
      }),
    )
    .query(({ ctx, input }) => ctx.sessions.messages(input.sessionId, { beforeSeq: input.cursor ?? undefined, limit: input.limit })),

  stats: withSessions.input(z.object({ id: idSchema })).query(({ ctx, input }) => ctx.sessions.stats(input.id)),

  /** The user's own messages containing the text, across all chats. */
  search: withSessions
    .input(z.object({ q: z.string().trim().min(1).max(100), limit: z.number().int().min(1).max(50).default(20) }))
    .query(({ ctx, input }) => ctx.sessions.search(input.q, input.limit)),
});
