import { and, asc, eq, isNull, lt, lte, ne, or, sql } from "drizzle-orm";
import { env } from "@/lib/env.mjs";
import type { Database } from "@/server/db";
import { chatSessions, messages } from "@/server/db/schema";
import { completeChat } from "@/server/llm/ollama";
import { budgetFor, estimateMessages, estimateTokens, VERBATIM_TURNS } from "./budget";
import type { PromptTurn } from "./prompt";

const SUMMARY_PROMPT =
  "You keep the memory of a long role-play. Rewrite the summary so far together with the new " +
  "turns below into one updated summary: who the characters are to each other, what happened, " +
  "promises, names, places and feelings that matter later. Write in the language of the " +
  "conversation, in the third person, at most 250 words. Reply with the summary only.";
/** The longest summary the model may write. */
const SUMMARY_MAX_TOKENS = 512;

/** How long to wait before folding again after 1, 2, 3 or more failures in a row. */
export const SUMMARY_BACKOFF_MS = [60_000, 5 * 60_000, 30 * 60_000] as const;

export function summaryBackoffMs(failures: number) {
  return SUMMARY_BACKOFF_MS[Math.min(Math.max(failures, 1), SUMMARY_BACKOFF_MS.length) - 1]!;
}

export type PromptTurnRow = PromptTurn & { seq: number };

/**
 * The part of the chat the running summary does not cover yet (before `beforeSeq`, when given),
 * as the prompt sees it: active, finished, non-empty turns. One query, whatever the chat's length.
 */
export async function unsummarizedTurns(db: Database, sessionId: string, beforeSeq?: number): Promise<PromptTurnRow[]> {
  const rows = await db
    .select({ role: messages.role, content: messages.content, seq: messages.seq, status: messages.status })
    .from(messages)
    .where(
      and(
        eq(messages.sessionId, sessionId),
        eq(messages.active, true),
        ne(messages.status, "error"),
        beforeSeq === undefined ? undefined : lt(messages.seq, beforeSeq),
        sql`${messages.seq} > coalesce((select ${chatSessions.summaryThroughSeq} from ${chatSessions} where ${chatSessions.id} = ${sessionId}), 0)`,
      ),
    )
    .orderBy(asc(messages.seq));
  return rows
    .filter((m): m is typeof m & { role: "user" | "assistant" } => m.role !== "system" && m.status !== "streaming" && m.content.trim() !== "")
    .map(({ role, content, seq }) => ({ role, content, seq }));
}

/** A chat whose reply was just saved, as its prompt is built. */
export interface MemoryOwner {
  sessionId: string;
  /** the chat's user: the summary takes its turn in the LLM queue as theirs */
  userId?: string;
  model: string;
  names: { char: string; user: string };
  /** the system prompt, always part of the prompt */
  system: string;
  window: number;
  maxTokens: number;
  /** the chat's correction of our token estimates */
  scale: number;
}

export type FoldOutcome = "not_due" | "waiting" | "folded" | "failed" | "outdated";

const holder = globalThis as unknown as { afFoldedTurns?: Map<string, number> };
/**
 * Turns folded after a chat's last reply, by chat, until its next reply says so. Kept by the
 * process that folded them: it is only a notice, and a reply on another instance goes without.
 */
const foldedTurns: Map<string, number> = (holder.afFoldedTurns ??= new Map());

/** How many older turns were folded since the chat's last reply (once: the count is then cleared). */
export function takeFoldedTurns(sessionId: string): number {
  const turns = foldedTurns.get(sessionId) ?? 0;
  foldedTurns.delete(sessionId);
  return turns;
}

/**
 * Runs after a reply is saved, never before one: when the chat would pass ~80% of the window,
 * the older turns (all but the last 16, as many as one summary call can read) are folded into
 * the running summary by the LLM. Until then a reply uses the summary as it is and the recent
 * turns that fit. One fold at a time per chat, and after a failure none until the back-off
 * (1 min, 5 min, then 30 min) has passed; a success resets it.
 */
export async function foldOlderTurns(db: Database, chat: MemoryOwner): Promise<FoldOutcome> {
  const [state] = await db
    .select({ summary: chatSessions.summary, throughSeq: chatSessions.summaryThroughSeq, retryAt: chatSessions.summaryRetryAt })
    .from(chatSessions)
    .where(eq(chatSessions.id, chat.sessionId));
  if (!state) return "not_due";
  if (state.retryAt && state.retryAt > new Date()) return "waiting";
  const turns = await unsummarizedTurns(db, chat.sessionId);
  const whole = estimateTokens(chat.system, chat.scale) + estimateTokens(state.summary, chat.scale) + estimateMessages(turns, chat.scale);
  if (whole <= budgetFor(chat.window, chat.maxTokens).summariseAbove || turns.length <= VERBATIM_TURNS) return "not_due";
  const older = turnsOneCallCanRead(turns.slice(0, -VERBATIM_TURNS), chat, state.summary);
  const lastTurn = older.at(-1);
  if (!lastTurn) return "not_due";

  // Claims the attempt: the retry time doubles as a lease while the call runs (a crash ends it).
  const sameSummary = sql`${chatSessions.summaryThroughSeq} is not distinct from ${state.throughSeq}`;
  const leaseMs = env().OLLAMA_BACKGROUND_TIMEOUT_MS + 30_000;
  const [claimed] = await db
    .update(chatSessions)
    .set({ summaryRetryAt: sql`now() + ${leaseMs} * interval '1 millisecond'` })
    .where(and(eq(chatSessions.id, chat.sessionId), sameSummary, or(isNull(chatSessions.summaryRetryAt), lte(chatSessions.summaryRetryAt, sql`now()`))))
    .returning({ failures: chatSessions.summaryFailures });
  if (!claimed) return "waiting";

  let summary: string;
  try {
    summary = await summarise(db, chat, state.summary, older);
  } catch (error) {
    const failures = claimed.failures + 1;
    console.warn(`[chat] could not fold older turns (failure ${failures}; next try in ${summaryBackoffMs(failures) / 1000} s)`, error);
    await db
      .update(chatSessions)
      .set({ summaryFailures: failures, summaryRetryAt: sql`now() + ${summaryBackoffMs(failures)} * interval '1 millisecond'` })
      .where(eq(chatSessions.id, chat.sessionId));
    return "failed";
  }
  // Edits and deletes while the model wrote change the turns it read: then the summary is dropped.
  const [stored] = await db
    .update(chatSessions)
    .set({ summary, summaryThroughSeq: lastTurn.seq, summaryFailures: 0, summaryRetryAt: null })
    .where(
      and(
        eq(chatSessions.id, chat.sessionId),
        sameSummary,
        sql`exists (select 1 from ${messages} where ${messages.sessionId} = ${chat.sessionId} and ${messages.seq} = ${lastTurn.seq} and ${messages.active})`,
      ),
    )
    .returning({ id: chatSessions.id });
  if (stored) {
    foldedTurns.set(chat.sessionId, (foldedTurns.get(chat.sessionId) ?? 0) + older.length);
    return "folded";
  }
  await db.update(chatSessions).set({ summaryRetryAt: null }).where(eq(chatSessions.id, chat.sessionId));
  return "outdated";
}

/** The oldest of `turns` that fit in one summary call with the summary so far. */
function turnsOneCallCanRead(turns: PromptTurnRow[], chat: MemoryOwner, summary: string) {
  let available = chat.window - SUMMARY_MAX_TOKENS - estimateTokens(SUMMARY_PROMPT + summary, chat.scale) - 64;
  const fitting: PromptTurnRow[] = [];
  for (const turn of turns) {
    available -= estimateMessages([turn], chat.scale);
    if (available < 0 && fitting.length > 0) break;
    fitting.push(turn);
  }
  return fitting;
}

/** The running summary rewritten with `turns` folded in; an empty answer is a failure. */
async function summarise(db: Database, chat: MemoryOwner, summary: string, turns: PromptTurnRow[]) {
  const transcript = turns.map((t) => `${t.role === "user" ? chat.names.user : chat.names.char}: ${t.content}`).join("\n");
  const response = await completeChat({
    model: chat.model,
    temperature: 0.2,
    maxTokens: SUMMARY_MAX_TOKENS,
    messages: [
      { role: "system", content: SUMMARY_PROMPT },
      { role: "user", content: `Summary so far:\n${summary || "(none)"}\n\nNew turns:\n${transcript}` },
    ],
  }, chat.userId ? { db, userId: chat.userId } : undefined);
  const written = response.message.content.trim().replace(/^(summary|요약)\s*[:：]\s*/i, "");
  if (!written) throw new Error(`the model wrote an empty summary (done_reason ${response.done_reason})`);
  return written;
}
