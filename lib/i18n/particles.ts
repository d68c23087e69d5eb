/**
 * Korean particles that depend on the word before them: 이/가, 은/는, 을/를, 와/과, 으로/로,
 * 이에요/예요 and 아/야. The choice follows how the word is read aloud, so a name ending in a digit
 * or a Latin letter is read in Korean ("3" → 삼, "Bob" → 밥, "Amy" → 에이미), and closing quotes,
 * brackets and punctuation after the word are skipped (`“별”이`, `(Aria)가`).
 */

export const PARTICLES = ["이/가", "은/는", "을/를", "와/과", "으로/로", "이에요/예요", "아/야", "이나/나", "이랑/랑"] as const;
export type Particle = (typeof PARTICLES)[number];

const HANGUL_FIRST = 0xac00;
const HANGUL_LAST = 0xd7a3;
/** ㄹ's index among the final consonants (jongseong) */
const RIEUL = 8;

/** How each digit is read (일, 이, 삼 …): its final consonant index, 0 for none. */
const DIGIT_FINAL: Record<string, number> = { "0": 21 /* 영: ㅇ */, "1": RIEUL, "2": 0, "3": 16 /* 삼: ㅁ */, "4": 0, "5": 0, "6": 1 /* 육: ㄱ */, "7": RIEUL, "8": RIEUL, "9": 0 };

/**
 * A Latin word's last sound as Koreans read it: l → ㄹ (엘, Paul → 폴); m, n, ng → a closed
 * syllable (엠, 엔); a voiceless stop after a short vowel (Bob → 밥, Mark → 마크 is open, so only
 * b/p/k/t after a vowel close it); every other letter opens (에이, 비, 씨, 에프).
 */
function latinFinal(word: string): number {
  const lower = word.toLowerCase();
  const last = lower.at(-1) ?? "";
  if (lower.length === 1) return last === "l" ? RIEUL : "mnr".includes(last) ? 4 : 0;
  if (last === "l") return RIEUL;
  if (last === "m" || last === "n") return 4;
  if (lower.endsWith("ng")) return 21;
  const beforeLast = lower.at(-2) ?? "";
  if ("bkpt".includes(last) && "aeiou".includes(beforeLast) && !/[aeiou]{2}.$/.test(lower)) return 1;
  return 0;
}

/** What is skipped at the end of a word before its particle: quotes, brackets, punctuation, spaces. */
const TRAILING = /[\s"'“”‘’「」『』《》〈〉()[\]{}<>.,!?…~·:;*_-]+$/u;

/**
 * The final consonant index (0 = ends in a vowel) of the word as read, or null when it cannot be
 * told (empty, an emoji): then both forms are shown, as in "이(가)".
 */
export function finalConsonant(word: string): number | null {
  const stripped = word.replace(TRAILING, "");
  const last = stripped.at(-1);
  if (!last) return null;
  const code = last.codePointAt(0) ?? 0;
  if (code >= HANGUL_FIRST && code <= HANGUL_LAST) return (code - HANGUL_FIRST) % 28;
  if (last in DIGIT_FINAL) {
    // 10 → 십, 100 → 백, 1000 → 천, 10000 → 만: a trailing zero is read as its place.
    const zeros = /0+$/.exec(stripped)?.[0].length ?? 0;
    if (zeros > 0 && zeros < stripped.replace(/[^0-9]/g, "").length) return [0, 17 /* 십: ㅂ */, 1 /* 백: ㄱ */, 4 /* 천: ㄴ */, 4 /* 만: ㄴ */][Math.min(zeros, 4)] ?? 4;
    return DIGIT_FINAL[last] ?? null;
  }
  const latin = /[A-Za-z]+$/.exec(stripped)?.[0];
  if (latin) return latinFinal(latin);
  return null;
}

/** The particle that agrees with `word`: `withParticle("별", "이/가")` → "이". */
export function particleFor(word: string, particle: Particle): string {
  // 와/과 is written vowel-first, the others consonant-first.
  const [afterConsonant, afterVowel] = (particle === "와/과" ? ["과", "와"] : particle.split("/")) as [string, string];
  const final = finalConsonant(word);
  if (final === null) return particle === "으로/로" ? "(으)로" : particle === "와/과" ? "와(과)" : `${afterConsonant}(${afterVowel})`;
  // 으로/로: ㄹ takes 로 like a vowel (서울로, 길로).
  if (particle === "으로/로") return final === 0 || final === RIEUL ? afterVowel : afterConsonant;
  return final === 0 ? afterVowel : afterConsonant;
}

/** The word and its particle: `withParticle("“별”", "이/가")` → "“별”이". */
export function withParticle(word: string, particle: Particle): string {
  return word + particleFor(word, particle);
}

export function isParticle(value: string): value is Particle {
  return (PARTICLES as readonly string[]).includes(value);
}
