import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { jsonDepth, MAX_CARD_DEPTH, parseCardJson } from "./card";
import { domainErrorOf, v3Card } from "./test-cards";


const withData = (data: Record<string, unknown>) => {
  const card = v3Card();
  return { ...card, data: { ...card.data, ...data } };
};

describe("cards an attacker writes", () => {
  it("drops __proto__ (and constructor/prototype) keys wherever they are, so the character reads back for everyone", () => {
    // Written by hand: JSON.stringify never writes a __proto__ key, an attacker does.
    const text = `{"spec":"chara_card_v3","spec_version":"3.0","data":{"name":"미나","__proto__":{"polluted":true},
      "extensions":{"__proto__":{"isAdmin":true},"constructor":{"x":1},"keep":1},
      "character_book":{"entries":[{"__proto__":{"a":1},"keys":["k"]}]}}}`;
    const character = parseCardJson(text);
    expect(Object.keys(character.extensions)).toEqual(["keep"]);
    expect(JSON.stringify(character.cardExtras)).not.toContain("__proto__");
    expect(character.lorebook.entries).toMatchObject([{ keys: ["k"], content: "" }]);
    // What failed for every reader before: superjson refuses a __proto__ key on the way out.
    expect(() => superjson.serialize(character)).not.toThrow();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it("takes NUL and other control characters out of everything it keeps, and mends broken surrogates", () => {
    const character = parseCardJson(
      JSON.stringify(withData({ name: "미\u0000나", description: "a\u0007b", creator: "x\uD800y", extensions: { "k\u0000": "v\u0001" } })),
    );
    expect(character.name).toBe("미나");
    expect(character.persona).toBe("ab");
    expect(character.cardExtras.creator).toBe("x\uFFFDy");
    expect(character.extensions).toEqual({ k: "v" });
  });

  it("refuses a card nested deeper than any real one, before parsing it", async () => {
    const deep = `{"spec":"chara_card_v3","spec_version":"3.0","data":{"name":"x","extensions":${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}}}`;
    const error = await domainErrorOf(() => parseCardJson(deep));
    expect(error.params).toMatchObject({ reason: "card_invalid" });
    expect(error.message).toContain(`${MAX_CARD_DEPTH} levels`);
  });

  it("measures nesting without being fooled by brackets inside strings", () => {
    expect(jsonDepth('{"a":[{"b":"[[[[{{{{"}]}')).toBe(3);
    expect(jsonDepth('{"a":"\\"{{{"}')).toBe(1);
    expect(jsonDepth("[]")).toBe(1);
  });

  it("refuses names made only of invisible characters or with direction overrides", async () => {
    expect((await domainErrorOf(() => parseCardJson(JSON.stringify(withData({ name: "\u200B\u3164" }))))).params).toMatchObject({ reason: "card_invalid", field: "name" });
    expect((await domainErrorOf(() => parseCardJson(JSON.stringify(withData({ name: "abc\u202Egpj.exe" }))))).params).toMatchObject({ reason: "card_invalid", field: "name" });
  });
});
