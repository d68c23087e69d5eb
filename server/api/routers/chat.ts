import { tracked } from "@trpc/server";
import { z } from "zod";
import { env } from "@/lib/env.mjs";
import { idSchema, messageTextSchema } from "@/lib/schemas";
import { completeReply } from "@/server/chat/complete";
import { inspectPrompt } from "@/server/chat/inspect";
import { parsePosition } from "@/server/chat/live-reply";
import { ChatService } from "@/server/chat/service";
import { speakReply } from "@/server/chat/speaker";
import { listModels } from "@/server/llm/ollama";
import { budgets } from "@/server/limits/budgets";
import { consume } from "@/server/limits/rate-limit";
import { createTRPCRouter, protectedProcedure } from "../trpc";

const withChat = protectedProcedure.use(({ ctx, next }) => next({ ctx: { chat: new ChatService(ctx.db, ctx.user) } }));
const byMessage = z.object({ messageId: idSchema });

export const chatRouter = createTRPCRouter({
  /**
   * Saves the message and starts the reply. The reply's events stream back in the same response
   * (`events`, each with its `id`: the position after it), so the first token needs no second
   * connection; after a dropped connection `chat.reply` continues from the last id seen.
   */
  send: withChat
    .input(z.object({ sessionId: idSchema, clientId: z.string().uuid(), text: messageTextSchema }))
    .mutation(async ({ ctx, input, signal }) => {
      const saved = await ctx.chat.send(input);
      return { ...saved, events: ctx.chat.followMessage(saved.reply, 0, signal) };
    }),

  /**
   * The reply as it is written, with its stage (queued with the replies ahead, loading, thinking,
   * writing, speaking). Each event has its own id — the position after it — so a reconnecting
   * client sends the last one back as `lastEventId` and gets every later event exactly once: the
   * text and thinking it missed, each audio clip and the final event.
   */
  reply: withChat
    .input(byMessage.extend({ lastEventId: z.string().regex(/^\d{1,9}(\.\d{1,9}\.\d{1,5}\.[01](~\d{1,9})?)?$/).nullish() }))
    .subscription(async function* ({ ctx, input, signal }) {
      for await (const { id, event } of ctx.chat.follow(input.messageId, parsePosition(input.lastEventId), signal)) {
        yield tracked(id, event);
      }
    }),

  /**
   * For scripts: sends a message and answers once the reply is finished, with what the original
   * API answered — `content`, `usage`, the chat's id, the reply's audio URL when the chat speaks,
   * and `contextSummarized`. The user's message is kept whatever happens.
   */
  complete: withChat
    .input(z.object({ sessionId: idSchema, clientId: z.string().uuid(), text: messageTextSchema }))
    .mutation(async ({ ctx, input, signal }) => {
      const { settings } = (await ctx.chat.chatOf(input.sessionId)).session;
      return completeReply(ctx.chat, input, { speaks: settings.ttsMode !== "off", signal });
    }),

  /** What the reader experienced for a reply (Enter → its first character painted), kept once and shown under it. */
  seen: withChat
    .input(byMessage.extend({ firstTokenMs: z.number().int().min(0).max(600_000) }))
    .mutation(({ ctx, input }) => ctx.chat.recordSeenFirstToken(input.messageId, input.firstTokenMs)),

  /** Stops the generation at Ollama; the partial reply is kept, marked stopped. */
  stop: withChat.input(byMessage).mutation(({ ctx, input }) => ctx.chat.stop(input.messageId)),

  /** Writes a failed or stopped last reply again. */
  retry: withChat.input(byMessage).mutation(({ ctx, input }) => ctx.chat.retry(input.messageId)),

  /** Writes more of a last reply that was cut off by its length or stopped, appended to it. */
  continue: withChat.input(byMessage).mutation(({ ctx, input }) => ctx.chat.continue(input.messageId)),

  /** A new alternative of the last reply; the earlier ones stay available. */
  regenerate: withChat.input(byMessage).mutation(({ ctx, input }) => ctx.chat.regenerate(input.messageId)),

  /** Switches the last reply to its previous or next alternative. */
  swipe: withChat
    .input(byMessage.extend({ direction: z.enum(["previous", "next"]) }))
    .mutation(({ ctx, input }) => ctx.chat.selectSwipe(input.messageId, input.direction)),

  /** Changes the text of a message (the user's or the character's); the conversation after it stays. */
  editMessage: withChat
    .input(byMessage.extend({ text: messageTextSchema }))
    .mutation(({ ctx, input }) => ctx.chat.editMessage(input.messageId, input.text)),

  /**
   * A new chat sharing this one's history up to the message, listed under this one. With `text`
   * the message says that instead, and a message of the user's is answered in the new chat.
   */
  branch: withChat
    .input(byMessage.extend({ text: messageTextSchema.optional() }))
    .mutation(({ ctx, input }) => ctx.chat.branch(input.messageId, input.text)),

  /** Edits one of the user's messages and answers it again (later messages are removed). */
  edit: withChat
    .input(byMessage.extend({ text: messageTextSchema }))
    .mutation(({ ctx, input }) => ctx.chat.editAndRegenerate(input.messageId, input.text)),

  deleteMessage: withChat.input(byMessage).mutation(({ ctx, input }) => ctx.chat.deleteMessage(input.messageId)),

  /**
   * A finished reply read aloud (its button, delayed speech): each sentence's clip as soon as it
   * is ready, in order, in the voice realtime speech uses, so playback starts after the first
   * sentence. Ending the subscription drops the sentences not yet sent to GPT-SoVITS; a
   * reconnecting client sends the last index it got. Counts against the synthesis limits (after
   * the input is checked), once per reading.
   */
  speak: protectedProcedure
    .input(byMessage.extend({ lastEventId: z.string().regex(/^\d{1,4}$/).nullish() }))
    .use(({ ctx, next }) => consume(ctx.db, budgets.synthesis(ctx.user.id)).then(() => next()))
    .subscription(async function* ({ ctx, input, signal }) {
      // Each event's id is the sentence it is about: an audio event's own, a failure's the next one.
      let last = input.lastEventId ? Number(input.lastEventId) : -1;
      for await (const event of speakReply(ctx.db, ctx.user.id, input.messageId, { after: last, signal })) {
        last = event.type === "audio" ? event.index : last + 1;
        yield tracked(String(last), event);
      }
    }),

  /**
   * The prompt inspector: exactly what the chat's next reply would send to the model, part by
   * part with estimated tokens, and which lorebook entries are active and why.
   */
  prompt: protectedProcedure
    .input(z.object({ sessionId: idSchema }))
    .query(({ ctx, input }) => inspectPrompt(ctx.db, ctx.user, input.sessionId)),

  /** Models installed on the Ollama server, and the configured default. */
  models: protectedProcedure.query(async () => ({ models: await listModels(), defaultModel: env().OLLAMA_MODEL })),
});
