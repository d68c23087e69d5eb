import { LOREBOOK_LIMITS, type Lorebook, type LorebookEntry } from "@/lib/schemas";
import { splitDecorators, wholeWordsOf, withoutSettings } from "./decorators";

/*
 * A card's `character_book` (Character Card V2 spec, as SillyTavern writes it) and our lorebook,
 * both ways. Fields we use become ours; everything else of the book and of each entry (name,
 * recursive_scanning, secondary_keys, position, other extensions…) is kept aside, by entry, so a
 * card exported again carries it unchanged. RisuAI's `@@decorators` at the top of an entry's
 * content are directives, not text: whole-word matching becomes the entry's setting, the others
 * are kept aside by entry and written back once on export (decorators.ts).
 */

/** What of a card's book we do not use, kept in cardExtras.character_book for re-export. */
export interface KeptBook {
  /** the book's own fields we do not use */
  [field: string]: unknown;
  /** each entry's fields we do not use, by our entry id */
  entryExtras?: Record<string, Record<string, unknown>>;
  /** each entry's decorators we have no setting for (`@@depth 4`, `@@role system`…), by our entry id */
  entryDecorators?: Record<string, string[]>;
}

/** Book fields our lorebook holds. */
const BOOK_FIELDS = new Set(["entries", "scan_depth", "token_budget"]);
/** Entry fields our entries hold (`extensions.match_whole_words` too, inside extensions). */
const ENTRY_FIELDS = new Set(["keys", "content", "enabled", "constant", "case_sensitive", "insertion_order", "comment"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const clampInt = (value: unknown, min: number, max: number, fallback: number) =>
  typeof value === "number" && Number.isFinite(value) ? Math.min(max, Math.max(min, Math.round(value))) : fallback;
const bool = (value: unknown, fallback: boolean) => (typeof value === "boolean" ? value : fallback);
const oneLine = (text: string) => text.replace(/[\t\n\r\u2028\u2029]+/g, " ").trim();

/**
 * Our lorebook from a card's book, and what of it we keep aside. Types are forgiven (a missing or
 * mistyped flag takes its default, non-text keys are dropped); lengths and counts are not: the
 * caller checks the result against our limits, so a card too big is refused, not cut.
 */
export function lorebookFromCard(book: Record<string, unknown>): { lorebook: Lorebook; kept: KeptBook | null } {
  const rawEntries = Array.isArray(book.entries) ? book.entries.filter(isRecord) : [];
  const entryExtras: Record<string, Record<string, unknown>> = {};
  const entryDecorators: Record<string, string[]> = {};
  const entries = rawEntries.map((raw, index): LorebookEntry => {
    // Ids only tell a book's entries apart; by position, so a card imported twice reads the same.
    const id = `entry-${index + 1}`;
    const extensions = isRecord(raw.extensions) ? raw.extensions : {};
    const { match_whole_words: wholeWords, ...otherExtensions } = extensions;
    const rest = Object.fromEntries(Object.entries(raw).filter(([field]) => !ENTRY_FIELDS.has(field) && field !== "extensions"));
    const extras = { ...rest, ...(Object.keys(otherExtensions).length > 0 && { extensions: otherExtensions }) };
    if (Object.keys(extras).length > 0) entryExtras[id] = extras;
    const { decorators, body } = splitDecorators(typeof raw.content === "string" ? raw.content : "");
    const kept = withoutSettings(decorators);
    if (kept.length > 0) entryDecorators[id] = kept;
    const label = typeof raw.comment === "string" && raw.comment.trim() ? raw.comment : typeof raw.name === "string" ? raw.name : "";
    return {
      id,
      name: oneLine(label).slice(0, LOREBOOK_LIMITS.name),
      keys: (Array.isArray(raw.keys) ? raw.keys : []).filter((k): k is string => typeof k === "string").map(oneLine).filter(Boolean),
      content: body,
      enabled: bool(raw.enabled, true),
      constant: bool(raw.constant, false),
      caseSensitive: bool(raw.case_sensitive, false),
      // A decorator is what RisuAI goes by, over the extension.
      wholeWords: wholeWordsOf(decorators) ?? bool(wholeWords, false),
      order: clampInt(raw.insertion_order, 0, 10_000, 100),
    };
  });
  const lorebook: Lorebook = {
    scanDepth: clampInt(book.scan_depth, 1, LOREBOOK_LIMITS.scanDepth, 4),
    tokenBudget: clampInt(book.token_budget, 16, LOREBOOK_LIMITS.tokenBudget, 512),
    entries,
  };
  const bookRest = Object.fromEntries(Object.entries(book).filter(([field]) => !BOOK_FIELDS.has(field)));
  const kept: KeptBook = {
    ...bookRest,
    ...(Object.keys(entryExtras).length > 0 && { entryExtras }),
    ...(Object.keys(entryDecorators).length > 0 && { entryDecorators }),
  };
  return { lorebook, kept: Object.keys(kept).length > 0 ? kept : null };
}

/** A card's `character_book` from our lorebook and what was kept of the card's; none for an empty book. */
export function lorebookToCard(lorebook: Lorebook, kept: unknown): Record<string, unknown> | undefined {
  const { entryExtras, entryDecorators, entries: _older, ...bookRest } = isRecord(kept) ? kept : {};
  if (lorebook.entries.length === 0 && Object.keys(bookRest).length === 0) return undefined;
  const extrasOf = (id: string) => (isRecord(entryExtras) && isRecord(entryExtras[id]) ? entryExtras[id] : {});
  return {
    ...bookRest,
    scan_depth: lorebook.scanDepth,
    token_budget: lorebook.tokenBudget,
    entries: lorebook.entries.map((entry) => {
      const extras = extrasOf(entry.id);
      const extensions = isRecord(extras.extensions) ? extras.extensions : {};
      // Decorators kept from the card, then any the owner typed at the top of the text, each once;
      // whole-word matching goes out as the extension only (RisuAI makes it a decorator itself).
      const own = splitDecorators(entry.content);
      const keptLines = isRecord(entryDecorators) && Array.isArray(entryDecorators[entry.id]) ? (entryDecorators[entry.id] as unknown[]).filter((l): l is string => typeof l === "string") : [];
      const decorators = [...new Set([...keptLines, ...withoutSettings(own.decorators)])];
      const wholeWords = wholeWordsOf(own.decorators) ?? entry.wholeWords;
      return {
        ...extras,
        keys: entry.keys,
        content: decorators.length > 0 ? [...decorators, own.body].join("\n") : own.body,
        enabled: entry.enabled,
        constant: entry.constant,
        case_sensitive: entry.caseSensitive,
        insertion_order: entry.order,
        comment: entry.name,
        ...(typeof extras.name === "string" && { name: entry.name }),
        extensions: { ...extensions, match_whole_words: wholeWords },
      };
    }),
  };
}
