import { describe, expect, it } from "vitest";
import { lorebookEntrySchema, type Lorebook, type LorebookEntry } from "@/lib/schemas";
import { activateLorebook, keyMatches } from "./lorebook";

let ids = 0;
const entry = (fields: Partial<LorebookEntry> & { content: string }): LorebookEntry =>
  lorebookEntrySchema.parse({ id: `e${++ids}`, ...fields });
const book = (entries: LorebookEntry[], fields: Partial<Lorebook> = {}): Lorebook => ({ scanDepth: 4, tokenBudget: 512, entries, ...fields });
const said = (...texts: string[]) => texts.map((content) => ({ content }));
const activeIds = (b: Lorebook, messages: { content: string }[]) => activateLorebook(b, messages).active.map((e) => e.id);

const loose = { caseSensitive: false, wholeWords: false };
const whole = { caseSensitive: false, wholeWords: true };

describe("keyMatches", () => {
  it("ignores case unless the entry is case-sensitive", () => {
    expect(keyMatches("The DRAGON sleeps", "dragon", loose)).toBe(true);
    expect(keyMatches("The DRAGON sleeps", "dragon", { ...loose, caseSensitive: true })).toBe(false);
    expect(keyMatches("The Dragon sleeps", "Dragon", { ...loose, caseSensitive: true })).toBe(true);
  });

  it("matches inside words unless whole words are asked for", () => {
    expect(keyMatches("dragonfly", "dragon", loose)).toBe(true);
    expect(keyMatches("dragonfly", "dragon", whole)).toBe(false);
    expect(keyMatches("snapdragon", "dragon", whole)).toBe(false);
    expect(keyMatches("a dragon, flying", "dragon", whole)).toBe(true);
    expect(keyMatches("dragon", "dragon", whole)).toBe(true);
    expect(keyMatches("dragon_lord", "dragon", whole)).toBe(false);
  });

  it("finds a later whole-word occurrence after an embedded one", () => {
    expect(keyMatches("dragonfly and dragon", "dragon", whole)).toBe(true);
  });

  it("matches a Korean key followed by a particle as a whole word", () => {
    for (const text of ["용이 나타났다", "용을 보았다", "용은 잠들었다", "*용과 함께*", "용"]) {
      expect(keyMatches(text, "용", whole), text).toBe(true);
    }
  });

  it("does not match a Korean whole-word key preceded by another syllable", () => {
    expect(keyMatches("수용소에 갔다", "용", whole)).toBe(false);
    expect(keyMatches("사용했다", "용", whole)).toBe(false);
    // …but after a space, punctuation or a Latin letter it is a word of its own
    expect(keyMatches("거대한 용이", "용", whole)).toBe(true);
    expect(keyMatches("\"용\"이라니", "용", whole)).toBe(true);
  });

  it("matches Korean keys as substrings without whole words", () => {
    expect(keyMatches("수용소에 갔다", "용", loose)).toBe(true);
    expect(keyMatches("빗소리책방에서", "책방", loose)).toBe(true);
  });

  it("never matches an empty key", () => {
    expect(keyMatches("anything", "", loose)).toBe(false);
  });
});

describe("activateLorebook", () => {
  it("activates an entry whose key appears in the scanned messages, from either side", () => {
    const cat = entry({ keys: ["고양이"], content: "서점에는 회색 고양이가 산다." });
    const b = book([cat]);
    expect(activeIds(b, said("안녕하세요"))).toEqual([]);
    expect(activeIds(b, said("안녕하세요", "고양이 키우세요?"))).toEqual([cat.id]);
    const decision = activateLorebook(b, said("고양이 키우세요?")).decisions[0]!;
    expect(decision.status).toEqual({ active: true, reason: "keyword", key: "고양이" });
  });

  it("scans only the last scanDepth messages", () => {
    const cat = entry({ keys: ["cat"], content: "A grey cat." });
    const messages = said("a cat!", "hello", "how are you", "fine");
    expect(activeIds(book([cat], { scanDepth: 3 }), messages)).toEqual([]);
    expect(activeIds(book([cat], { scanDepth: 4 }), messages)).toEqual([cat.id]);
  });

  it("keeps constant entries always and disabled ones never", () => {
    const always = entry({ constant: true, content: "The kingdom is at war." });
    const off = entry({ keys: ["war"], enabled: false, content: "Off." });
    const offConstant = entry({ constant: true, enabled: false, content: "Off too." });
    const activation = activateLorebook(book([always, off, offConstant]), said("war!"));
    expect(activation.active.map((e) => e.id)).toEqual([always.id]);
    expect(activation.decisions.map((d) => d.status.reason)).toEqual(["constant", "disabled", "disabled"]);
  });

  it("honours case sensitivity and whole words per entry", () => {
    const sensitive = entry({ keys: ["Rose"], caseSensitive: true, content: "Rose is the queen." });
    const wholeWord = entry({ keys: ["용"], wholeWords: true, content: "용은 산에 산다." });
    const b = book([sensitive, wholeWord]);
    expect(activeIds(b, said("a rose in the 수용소"))).toEqual([]);
    expect(activeIds(b, said("Rose saw 용을"))).toEqual([sensitive.id, wholeWord.id]);
  });

  it("orders active entries by order, higher first", () => {
    const low = entry({ keys: ["a"], order: 10, content: "low" });
    const high = entry({ keys: ["a"], order: 900, content: "high" });
    const mid = entry({ constant: true, order: 100, content: "mid" });
    expect(activeIds(book([low, high, mid]), said("a"))).toEqual([high.id, mid.id, low.id]);
  });

  it("stops at the token budget, dropping the entries that go last", () => {
    // 100 Hangul syllables ≈ 100 tokens each
    const first = entry({ keys: ["열쇠"], order: 300, content: "가".repeat(100) });
    const second = entry({ keys: ["열쇠"], order: 200, content: "나".repeat(100) });
    const third = entry({ constant: true, order: 100, content: "다" });
    const activation = activateLorebook(book([third, second, first], { tokenBudget: 150 }), said("열쇠를 찾았다"));
    expect(activation.active.map((e) => e.id)).toEqual([first.id]);
    expect(activation.decisions.map((d) => [d.entry.id, d.status])).toEqual([
      [third.id, { active: false, reason: "over_budget" }],
      [second.id, { active: false, reason: "over_budget", key: "열쇠" }],
      [first.id, { active: true, reason: "keyword", key: "열쇠" }],
    ]);
  });

  it("reports why an entry is not active", () => {
    const unmatched = entry({ keys: ["dragon"], content: "A dragon." });
    const empty = entry({ keys: ["hi"], content: "" });
    const activation = activateLorebook(book([unmatched, empty]), said("hi"));
    expect(activation.decisions.map((d) => d.status)).toEqual([
      { active: false, reason: "no_match" },
      { active: false, reason: "empty" },
    ]);
  });
});
