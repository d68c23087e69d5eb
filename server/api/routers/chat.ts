import { tracked } from "@trpc/server";
import { z } from "zod";
import { env } from "@/lib/env.mjs";
import { idSchema, messageTextSchema } from "@/lib/schemas";
import { ChatService } from "@/server/chat/service";
import { listModels } from "@/server/llm/ollama";
import { createTRPCRouter, protectedProcedure } from "../trpc";

const withChat = protectedProcedure.use(({ ctx, next }) => next({ ctx: { chat: new ChatService(ctx.db, ctx.user) } }));
const byMessage = z.object({ messageId: idSchema });

export const chatRouter = createTRPCRouter({
  /**
   * Saves the message and starts the reply. The reply's events stream back in the same response
   * (`events`, each with the reply length so far), so the first token needs no second
   * connection; after a dropped connection `chat.reply` continues from the last offset seen.
   */
  send: withChat
    .input(z.object({ sessionId: idSchema, clientId: z.string().uuid(), text: messageTextSchema }))
    .mutation(async ({ ctx, input, signal }) => {
      const saved = await ctx.chat.send(input);
      return { ...saved, events: ctx.chat.follow(saved.reply.id, 0, signal) };
    }),

  /**
   * The reply as it is written. Each event's id is the reply length so far; a reconnecting
   * client sends it back as `lastEventId` and gets exactly the text it missed.
   */
  reply: withChat
    .input(byMessage.extend({ lastEventId: z.string().regex(/^\d{1,9}$/).nullish() }))
    .subscription(async function* ({ ctx, input, signal }) {
      const from = input.lastEventId ? Number(input.lastEventId) : 0;
      for await (const { offset, event } of ctx.chat.follow(input.messageId, from, signal)) {
        yield tracked(String(offset), event);
      }
    }),

  /** Stops the generation at Ollama; the partial reply is kept, marked stopped. */
  stop: withChat.input(byMessage).mutation(({ ctx, input }) => ctx.chat.stop(input.messageId)),

  /** Writes a failed or stopped last reply again. */
  retry: withChat.input(byMessage).mutation(({ ctx, input }) => ctx.chat.retry(input.messageId)),

  /** A new alternative of the last reply; the earlier ones stay available. */
  regenerate: withChat.input(byMessage).mutation(({ ctx, input }) => ctx.chat.regenerate(input.messageId)),

  /** Switches the last reply to its previous or next alternative. */
  swipe: withChat
    .input(byMessage.extend({ direction: z.enum(["previous", "next"]) }))
    .mutation(({ ctx, input }) => ctx.chat.selectSwipe(input.messageId, input.direction)),

  /** Edits one of the user's messages and answers it again (later messages are removed). */
  edit: withChat
    .input(byMessage.extend({ text: messageTextSchema }))
    .mutation(({ ctx, input }) => ctx.chat.editAndRegenerate(input.messageId, input.text)),

  deleteMessage: withChat.input(byMessage).mutation(({ ctx, input }) => ctx.chat.deleteMessage(input.messageId)),

  /** Models installed on the Ollama server, and the configured default. */
  models: protectedProcedure.query(async () => ({ models: await listModels(), defaultModel: env().OLLAMA_MODEL })),
});
