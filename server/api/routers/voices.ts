import { z } from "zod";
import { idSchema, speechTextSchema, voiceInputSchema, voicePatchSchema } from "@/lib/schemas";
import { speak } from "@/server/tts/speech";
import { AUDIO_FORMATS } from "@/server/tts/sovits";
import { previewLine, VoiceModel } from "@/server/voices/model";
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

  /**
   * Speaks `text` in a voice the viewer may use and answers with the audio's URL: immutable,
   * cached by content, so a repeat never calls GPT-SoVITS again.
   */
  synthesize: withOwnVoices
    .input(z.object({ text: speechTextSchema, voiceId: idSchema, format: z.enum(AUDIO_FORMATS).default("wav") }))
    .mutation(async ({ ctx, input }) => speak(ctx.db, await ctx.voices.get(input.voiceId), input.text, input.format)),

  /** A sample line in the voice's own language. */
  preview: withOwnVoices.input(z.object({ voiceId: idSchema })).mutation(async ({ ctx, input }) => {
    const voice = await ctx.voices.get(input.voiceId);
    const text = previewLine(voice.promptLang);
    return { ...(await speak(ctx.db, voice, text, "wav")), text };
  }),
});
