import "server-only";
import { env } from "@/lib/env.mjs";
import { global, HOUR, MINUTE, perUser, type Limit } from "./rate-limit";

/**
 * Which limits each expensive or storage-growing call counts against (pass them to `consume`).
 * Per account everywhere; for the whole app too where the cost falls on a shared server
 * (GPT-SoVITS, the database's storage).
 */
export const budgets = {
  /** GPT-SoVITS: one GPU for everyone. */
  synthesis: (userId: string): Limit[] => [
    perUser("synthesis", userId, env().SYNTHESIS_PER_MINUTE, MINUTE),
    global("synthesis", env().SYNTHESIS_GLOBAL_PER_MINUTE, MINUTE),
  ],
  /** Portraits: image decoding, and rows that stay. */
  upload: (userId: string): Limit[] => [
    perUser("upload", userId, env().UPLOADS_PER_HOUR, HOUR),
    global("upload", env().UPLOADS_GLOBAL_PER_HOUR, HOUR),
  ],
  /** A card is an upload that also creates a character (and maybe a voice): the uploads' numbers, its own counter. */
  cardImport: (userId: string): Limit[] => [
    perUser("card_import", userId, env().UPLOADS_PER_HOUR, HOUR),
    global("card_import", env().UPLOADS_GLOBAL_PER_HOUR, HOUR),
  ],
  /**
   * Substring searches. Visitors have no account to count against, so they share one counter
   * with room for ten accounts' worth.
   */
  search: (userId: string | null): Limit[] => [
    userId
      ? perUser("search", userId, env().SEARCHES_PER_MINUTE, MINUTE)
      : { action: "search", key: "search:visitors", max: env().SEARCHES_PER_MINUTE * 10, windowMs: MINUTE },
  ],
  /** New API tokens: cheap to make, but each is a credential; the cap on live tokens is separate. */
  apiToken: (userId: string): Limit[] => [perUser("api_token", userId, env().API_TOKENS_PER_HOUR, HOUR)],
  /** "Export my data": every row of the account read and serialized at once (one at a time per account, see exportAccountFile). */
  accountExport: (userId: string): Limit[] => [perUser("account_export", userId, env().ACCOUNT_EXPORTS_PER_HOUR, HOUR)],
  /** 3D avatar generation: minutes of a shared GPU per job. */
  avatarGenerate: (userId: string): Limit[] => [
    perUser("avatar_generate", userId, env().AVATAR_GENERATIONS_PER_HOUR, HOUR),
    global("avatar_generate", env().AVATAR_GENERATIONS_GLOBAL_PER_HOUR, HOUR),
  ],
};
