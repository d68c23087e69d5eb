import { tracked } from "@trpc/server";
import { z } from "zod";
import { idSchema, messageTextSchema } from "@/lib/schemas";
import { ChatService } from "@/server/chat/service";
import { listModels } from "@/server/llm/ollama";
import { createTRPCRouter, protectedProcedure } from "../trpc";

const withChat = protectedProcedure.use(({ ctx, next }) =>
  next({ ctx: { chat: new ChatService(ctx.db, ctx.user) } }),
);

export const chatRouter = createTRPCRouter({
  /** Saves the message and starts the reply; follow it with `chat.reply`. */
  send: withChat
    .input(z.object({ sessionId: idSchema, clientId: z.string().uuid(), text: messageTextSchema }))
    .mutation(({ ctx, input }) => ctx.chat.send(input)),

  /**
   * The reply as it is written. Each event's id is the reply length so far; a reconnecting
   * client sends it back as `lastEventId` and gets exactly the text it missed.
   */
  reply: withChat
    .input(z.object({ messageId: idSchema, lastEventId: z.string().regex(/^\d{1,9}$/).nullish() }))
    .subscription(async function* ({ ctx, input, signal }) {
      const from = input.lastEventId ? Number(input.lastEventId) : 0;
      for await (const { offset, event } of ctx.chat.follow(input.messageId, from, signal)) {
        yield tracked(String(offset), event);
      }
    }),

  stop: withChat.input(z.object({ messageId: idSchema })).mutation(({ ctx, input }) => ctx.chat.stop(input.messageId)),

  /** Writes a failed or stopped last reply again; follow it with `chat.reply`. */
  retry: withChat.input(z.object({ messageId: idSchema })).mutation(({ ctx, input }) => ctx.chat.retry(input.messageId)),

  models: protectedProcedure.query(() => listModels()),
});
