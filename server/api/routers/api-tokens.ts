import { z } from "zod";
import { apiTokenNameSchema, idSchema } from "@/lib/schemas";
import { ApiTokenModel } from "@/server/auth/api-tokens";
import { budgets } from "@/server/limits/budgets";
import { consume } from "@/server/limits/rate-limit";
import { browserProcedure, createTRPCRouter } from "../trpc";

const withTokens = browserProcedure.use(({ ctx, next }) => next({ ctx: { tokens: new ApiTokenModel(ctx.db, ctx.user.id) } }));

/** Personal API tokens for the Developer API: managed in settings, used as `Authorization: Bearer`. */
export const apiTokensRouter = createTRPCRouter({
  list: withTokens.query(({ ctx }) => ctx.tokens.list()),

  /** The answer holds the token itself: shown once, never stored. */
  create: withTokens
    .input(z.object({ name: apiTokenNameSchema }))
    .use(({ ctx, next }) => consume(ctx.db, budgets.apiToken(ctx.user.id)).then(() => next()))
    .mutation(({ ctx, input }) => ctx.tokens.create(input.name)),

  revoke: withTokens.input(z.object({ id: idSchema })).mutation(({ ctx, input }) => ctx.tokens.revoke(input.id)),
});
