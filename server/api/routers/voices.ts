import { asc, isNull } from "drizzle-orm";
import { DEFAULT_VOICE_ID } from "@/server/db/presets";
import { voices } from "@/server/db/schema";
import { createTRPCRouter, publicProcedure } from "../trpc";

export const voicesRouter = createTRPCRouter({
  list: publicProcedure.query(async ({ ctx }) => {
    const rows = await ctx.db.select().from(voices).where(isNull(voices.ownerId)).orderBy(asc(voices.name));
    return { voices: rows, defaultVoiceId: DEFAULT_VOICE_ID };
  }),
});
