import { z } from "zod";
import { userDefaultsSchema } from "@/lib/schemas";
import { deleteAccount, getDefaults, setDefaults } from "@/server/account/data";
import { endAllSessions } from "@/server/auth/sessions";
import { DomainError } from "@/server/errors";
import { browserProcedure, createTRPCRouter, protectedProcedure } from "../trpc";

/** The signed-in account itself. Only from the app: a script's API token can't end sessions. */
export const accountRouter = createTRPCRouter({
  /** Ends every browser session of the user, the caller's own included (tokens are kept). */
  signOutEverywhere: browserProcedure.mutation(({ ctx }) => endAllSessions(ctx.db, ctx.user.id)),

  /** Defaults for new chats and the UI language (Settings). */
  defaults: protectedProcedure.query(({ ctx }) => getDefaults(ctx.db, ctx.user.id)),

  /** Replaces the defaults: a field left out follows the app's default. */
  setDefaults: protectedProcedure.input(userDefaultsSchema).mutation(({ ctx, input }) => setDefaults(ctx.db, ctx.user.id, input)),

  /**
   * Deletes the account and everything of it, for good. The caller types the account's email
   * (or its name, for an account without one) to confirm.
   */
  delete: browserProcedure
    .input(z.object({ confirm: z.string().trim().min(1, "Type your email to confirm.").max(320) }))
    .mutation(async ({ ctx, input }) => {
      const expected = (ctx.user.email ?? ctx.user.name ?? "").trim().toLowerCase();
      if (!expected || input.confirm.toLowerCase() !== expected) {
        throw new DomainError("bad_input", "What you typed does not match your account's email.", { reason: "confirm_mismatch" });
      }
      return deleteAccount(ctx.db, ctx.user.id);
    }),
});
