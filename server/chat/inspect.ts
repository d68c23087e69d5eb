import "server-only";
import type { Database } from "@/server/db";
import { contextWindow } from "@/server/llm/ollama";
import { SessionModel } from "@/server/sessions/model";
import { estimateMessages, estimateTokens } from "./budget";
import { accountNameOf, composePrompt } from "./compose";
import { unsummarizedTurns } from "./memory";

/**
 * What the next reply of the user's chat would send to the model, part by part, with estimated
 * token counts (corrected by what the chat's model has reported), and which lorebook entries are
 * active and why. Built by the same code as the reply itself (composePrompt).
 */
export async function inspectPrompt(db: Database, user: { id: string; name?: string | null }, sessionId: string) {
  const { session, character, persona } = await new SessionModel(db, user.id).get(sessionId);
  const [turns, window] = await Promise.all([unsummarizedTurns(db, session.id), contextWindow(session.model)]);
  const composed = composePrompt({ session, character, persona, accountName: accountNameOf(user), turns, window });
  const scale = session.tokenScale ?? 1;
  return {
    userName: composed.userName,
    model: session.model,
    contextWindow: window,
    /** what the prompt may use: the window minus room for the reply */
    promptBudget: composed.budget.prompt,
    totalTokens: estimateMessages(composed.messages, scale),
    omittedTurns: composed.omittedTurns,
    messages: composed.messages.map((m) => ({
      role: m.role,
      part: m.part,
      content: m.content,
      tokens: estimateTokens(m.content, scale),
      sections: m.sections?.map((s) => ({ part: s.part, text: s.text, tokens: estimateTokens(s.text, scale) })) ?? [],
    })),
    lorebook: {
      scanDepth: character.lorebook.scanDepth,
      tokenBudget: character.lorebook.tokenBudget,
      entries: composed.lore.decisions.map(({ entry, status, tokens }) => ({
        id: entry.id,
        name: entry.name,
        keys: entry.keys,
        order: entry.order,
        tokens,
        active: status.active,
        reason: status.reason,
        key: "key" in status ? (status.key ?? null) : null,
      })),
    },
  };
}
