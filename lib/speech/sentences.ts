/**
 * What a cloned voice reads out of a chat reply, one sentence at a time.
 *
 * `spokenText` strips the Markdown and role-play narration a voice must not read; `splitSentences`
 * and `SentenceSplitter` cut text into sentences (Korean, Japanese, Chinese and Latin punctuation,
 * ellipses, closing quotes, line breaks) so speech can start before the reply has finished.
 * The streaming splitter and the one-shot function share one scanner, and the scanner only commits
 * to a boundary once no later text could change it, so both always give the same sentences.
 */

/**
 * A sentence is cut (at its last space or comma) once it would grow past this many characters,
 * so speech never waits for ever; punctuation ending it may run a few characters past the limit.
 */
export const MAX_SENTENCE_CHARS = 200;
/** How far past the limit a sentence's ending punctuation and closing quotes may run (`…?!」`). */
const ENDING_SLACK = 10;

// ---------------------------------------------------------------------------------------------
// Sentence boundaries
// ---------------------------------------------------------------------------------------------

/** Characters that can end a sentence; a run of them (`?!`, `...`, `……`) is read as one. */
const TERMINALS = new Set([".", "!", "?", "…", "⋯", "。", "！", "？", "．", "｡", "‼", "⁇", "⁈", "⁉"]);
/** Full-width stops end a sentence even with no space after them (CJK text rarely has one). */
const FULL_WIDTH_STOPS = new Set(["。", "！", "？", "｡"]);
/** `!` and `?` end a sentence when Hangul, kana or Han follows directly (`정말?그래`). */
const EXCLAMATIONS = new Set(["!", "?", "‼", "⁇", "⁈", "⁉"]);
/** Closing quotes and brackets (and a narration's closing `*`) stay with the sentence they close. */
const CLOSERS = new Set(['"', "'", "”", "’", "」", "』", ")", "）", "]", "】", "》", "〉", "〕", "〗", "〙", "｣", "»", "›", "*"]);
/** After a closing quote, one of these starts the next sentence with no space (`「はい。」「いいえ。」`). */
const CJK_OPENERS = new Set(["「", "『", "（", "【", "《", "〈", "〔", "〖", "〘", "｢", "“", "‘"]);
/** Where an over-long sentence may be cut besides a space; the comma stays with the first part. */
const COMMAS = new Set([",", "、", "，", "､", "﹐"]);
/** A `.` after one of these (lower-cased) and a space does not end the sentence: `Mr. Kim`. */
const ABBREVIATIONS = new Set(["mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "cf", "e.g", "i.e"]);

const SPACE = /\s/;
const DIGIT = /\p{Nd}/u;
const CJK_LETTER = /[\p{Script=Hangul}\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
const HAN_OR_KATAKANA = /[\p{Script=Han}\p{Script=Katakana}]/u;

const isSpace = (char: string) => SPACE.test(char);
const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

/** One sentence found in a buffer: it ends before `end`; the next one is looked for from `next`. */
interface Cut {
  end: number;
  next: number;
}

/**
 * The sentence starting at `start` (a non-space character), or null when the text so far cannot
 * tell yet where it ends. `final` says nothing will follow the buffer. Any answer other than null
 * depends only on characters already in the buffer, which is what makes streaming safe.
 */
function findSentence(buffer: string, start: number, final: boolean): Cut | null {
  const limit = start + MAX_SENTENCE_CHARS;
  let i = start;
  while (i < buffer.length) {
    const char = buffer.charAt(i);
    if (char === "\n" || char === "\r") return { end: i, next: i + 1 };
    if (i >= limit) return longCut(buffer, start);
    if (!TERMINALS.has(char)) {
      i++;
      continue;
    }
    let runEnd = i;
    while (runEnd < buffer.length && TERMINALS.has(buffer.charAt(runEnd))) runEnd++;
    let clusterEnd = runEnd;
    while (clusterEnd < buffer.length && CLOSERS.has(buffer.charAt(clusterEnd))) clusterEnd++;
    if (clusterEnd > limit + ENDING_SLACK) return longCut(buffer, start);
    if (clusterEnd === buffer.length) return final ? { end: clusterEnd, next: clusterEnd } : null;
    const ends = endsSentence(buffer, start, i, runEnd, clusterEnd, final);
    if (ends === null) return null;
    if (ends) return { end: clusterEnd, next: clusterEnd };
    i = clusterEnd;
  }
  return final ? { end: buffer.length, next: buffer.length } : null;
}

/**
 * Whether the punctuation `buffer[runStart, runEnd)`, followed by closers up to `clusterEnd`,
 * ends the sentence, judging by the character after it (null: that character is still half-sent).
 */
function endsSentence(buffer: string, start: number, runStart: number, runEnd: number, clusterEnd: number, final: boolean): boolean | null {
  if (isHighSurrogate(buffer.charCodeAt(clusterEnd)) && clusterEnd + 1 === buffer.length && !final) return null;
  const next = String.fromCodePoint(buffer.codePointAt(clusterEnd) ?? 0);
  const run = buffer.slice(runStart, runEnd);
  const closed = clusterEnd > runEnd;
  if (isSpace(next)) return !(run === "." && !closed && isAbbreviationOrNumber(buffer, start, runStart));
  if (closed) return HAN_OR_KATAKANA.test(next) || CJK_OPENERS.has(next);
  if ([...run].some((char) => FULL_WIDTH_STOPS.has(char))) return true;
  if (run.includes("．")) return !DIGIT.test(next);
  return [...run].some((char) => EXCLAMATIONS.has(char)) && CJK_LETTER.test(next);
}

/** `Mr.`, `e.g.`… before the dot at `dot`, or a list number (`1.`) that is all the sentence has so far. */
function isAbbreviationOrNumber(buffer: string, start: number, dot: number): boolean {
  let wordStart = dot;
  while (wordStart > start && /[A-Za-z.]/.test(buffer.charAt(wordStart - 1))) wordStart--;
  if (ABBREVIATIONS.has(buffer.slice(wordStart, dot).toLowerCase())) return true;
  return /^\d{1,2}$/.test(buffer.slice(start, dot));
}

/** A sentence too long to wait for: cut at the last space or comma within the limit, else at the limit. */
function longCut(buffer: string, start: number): Cut {
  const limit = start + MAX_SENTENCE_CHARS;
  for (let p = limit; p > start; p--) {
    const char = buffer.charAt(p);
    if (isSpace(char)) return { end: p, next: p + 1 };
    if (p < limit && COMMAS.has(char)) return { end: p + 1, next: p + 1 };
  }
  const end = isHighSurrogate(buffer.charCodeAt(limit - 1)) ? limit - 1 : limit;
  return { end, next: end };
}

function skipSpaces(buffer: string, from: number): number {
  let i = from;
  while (i < buffer.length && isSpace(buffer.charAt(i))) i++;
  return i;
}

/**
 * Cuts a streamed reply into sentences as it arrives. `push` each delta and speak the sentences it
 * returns; `flush` once the reply is complete for whatever is left. However the text is chunked,
 * the sentences are exactly those of `splitSentences` on the whole text: a sentence is only given
 * out once its end is certain (after `.`, the next character must show it is not `...`, a decimal,
 * or followed by a closing quote). After `flush` the splitter is empty and can be reused.
 */
export class SentenceSplitter {
  #buffer = "";

  /** Adds a delta; returns the sentences it completed (often none). */
  push(delta: string): string[] {
    this.#buffer += delta;
    return this.#drain(false);
  }

  /** Ends the text; returns the sentences still pending. */
  flush(): string[] {
    const sentences = this.#drain(true);
    this.#buffer = "";
    return sentences;
  }

  #drain(final: boolean): string[] {
    const buffer = this.#buffer;
    const sentences: string[] = [];
    let start = skipSpaces(buffer, 0);
    while (start < buffer.length) {
      const cut = findSentence(buffer, start, final);
      if (!cut) break;
      const sentence = buffer.slice(start, cut.end).replace(/\s+/g, " ").trim();
      if (sentence) sentences.push(sentence);
      start = skipSpaces(buffer, cut.next);
    }
    this.#buffer = buffer.slice(start);
    return sentences;
  }
}

/** The sentences of a finished text, trimmed, none empty (the same rules as `SentenceSplitter`). */
export function splitSentences(text: string): string[] {
  const splitter = new SentenceSplitter();
  return [...splitter.push(text), ...splitter.flush()];
}

// ---------------------------------------------------------------------------------------------
// Spoken text
// ---------------------------------------------------------------------------------------------

export interface SpokenTextOptions {
  /** Leave out role-play narration written between single asterisks (`*웃으며*`). Default true. */
  skipNarration?: boolean;
}

const CODE_MARK_OPEN = "\uE000";
const CODE_MARK_CLOSE = "\uE001";
const FENCE = /^[ \t]{0,3}(`{3,}|~{3,})/;
const INLINE_CODE = /(`+)(.*?[^`])\1(?!`)/g;
const CODE_PLACEHOLDER = /\uE000(\d+)\uE001/g;
const BLOCKQUOTE = /^[ \t]*(?:>[ \t]?)+/;
const RULE = /^[ \t]*(?:([-*_])(?:[ \t]*\1){2,}|=+)[ \t]*$/;
const HEADING = /^[ \t]*#{1,6}(?:[ \t]+|$)/;
const HEADING_CLOSE = /[ \t]+#+[ \t]*$/;
const LIST_ITEM = /^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?/;
const LINK_DEFINITION = /^[ \t]*\[[^\]]+\]:[ \t]*\S+.*$/;
const IMAGE = /!\[[^\]\n]*\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+(?:"[^"]*"|'[^']*'))?\)/g;
const LINK = /\[([^\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+(?:"[^"]*"|'[^']*'))?\)/g;
const REFERENCE_LINK = /\[([^\]\n]+)\]\[[^\]\n]*\]/g;
const AUTOLINK = /<(?:https?:\/\/|mailto:)[^>\s]*>/gi;
const BARE_URL = /(?:\bhttps?:\/\/|(?<![\p{L}\p{N}])www\.)[^\s<>"'”’「」()（）[\]]*[^\s<>"'”’「」()（）[\].,;:!?。、，！？]/giu;
const BOLD = /\*\*(?=[^\s*])([^*]*?[^\s*])\*\*/g;
const BOLD_UNDERSCORE = /(?<![\p{L}\p{N}_])__(?=[^\s_])([^_]*?[^\s_])__(?![\p{L}\p{N}_])/gu;
const ITALIC_UNDERSCORE = /(?<![\p{L}\p{N}_])_(?=[^\s_])([^_]*?[^\s_])_(?![\p{L}\p{N}_])/gu;
const NARRATION = /\*(?=[^\s*])([^*]*?[^\s*])\*/g;
const PUNCTUATION = /\p{P}/u;
/** Punctuation left alone by what was removed before it (`참고. <url>.`, `*웃음*. 안녕`). */
const ORPHAN_PUNCTUATION = /(^|[.,;:!?…。、，！？] )[.,;:!?。、，！？]+(?= |$)/g;
/** A line with no letter or digit (`...`, an emoji) has nothing for a voice to say. */
const SPEAKABLE = /[\p{L}\p{N}]/u;
const SPACE_BEFORE_PUNCTUATION = / +(?=[.,!?;:…。、，！？)\]）」』])/g;

/**
 * What a TTS voice should read of a chat reply: Markdown syntax goes (code blocks entirely; inline
 * code, bold, link labels and list items keep their words; URLs, headings' `#`, bullets and `>`
 * go), and with `skipNarration` (the default) so does role-play narration between single asterisks.
 * Spaces are collapsed; line breaks are kept as single `\n`s, since each line is read as a sentence;
 * a line left with no letter or digit (`...`, an emoji, narration only) is dropped.
 */
export function spokenText(text: string, options: SpokenTextOptions = {}): string {
  const skipNarration = options.skipNarration ?? true;
  const lines = text.replace(/[\uE000\uE001]/g, "").split(/\r\n|\r|\n/);
  const spoken: string[] = [];
  let fence: string | null = null;
  for (const line of lines) {
    if (fence !== null) {
      const close = FENCE.exec(line);
      if (close?.[1] && close[1][0] === fence[0] && close[1].length >= fence.length && line.trim() === close[1]) fence = null;
      continue;
    }
    const open = FENCE.exec(line);
    if (open?.[1]) {
      fence = open[1];
      continue;
    }
    const words = spokenLine(line, skipNarration);
    if (words) spoken.push(words);
  }
  return spoken.join("\n");
}

function spokenLine(source: string, skipNarration: boolean): string {
  if (RULE.test(source) || LINK_DEFINITION.test(source)) return "";
  const code: string[] = [];
  let line = source.replace(INLINE_CODE, (_match, _ticks: string, inner: string) => {
    code.push(inner.trim());
    return `${CODE_MARK_OPEN}${code.length - 1}${CODE_MARK_CLOSE}`;
  });
  line = line.replace(BLOCKQUOTE, "");
  if (HEADING.test(line)) line = line.replace(HEADING, "").replace(HEADING_CLOSE, "");
  line = line
    .replace(LIST_ITEM, "")
    .replace(IMAGE, " ")
    .replace(LINK, "$1")
    .replace(REFERENCE_LINK, "$1")
    .replace(AUTOLINK, " ")
    .replace(BARE_URL, " ")
    .replace(BOLD, "$1")
    .replace(NARRATION, skipNarration ? " " : "$1")
    .replace(/\*{2,}/g, ""); // bold whose other half is in another piece
  line = skipNarration ? dropUnclosedNarration(line) : line;
  line = line
    .replace(/\*/g, "")
    .replace(BOLD_UNDERSCORE, "$1")
    .replace(ITALIC_UNDERSCORE, "$1")
    .replace(/`/g, "")
    .replace(CODE_PLACEHOLDER, (_match, index: string) => code[Number(index)] ?? "");
  line = line.replace(/\s+/g, " ").trim().replace(ORPHAN_PUNCTUATION, "$1").replace(SPACE_BEFORE_PUNCTUATION, "").trim();
  return SPEAKABLE.test(line) ? line : "";
}

/**
 * Narration cut in two by the sentence splitter (`*그녀는 웃었다.` … `고개를 끄덕였다.*`) leaves an
 * asterisk with no partner: a closing one drops the words before it, an opening one the words after.
 */
function dropUnclosedNarration(line: string): string {
  const stars: number[] = [];
  for (let i = 0; i < line.length; i++) if (line[i] === "*") stars.push(i);
  if (stars.length === 0) return line;
  const before = (i: number) => line.charAt(i - 1);
  const after = (i: number) => line.charAt(i + 1);
  const closes = (i: number) => i > 0 && !isSpace(before(i)) && (i === line.length - 1 || isSpace(after(i)) || PUNCTUATION.test(after(i)));
  const opens = (i: number) => i < line.length - 1 && !isSpace(after(i)) && (i === 0 || isSpace(before(i)) || PUNCTUATION.test(before(i)));
  let from = 0;
  const first = stars[0] ?? 0;
  if (closes(first) && !opens(first)) from = first + 1;
  const opener = stars.find((i) => i >= from && opens(i));
  const to = opener === undefined ? line.length : opener;
  return line.slice(from, to);
}
