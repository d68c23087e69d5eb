import { checkHealth } from "@/server/health";
import { createTRPCRouter, publicProcedure } from "../trpc";

export const healthRouter = createTRPCRouter({
  /** Up or down for everyone; latency and the default model's presence for signed-in users. */
  check: publicProcedure.query(({ ctx }) => checkHealth(ctx.db, { signedIn: Boolean(ctx.session?.user) })),
});
