import { z } from "zod";
import { idSchema, speechTextSchema, voiceInputSchema, voicePatchSchema } from "@/lib/schemas";
import type { Database } from "@/server/db";
import { budgets } from "@/server/limits/budgets";
import { consume } from "@/server/limits/rate-limit";
import { speak } from "@/server/tts/speech";
import { AUDIO_FORMATS } from "@/server/tts/sovits";
import { previewLine, VoiceModel } from "@/server/voices/model";
import { createTRPCRouter, protectedProcedure, publicProcedure } from "../trpc";

const withVoices = publicProcedure.use(({ ctx, next }) =>
  next({ ctx: { voices: new VoiceModel(ctx.db, ctx.session?.user?.id ?? null) } }),
);
const withOwnVoices = protectedProcedure.use(({ ctx, next }) => next({ ctx: { voices: new VoiceModel(ctx.db, ctx.user.id) } }));
/**
 * Synthesis limits (after the input is checked, so a malformed call costs nothing): every call
 * counts, cache hits too. A hit costs little, but it tells (by its answer and its speed) whether
 * a line was ever spoken in that voice, so guessing must be bounded as well.
 */
const synthesisLimit = <T>({ ctx, next }: { ctx: { db: Database; user: { id: string } }; next: () => Promise<T> }) =>
  consume(ctx.db, budgets.synthesis(ctx.user.id)).then(() => next());

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
    .use(synthesisLimit)
    .mutation(async ({ ctx, input }) => speak(ctx.db, await ctx.voices.get(input.voiceId), input.text, input.format, { owner: ctx.user.id })),

  /** A sample line in the voice's own language. */
  preview: withOwnVoices
    .input(z.object({ voiceId: idSchema }))
    .use(synthesisLimit)
    .mutation(async ({ ctx, input }) => {
    const voice = await ctx.voices.get(input.voiceId);
    const text = previewLine(voice.promptLang);
    return { ...(await speak(ctx.db, voice, text, "wav", { owner: ctx.user.id })), text };
  }),
});
