import { en, type MessageKey } from "./en";
import { ko } from "./ko";
import { isParticle, withParticle } from "./particles";

export const LOCALES = ["ko", "en"] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = "ko";
export const LOCALE_COOKIE = "af-locale";

export type { MessageKey };
export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

const catalogs: Record<Locale, Record<MessageKey, string>> = { en, ko };

export function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}

/** The cookie wins (the user chose); otherwise the browser's Accept-Language order. */
export function resolveLocale(cookie: string | undefined, acceptLanguage: string | null): Locale {
  if (isLocale(cookie)) return cookie;
  const wanted = (acceptLanguage ?? "")
    .split(",")
    .map((part) => {
      const [tag = "", q = "q=1"] = part.trim().split(";");
      return { lang: tag.toLowerCase().split("-")[0] ?? "", q: Number(q.split("=")[1] ?? 1) || 0 };
    })
    .filter((entry) => entry.lang)
    .sort((a, b) => b.q - a.q);
  return wanted.map((entry) => entry.lang).find(isLocale) ?? DEFAULT_LOCALE;
}

export function translator(locale: Locale): Translate {
  const catalog = catalogs[locale];
  return (key, params) => {
    const text = catalog[key] ?? en[key] ?? key;
    return params ? fill(text, params) : text;
  };
}

/**
 * `{name}` takes the parameter; `{name|이/가}` takes it with the Korean particle that agrees with
 * it ("별이", "Aria가"), and `{“name”|이/가}` quotes it first ("“별”이"), so catalogs never write
 * "이(가)".
 */
function fill(text: string, params: Record<string, string | number>) {
  return text.replace(
    /\{(?:([^\w{}|]*)(\w+)([^\w{}|]*)\|([^{}]+)|(\w+))\}/g,
    (match, open: string | undefined, name: string | undefined, close: string | undefined, particle: string | undefined, plain: string | undefined) => {
      const value = params[(name ?? plain)!];
      if (value === undefined) return match;
      if (!particle || !isParticle(particle)) return String(value);
      return withParticle(`${open ?? ""}${value}${close ?? ""}`, particle);
    },
  );
}
