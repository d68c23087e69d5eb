import { z } from "zod";
import { idSchema, voiceInputSchema, voicePatchSchema } from "@/lib/schemas";
import { VoiceModel } from "@/server/voices/model";
import { createTRPCRouter, protectedProcedure, publicProcedure } from "../trpc";

const withVoices = publicProcedure.use(({ ctx, next }) =>
  next({ ctx: { voices: new VoiceModel(ctx.db, ctx.session?.user?.id ?? null) } }),
);
const withOwnVoices = protectedProcedure.use(({ ctx, next }) => next({ ctx: { voices: new VoiceModel(ctx.db, ctx.user.id) } }));

export const voicesRouter = createTRPCRouter({
  /** The presets and the viewer's own voices, with the default voice's id. */
  list: withVoices.query(({ ctx }) => ctx.voices.list()),
  get: withVoices.input(z.object({ id: idSchema })).query(({ ctx, input }) => ctx.voices.get(input.id)),
  create: withOwnVoices.input(voiceInputSchema).mutation(({ ctx, input }) => ctx.voices.create(input)),
  update: withOwnVoices
    .input(z.object({ id: idSchema, data: voicePatchSchema }))
    .mutation(({ ctx, input }) => ctx.voices.update(input.id, input.data)),
  delete: withOwnVoices.input(z.object({ id: idSchema })).mutation(({ ctx, input }) => ctx.voices.delete(input.id)),
});
