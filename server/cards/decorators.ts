// Lorebook decorators: RisuAI's directives at the top of an entry's `content`, one per line,
// `@@name arg1,arg2` (and `@@@name …`, a fallback tried when the decorator before it does not
// apply). They are directives, not text: on import the ones we have a setting for become that
// setting, the others are kept aside; on export each is written once, and whatever export writes
// as an extension (whole-word matching) is never written as a decorator too, so a round trip
// through RisuAI (which turns `extensions.match_whole_words` into `@@match_…_word`) never stacks
// them up.

export interface Decorated {
  /** the decorator lines, in order, each once, trimmed */
  decorators: string[];
  /** the entry's text after them */
  body: string;
}

/** `@@depth 4` → "depth", `@@@role user` → "role". */
export function decoratorName(line: string): string {
  const name = line.replace(/^@@@?/, "");
  const space = name.search(/\s/);
  return space === -1 ? name : name.slice(0, space);
}

/** The decorator lines at the top of `content` (blank lines among them skipped), each once, and the text after them. */
export function splitDecorators(content: string): Decorated {
  const lines = content.split(/\r?\n/);
  const decorators: string[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" && decorators.length > 0) continue;
    if (!line.startsWith("@@") || decoratorName(line) === "") break;
    if (!decorators.includes(line)) decorators.push(line);
  }
  if (decorators.length === 0) return { decorators, body: content };
  return { decorators, body: lines.slice(i).join("\n") };
}

/** Whole-word matching as a decorator says it: true, false, or null when none says. The last one wins, as in RisuAI. */
export function wholeWordsOf(decorators: readonly string[]): boolean | null {
  let found: boolean | null = null;
  for (const line of decorators) {
    if (line === "@@match_full_word") found = true;
    else if (line === "@@match_partial_word") found = false;
  }
  return found;
}

/** Decorators export writes as settings instead. */
const AS_SETTINGS = new Set(["@@match_full_word", "@@match_partial_word"]);
export const withoutSettings = (decorators: readonly string[]) => decorators.filter((line) => !AS_SETTINGS.has(line));
