import "server-only";
import { DomainError } from "@/server/errors";
import type { ChatService, SendInput } from "./service";

/**
 * A reply for scripts that want the answer, not the stream: sends the message, waits for the
 * finished reply and answers what the original API's chat endpoint returned — the content, token
 * usage and timings, the chat's id, where the reply's speech downloads when the chat speaks, and
 * whether older turns were folded into the summary. A failed reply is an error with its code
 * (the user's message is kept, as always).
 */
export async function completeReply(chat: ChatService, input: SendInput, options: { speaks: boolean; signal?: AbortSignal }) {
  const { userMessage, reply } = await chat.send(input);
  let contextSummarized = false;
  for await (const { event } of chat.follow(reply.id, 0, options.signal)) {
    if (event.type === "notice" && event.kind === "memory_summarized") contextSummarized = true;
    if (event.type === "error") throw new DomainError(event.code, event.message, event.params);
    if (event.type === "done") {
      return {
        sessionId: input.sessionId,
        userMessageId: userMessage.id,
        messageId: reply.id,
        status: event.status,
        content: event.content,
        usage: event.stats,
        audioUrl: options.speaks && event.content.trim() ? `/api/messages/${reply.id}/audio` : null,
        contextSummarized,
      };
    }
  }
  throw new DomainError("reply_failed", "The reply ended before it was finished.");
}
