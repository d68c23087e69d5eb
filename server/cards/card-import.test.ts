import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { emptyLorebook } from "@/lib/schemas";
import { parseCardFile, parseCardJson, taglineOf } from "./card";
import { base64Json, cardPng, fullV2Card, v1Card, v3Card } from "./test-cards";

describe("parseCardJson", () => {
  it("imports a V1 card, keeping placeholders as written", () => {
    const card = v1Card();
    expect(parseCardJson(JSON.stringify(card))).toEqual({
      name: "민준",
      persona: card.description,
      personality: "느긋함, 다정함",
      creatorNotes: "",
      description: "",
      lorebook: emptyLorebook,
      greeting: card.first_mes,
      alternateGreetings: [],
      exampleDialogue: card.mes_example,
      scenario: { opponent: "", situation: card.scenario, background: "" },
      systemPrompt: "",
      category: "",
      tags: [],
      extensions: {},
      cardExtras: {},
      voice: null,
      files: [],
    });
  });

  it("imports every field of a V2 card and keeps unknown extensions and extra fields verbatim", () => {
    const { data } = fullV2Card();
    expect(parseCardJson(JSON.stringify(fullV2Card()))).toEqual({
      name: "서연",
      persona: data.description,
      personality: data.personality,
      creatorNotes: data.creator_notes,
      description: data.creator_notes,
      lorebook: {
        scanDepth: 4,
        tokenBudget: 512,
        entries: [
          {
            id: "entry-1",
            name: "서점",
            keys: ["서점", "책방"],
            content: "서점 이름은 '빗소리 책방'이다. {{char}}가 3년째 운영 중.",
            enabled: true,
            constant: false,
            caseSensitive: false,
            wholeWords: false,
            order: 100,
          },
          {
            id: "entry-2",
            name: "",
            keys: ["고양이"],
            content: "서점에는 '먼지'라는 회색 고양이가 산다.",
            enabled: true,
            constant: false,
            caseSensitive: false,
            wholeWords: false,
            order: 50,
          },
        ],
      },
      greeting: data.first_mes,
      alternateGreetings: data.alternate_greetings,
      exampleDialogue: data.mes_example,
      scenario: { opponent: "", situation: data.scenario, background: "" },
      systemPrompt: data.system_prompt,
      category: "",
      tags: ["일상", "힐링", "서점"],
      extensions: data.extensions,
      cardExtras: {
        post_history_instructions: data.post_history_instructions,
        // what the lorebook does not hold, kept for export
        character_book: {
          name: "빗소리 책방",
          recursive_scanning: false,
          extensions: {},
          entryExtras: {
            "entry-1": { name: "서점", priority: 10, id: 1, selective: false, secondary_keys: [], position: "before_char" },
            "entry-2": { extensions: { sillytavern: { probability: 100 } }, position: "after_char" },
          },
        },
        creator: data.creator,
        character_version: data.character_version,
      },
      voice: null,
      files: [],
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
      files: [],
    });
    expect(imported.extensions).not.toHaveProperty("avatarforge");
    // Empty values export writes anyway are not kept.
    // The decorator is a directive, kept aside, not text the model would read.
    expect(imported.lorebook.entries).toMatchObject([{ keys: ["신호"], content: "신호는 13광년 밖에서 왔다.", order: 1 }]);
    // The portrait's `ccdefault:` asset is not kept: export writes the portrait itself.
    expect(imported.cardExtras).toEqual({
      character_book: { extensions: {}, entryExtras: { "entry-1": { use_regex: false } }, entryDecorators: { "entry-1": ["@@depth 2"] } },
      nickname: "린",
      creator_notes_multilingual: data.creator_notes_multilingual,
      source: data.source,
      group_only_greetings: data.group_only_greetings,
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
  it("reads a PNG with only a chara chunk and returns its picture, without the card's text, as the portrait", async () => {
    const png = await cardPng([{ keyword: "chara", text: base64Json(fullV2Card()) }]);
    const { character, portrait } = parseCardFile(png);
    expect(character.name).toBe("서연");
    expect(portrait).not.toBeNull();
    expect(portrait!.length).toBeLessThan(png.length);
    expect(portrait!.includes("chara")).toBe(false);
    expect((await sharp(portrait!).raw().toBuffer()).equals(await sharp(png).raw().toBuffer())).toBe(true);
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

describe("taglineOf", () => {
  it("takes the first line of creator notes that says something, without markup", () => {
    expect(taglineOf("<p align=center><img src=x></p>\n\n## **비 오는 날의 서점**\n자세한 설명")).toBe("비 오는 날의 서점");
    expect(taglineOf("https://example.com\n---\n> 한 줄 소개")).toBe("한 줄 소개");
    expect(taglineOf("")).toBe("");
  });

  it("shortens a long line at a word", () => {
    const tagline = taglineOf(`${"word ".repeat(60)}end`);
    expect(tagline.length).toBeLessThanOrEqual(141);
    expect(tagline.endsWith("word…")).toBe(true);
  });
});

describe("lorebook import", () => {
  it("reads SillyTavern's entry fields into the lorebook, forgiving types and clamping numbers", () => {
    const card = {
      spec: "chara_card_v2",
      spec_version: "2.0",
      data: {
        name: "용사",
        character_book: {
          scan_depth: 500,
          token_budget: 1,
          entries: [
            { keys: ["용", 3, "  "], content: "용은 산에 산다.", constant: true, case_sensitive: true, insertion_order: 20_000, comment: "용\n설정", extensions: { match_whole_words: true } },
            { keys: ["검"], content: "전설의 검.", enabled: "yes" },
            "not an entry",
          ],
        },
      },
    };
    const { lorebook } = parseCardJson(JSON.stringify(card));
    expect(lorebook).toEqual({
      scanDepth: 100,
      tokenBudget: 16,
      entries: [
        { id: "entry-1", name: "용 설정", keys: ["용"], content: "용은 산에 산다.", enabled: true, constant: true, caseSensitive: true, wholeWords: true, order: 10_000 },
        { id: "entry-2", name: "", keys: ["검"], content: "전설의 검.", enabled: true, constant: false, caseSensitive: false, wholeWords: false, order: 100 },
      ],
    });
  });
});
