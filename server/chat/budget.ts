/**
 * Token budgeting without the model's tokenizer: a per-script estimate, corrected per chat with
 * the real `prompt_eval_count` Ollama reports after each reply.
 */

/** Share of the context window the prompt may fill before older turns are summarised. */
export const SUMMARY_TRIGGER = 0.8;
/** Turns kept word for word when older ones are summarised. */
export const VERBATIM_TURNS = 16;
/** Per-message overhead of chat templates (role markers, separators). */
const MESSAGE_OVERHEAD = 4;

const HANGUL_OR_CJK = /[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]/u;

/** Rough token count: CJK and Hangul ≈ 1 token per character, other scripts ≈ 1 per 3.5. */
export function estimateTokens(text: string, scale = 1): number {
  let cjk = 0;
  let other = 0;
  for (const char of text) {
    if (HANGUL_OR_CJK.test(char)) cjk++;
    else other++;
  }
  return Math.ceil((cjk + other / 3.5) * scale);
}

export function estimateMessages(messages: readonly { content: string }[], scale = 1): number {
  return messages.reduce((sum, m) => sum + estimateTokens(m.content, scale) + MESSAGE_OVERHEAD, 0);
}

/**
 * Learns how far off our estimate is for this chat's model and language: a moving average of
 * real ÷ estimated, clamped so one odd reply can't swing the budget.
 */
export function updateScale(previous: number | null, realTokens: number, estimated: number): number {
  if (realTokens <= 0 || estimated <= 0) return previous ?? 1;
  const observed = Math.min(4, Math.max(0.25, realTokens / estimated));
  return previous === null ? observed : previous * 0.7 + observed * 0.3;
}

export interface Budget {
  /** tokens the whole prompt may use */
  prompt: number;
  /** prompt size beyond which older turns are summarised */
  summariseAbove: number;
}

/** The prompt gets the window minus room for the reply (at most a quarter of the window). */
export function budgetFor(contextWindow: number, maxReplyTokens: number): Budget {
  const reply = Math.min(maxReplyTokens, Math.floor(contextWindow / 4));
  return { prompt: contextWindow - reply, summariseAbove: Math.floor(contextWindow * SUMMARY_TRIGGER) };
}

/**
 * The most recent turns that fit in `available` tokens, oldest first. The newest turn is always
 * kept: without it there is nothing to answer.
 */
export function recentTurnsThatFit<T extends { content: string }>(turns: readonly T[], available: number, scale = 1): T[] {
  const kept: T[] = [];
  let used = 0;
  for (let i = turns.length - 1; i >= 0; i--) {
    const turn = turns[i]!;
    const cost = estimateTokens(turn.content, scale) + MESSAGE_OVERHEAD;
    if (kept.length > 0 && used + cost > available) break;
    kept.unshift(turn);
    used += cost;
  }
  return kept;
}
