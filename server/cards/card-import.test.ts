import { describe, expect, it } from "vitest";
import { parseCardFile, parseCardJson } from "./card";
import { base64Json, cardPng, fullV2Card, v1Card, v3Card } from "./test-cards";

describe("parseCardJson", () => {
  it("imports a V1 card, keeping placeholders as written", () => {
    const card = v1Card();
    expect(parseCardJson(JSON.stringify(card))).toEqual({
      name: "민준",
      persona: card.description,
      description: "",
      greeting: card.first_mes,
      alternateGreetings: [],
      exampleDialogue: card.mes_example,
      scenario: { opponent: "", situation: card.scenario, background: "" },
      systemPrompt: "",
      category: "",
      tags: [],
      extensions: {},
      cardExtras: { personality: "느긋함, 다정함" },
      voice: null,
    });
  });

  it("imports every field of a V2 card and keeps unknown extensions and extra fields verbatim", () => {
    const { data } = fullV2Card();
    expect(parseCardJson(JSON.stringify(fullV2Card()))).toEqual({
      name: "서연",
      persona: data.description,
      description: data.creator_notes,
      greeting: data.first_mes,
      alternateGreetings: data.alternate_greetings,
      exampleDialogue: data.mes_example,
      scenario: { opponent: "", situation: data.scenario, background: "" },
      systemPrompt: data.system_prompt,
      category: "",
      tags: ["일상", "힐링", "서점"],
      extensions: data.extensions,
      cardExtras: {
        personality: data.personality,
        post_history_instructions: data.post_history_instructions,
        character_book: data.character_book,
        creator: data.creator,
        character_version: data.character_version,
      },
      voice: null,
    });
  });

  it("imports a V3 card: V3 extras kept, our namespace read into scenario, category and voice", () => {
    const { data } = v3Card();
    const { avatarforge, ...otherExtensions } = data.extensions;
    const imported = parseCardJson(JSON.stringify(v3Card()));
    expect(imported).toMatchObject({
      name: "하린",
      persona: data.description,
      description: data.creator_notes,
      scenario: avatarforge.scenario,
      category: "SF",
      tags: ["SF"],
      voice: avatarforge.voice,
      extensions: otherExtensions,
    });
    expect(imported.extensions).not.toHaveProperty("avatarforge");
    // Empty values export writes anyway are not kept.
    expect(imported.cardExtras).toEqual({
      character_book: data.character_book,
      nickname: "린",
      creator_notes_multilingual: data.creator_notes_multilingual,
      source: data.source,
      group_only_greetings: data.group_only_greetings,
      assets: data.assets,
      creation_date: data.creation_date,
      modification_date: data.modification_date,
    });
  });

  it("falls back to the card's scenario text when our namespace's scenario is not valid", () => {
    const card = v3Card();
    const broken = { ...card, data: { ...card.data, extensions: { avatarforge: { scenario: "plain", voice: { id: 1 } } } } };
    const imported = parseCardJson(JSON.stringify(broken));
    expect(imported.scenario).toEqual({ opponent: "", situation: card.data.scenario, background: "" });
    expect(imported.voice).toBeNull();
    expect(imported.category).toBe("");
  });

  it("accepts a byte order mark, nulls for optional fields, and drops blank greetings and tags", () => {
    const card = { spec: "chara_card_v2", spec_version: "2.0", data: { name: "  지우 ", description: null, alternate_greetings: ["", "안녕!"], tags: [" ", "태그"], character_book: null } };
    const imported = parseCardJson(`\uFEFF${JSON.stringify(card)}`);
    expect(imported).toMatchObject({ name: "지우", persona: "", alternateGreetings: ["안녕!"], tags: ["태그"], cardExtras: {} });
  });
});

describe("parseCardFile", () => {
  it("reads a PNG with only a chara chunk and returns the PNG as the portrait", async () => {
    const png = await cardPng([{ keyword: "chara", text: base64Json(fullV2Card()) }]);
    const { character, portrait } = parseCardFile(png);
    expect(character.name).toBe("서연");
    expect(portrait).toBe(png);
  });

  it("reads a PNG with only a ccv3 chunk", async () => {
    const png = await cardPng([{ keyword: "ccv3", text: base64Json(v3Card()) }]);
    expect(parseCardFile(png).character.name).toBe("하린");
  });

  it("prefers ccv3 over chara when both are present, whatever their order", async () => {
    const chara = { keyword: "chara", text: base64Json(fullV2Card()) };
    const ccv3 = { keyword: "ccv3", text: base64Json(v3Card()) };
    expect(parseCardFile(await cardPng([chara, ccv3])).character.name).toBe("하린");
    expect(parseCardFile(await cardPng([ccv3, chara])).character.name).toBe("하린");
  });

  it("reads a JSON file, with or without a byte order mark", () => {
    const json = Buffer.from(JSON.stringify(v3Card()), "utf8");
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json]);
    expect(parseCardFile(json)).toEqual({ character: parseCardJson(JSON.stringify(v3Card())), portrait: null });
    expect(parseCardFile(withBom).character.name).toBe("하린");
  });
});
