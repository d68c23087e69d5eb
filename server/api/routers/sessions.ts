import { z } from "zod";
import { idSchema, scenarioSchema, sessionSettingsSchema } from "@/lib/schemas";
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
        model: z.string().trim().min(1).max(200).optional(),
        settings: sessionSettingsSchema.partial().optional(),
      }),
    )
    .mutation(({ ctx, input }) => ctx.sessions.create(input)),
  get: withSessions.input(z.object({ id: idSchema })).query(({ ctx, input }) => ctx.sessions.get(input.id)),
  list: withSessions
    .input(z.object({ limit: z.number().int().min(1).max(100).default(20) }).default({ limit: 20 }))
    .query(({ ctx, input }) => ctx.sessions.listRecent(input.limit)),
  messages: withSessions
    .input(
      z.object({
        sessionId: idSchema,
        cursor: z.number().int().positive().nullish(),
        limit: z.number().int().min(1).max(200).default(50),
      }),
    )
    .query(({ ctx, input }) =>
      ctx.sessions.messages(input.sessionId, { beforeSeq: input.cursor ?? undefined, limit: input.limit }),
    ),
});
