import type { Lorebook, LorebookEntry } from "@/lib/schemas";
import { estimateTokens } from "./budget";

/*
 * World info (SillyTavern's lorebook): an entry joins the prompt while one of its keywords is
 * found in the latest messages, or always when it is constant. Pure: the prompt builder and the
 * prompt inspector both call it, so what the inspector shows is what is sent.
 */

/** Why an entry is in the prompt, or why not. */
export type LoreStatus =
  | { active: true; reason: "constant" }
  | { active: true; reason: "keyword"; key: string }
  | { active: false; reason: "disabled" | "no_match" | "empty" }
  /** matched, but the book's token budget was spent on entries that go first */
  | { active: false; reason: "over_budget"; key?: string };

export interface LoreDecision {
  entry: LorebookEntry;
  status: LoreStatus;
  /** estimated tokens of the entry's text */
  tokens: number;
}

export interface LoreActivation {
  /** the active entries, in the order they go into the prompt (higher `order` first) */
  active: LorebookEntry[];
  /** every entry of the book, in the book's order, with what was decided */
  decisions: LoreDecision[];
}

const HANGUL = /[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]/u;
const WORD = /[\p{L}\p{N}_]/u;

/**
 * Whether `key` occurs in `text`. As a whole word, a key must not be glued to letters on either
 * side; a key beginning in Hangul only must not follow another Hangul letter, and one ending in
 * Hangul may be followed by anything, because Korean particles attach to the word ("용이", "용을").
 */
export function keyMatches(text: string, key: string, options: { caseSensitive: boolean; wholeWords: boolean }): boolean {
  const needle = options.caseSensitive ? key : key.toLowerCase();
  const haystack = options.caseSensitive ? text : text.toLowerCase();
  if (!needle) return false;
  if (!options.wholeWords) return haystack.includes(needle);
  const first = [...needle][0]!;
  const last = [...needle].at(-1)!;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) {
    const before = charBefore(haystack, at);
    const after = charAfter(haystack, at + needle.length);
    const startsClean = before === "" || (HANGUL.test(first) ? !HANGUL.test(before) : !WORD.test(before));
    const endsClean = after === "" || HANGUL.test(last) || !WORD.test(after);
    if (startsClean && endsClean) return true;
  }
  return false;
}

function charBefore(text: string, index: number): string {
  if (index === 0) return "";
  const code = text.charCodeAt(index - 1);
  // a low surrogate: the character is the pair before it
  return code >= 0xdc00 && code <= 0xdfff && index >= 2 ? text.slice(index - 2, index) : text.slice(index - 1, index);
}

function charAfter(text: string, index: number): string {
  const point = text.codePointAt(index);
  return point === undefined ? "" : String.fromCodePoint(point);
}

/**
 * Which entries of `book` join the prompt, given the conversation (oldest first): keywords are
 * looked for in the last `scanDepth` messages, the character's and the user's alike. Active
 * entries are taken by `order`, higher first, until the next one would pass the token budget.
 */
export function activateLorebook(book: Lorebook, messages: readonly { content: string }[], scale = 1): LoreActivation {
  const scanned = messages.slice(-book.scanDepth).map((m) => m.content);
  const matched = new Map<string, LoreStatus & { active: true }>();
  const decisions = new Map<string, LoreDecision>();
  for (const entry of book.entries) {
    const tokens = estimateTokens(entry.content, scale);
    if (!entry.enabled) decisions.set(entry.id, { entry, tokens, status: { active: false, reason: "disabled" } });
    else if (!entry.content.trim()) decisions.set(entry.id, { entry, tokens, status: { active: false, reason: "empty" } });
    else if (entry.constant) matched.set(entry.id, { active: true, reason: "constant" });
    else {
      const key = entry.keys.find((k) => scanned.some((text) => keyMatches(text, k, entry)));
      if (key === undefined) decisions.set(entry.id, { entry, tokens, status: { active: false, reason: "no_match" } });
      else matched.set(entry.id, { active: true, reason: "keyword", key });
    }
  }
  const candidates = book.entries.filter((e) => matched.has(e.id)).sort((a, b) => b.order - a.order);
  const active: LorebookEntry[] = [];
  let used = 0;
  let full = false;
  for (const entry of candidates) {
    const tokens = estimateTokens(entry.content, scale);
    const status = matched.get(entry.id)!;
    full ||= used + tokens > book.tokenBudget;
    if (full) {
      decisions.set(entry.id, { entry, tokens, status: { active: false, reason: "over_budget", ...(status.reason === "keyword" && { key: status.key }) } });
      continue;
    }
    used += tokens;
    active.push(entry);
    decisions.set(entry.id, { entry, tokens, status });
  }
  return { active, decisions: book.entries.map((entry) => decisions.get(entry.id)!) };
}
