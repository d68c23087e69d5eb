import { endAllSessions } from "@/server/auth/sessions";
import { browserProcedure, createTRPCRouter } from "../trpc";

/** The signed-in account itself. Only from the app: a script's API token can't end sessions. */
export const accountRouter = createTRPCRouter({
  /** Ends every browser session of the user, the caller's own included (tokens are kept). */
  signOutEverywhere: browserProcedure.mutation(({ ctx }) => endAllSessions(ctx.db, ctx.user.id)),
});
