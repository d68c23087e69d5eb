import { describe, expect, it } from "vitest";
import { en } from "./en";
import { resolveLocale, translator } from "./index";
import { ko } from "./ko";

/** `{name}` and `{name|이/가}` both name the parameter `name`. */
const params = (text: string) => [...text.matchAll(/\{(?:[^\w{}|]*(\w+)[^\w{}|]*\|[^{}]+|(\w+))\}/g)].map((m) => m[1] ?? m[2]).sort();

describe("message catalogs", () => {
  it("Korean has every English key with the same parameters", () => {
    expect(Object.keys(ko).sort()).toEqual(Object.keys(en).sort());
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(params(ko[key]), key).toEqual(params(en[key]));
    }
  });

  it("fills parameters", () => {
    expect(translator("ko")("chat.placeholder", { name: "헤르미온느" })).toBe("헤르미온느에게 메시지 보내기…");
    expect(translator("en")("chat.placeholder", { name: "Aria" })).toBe("Message Aria…");
  });
});

describe("resolveLocale", () => {
  it("prefers the cookie, then the browser's languages by weight", () => {
    expect(resolveLocale("en", "ko-KR,ko;q=0.9")).toBe("en");
    expect(resolveLocale(undefined, "fr-FR,en;q=0.8,ko;q=0.5")).toBe("en");
    expect(resolveLocale(undefined, "ko-KR,ko;q=0.9,en;q=0.8")).toBe("ko");
    expect(resolveLocale("xx", "de-DE")).toBe("ko");
    expect(resolveLocale(undefined, null)).toBe("ko");
  });
});
