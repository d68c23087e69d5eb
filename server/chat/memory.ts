import { eq } from "drizzle-orm";
import type { Database } from "@/server/db";
import { chatSessions } from "@/server/db/schema";
import { completeChat } from "@/server/llm/ollama";

const SUMMARY_PROMPT =
  "You keep the memory of a long role-play. Rewrite the summary so far together with the new " +
  "turns below into one updated summary: who the characters are to each other, what happened, " +
  "promises, names, places and feelings that matter later. Write in the language of the " +
  "conversation, in the third person, at most 250 words. Reply with the summary only.";

export interface SummaryTurn {
  role: "user" | "assistant";
  content: string;
  seq: number;
}

/**
 * Folds `turns` (the older part of the chat) into the session's running summary with the LLM,
 * and records up to which message the summary reaches.
 */
export async function summariseTurns(
  db: Database,
  input: { sessionId: string; model: string; numCtx: number; summary: string; turns: SummaryTurn[]; names: { char: string; user: string } },
) {
  const lastTurn = input.turns.at(-1);
  if (!lastTurn) return input.summary;
  const transcript = input.turns
    .map((t) => `${t.role === "user" ? input.names.user : input.names.char}: ${t.content}`)
    .join("\n");
  const response = await completeChat({
    model: input.model,
    temperature: 0.2,
    maxTokens: 512,
    numCtx: input.numCtx,
    messages: [
      { role: "system", content: SUMMARY_PROMPT },
      {
        role: "user",
        content: `Summary so far:\n${input.summary || "(none)"}\n\nNew turns:\n${transcript}`,
      },
    ],
  });
  const summary = response.message.content.trim().replace(/^(summary|요약)\s*[:：]\s*/i, "");
  if (!summary) return input.summary;
  await db
    .update(chatSessions)
    .set({ summary, summaryThroughSeq: lastTurn.seq })
    .where(eq(chatSessions.id, input.sessionId));
  return summary;
}
