import { and, eq, isNull } from "drizzle-orm";
import type { Database } from "@/server/db";
import { chatSessions } from "@/server/db/schema";
import { completeChat } from "@/server/llm/ollama";

const TITLE_MAX = 60;

const TITLE_PROMPT =
  "You name role-play chats. Reply with only a short title (at most 6 words) for the conversation " +
  "below, written in the same language as the conversation. No quotes, no punctuation at the end.";

/** Cleans what the model wrote into a one-line title, or null when nothing usable is left. */
export function cleanTitle(raw: string): string | null {
  const line = raw
    .split("\n")
    .map((l) => l.trim())
    .find(Boolean);
  if (!line) return null;
  const title = line
    .replace(/\*/g, "")
    .replace(/^(title|제목)\s*[:：]\s*/i, "")
    .replace(/^["'“”‘’「」『』*]+|["'“”‘’「」『』*.。!！]+$/g, "")
    .trim();
  return title ? title.slice(0, TITLE_MAX) : null;
}

/**
 * Names a chat from its first exchange, in the chat's language. Runs after the reply is saved,
 * so it never delays it; a title the user chose is never replaced.
 */
export async function generateTitle(
  db: Database,
  input: { sessionId: string; model: string; userText: string; replyText: string; userId?: string },
) {
  const response = await completeChat({
    model: input.model,
    temperature: 0.3,
    maxTokens: 24,
    messages: [
      { role: "system", content: TITLE_PROMPT },
      { role: "user", content: input.userText.slice(0, 600) },
      { role: "assistant", content: input.replyText.slice(0, 600) },
      { role: "user", content: "(Now reply with the title only.)" },
    ],
  }, input.userId ? { db, userId: input.userId } : undefined);
  const title = cleanTitle(response.message.content);
  if (!title) return null;
  await db
    .update(chatSessions)
    .set({ title, titleSource: "auto" })
    .where(and(eq(chatSessions.id, input.sessionId), isNull(chatSessions.titleSource)));
  return title;
}
