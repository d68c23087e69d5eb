import { describe, expect, it } from "vitest";
import { characterInputSchema, idSchema, messageTextSchema, nameSchema, voiceInputSchema } from "./schemas";

const ok = (schema: { safeParse(v: unknown): { success: boolean } }, value: unknown) => schema.safeParse(value).success;

describe("text inputs", () => {
  const name = nameSchema(80, "Give it a name.");

  it("accept Korean, emoji and ordinary punctuation", () => {
    expect(ok(name, "헤르미온느 그레인저")).toBe(true);
    expect(ok(name, "ARIA-7 🚀")).toBe(true);
    expect(ok(messageTextSchema, "안녕!\n\t*미소 짓는다*")).toBe(true);
  });

  it("refuse NUL, other control characters and lone surrogates everywhere", () => {
    for (const bad of ["a\u0000b", "a\u0007b", "a\u001bb", "a\u0085b", "x\uD800", "\uDC00x", "\uFFFF"]) {
      expect(ok(messageTextSchema, bad), JSON.stringify(bad)).toBe(false);
      expect(ok(name, bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it("refuse names that render as nothing or read in another direction", () => {
    for (const bad of ["\u200B", "\u200B\u200C\u2060", "\u3164", "\u115F\u1160", "\u2800", " \u00A0 ", "evil\u202Eexe.txt", "a\u2066b"]) {
      expect(ok(name, bad), JSON.stringify(bad)).toBe(false);
    }
    expect(ok(name, "줄\n바꿈")).toBe(false);
  });

  it("apply to the fields people name things with", () => {
    expect(ok(characterInputSchema, { name: "\u200B" })).toBe(false);
    expect(ok(characterInputSchema, { name: "미나", tags: ["\u202E"] })).toBe(false);
    expect(ok(voiceInputSchema, { name: "목소리", refAudioPath: "presets/a\u0000.wav", promptLang: "ko" })).toBe(false);
  });

  it("ids are letters, digits, dashes and underscores only", () => {
    expect(ok(idSchema, "preset-aria")).toBe(true);
    expect(ok(idSchema, crypto.randomUUID())).toBe(true);
    for (const bad of ["", "../x", "a b", "x".repeat(65), "a\u0000", "' or 1=1"]) expect(ok(idSchema, bad)).toBe(false);
  });
});
