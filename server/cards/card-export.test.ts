import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { buildCardV2, buildCardV3, exportCardJson, exportCardPng, parseCardFile, parseCardJson, type ExportableCharacter } from "./card";
import { readChunks, readTextChunks } from "./png-chunks";
import { base64Json, cardPng, fullV2Card, portraitPng, v1Card, v3Card } from "./test-cards";

const imported = {
  "a V1 card": () => parseCardJson(JSON.stringify(v1Card())),
  "a V2 card with every field": () => parseCardJson(JSON.stringify(fullV2Card())),
  "a V3 card with our namespace": () => parseCardJson(JSON.stringify(v3Card())),
};

const decodeChunk = (text: string): unknown => JSON.parse(Buffer.from(text, "base64").toString("utf8"));

describe("round trip", () => {
  it.each(Object.entries(imported))("gives back %s unchanged through a JSON file", (_, load) => {
    const character = load();
    expect(parseCardJson(exportCardJson(character))).toEqual(character);
  });

  it.each(Object.entries(imported))("gives back %s unchanged through a PNG file", async (_, load) => {
    const character = load();
    const png = await exportCardPng(character, await portraitPng());
    expect(parseCardFile(png).character).toEqual(character);
  });

  it("gives back our own fields unchanged", () => {
    const character: ExportableCharacter = {
      ...parseCardJson(JSON.stringify(fullV2Card())),
      scenario: { opponent: "{{char}}의 오랜 친구", situation: "", background: "1990년대 서울" },
      category: "일상",
      voice: { id: "v", name: "목소리", refAudioPath: "/refs/a.wav", promptText: "안녕", promptLang: "ko", params: {} },
    };
    expect(parseCardJson(exportCardJson(character))).toEqual(character);
  });
});

describe("lorebook round trip", () => {
  it("carries a lorebook edited here through a card, SillyTavern's fields included", () => {
    const character: ExportableCharacter = {
      ...parseCardJson(JSON.stringify(fullV2Card())),
      lorebook: {
        scanDepth: 6,
        tokenBudget: 300,
        entries: [
          { id: "entry-2", name: "고양이", keys: ["고양이", "먼지"], content: "회색 고양이.", enabled: false, constant: true, caseSensitive: true, wholeWords: true, order: 7 },
          { id: "new-one", name: "", keys: ["용"], content: "용은 북쪽에 산다.", enabled: true, constant: false, caseSensitive: false, wholeWords: true, order: 100 },
        ],
      },
    };
    const book = buildCardV3(character).data.character_book as { scan_depth: number; token_budget: number; name: string; entries: Record<string, unknown>[] };
    expect(book).toMatchObject({ name: "빗소리 책방", scan_depth: 6, token_budget: 300 });
    expect(book.entries).toEqual([
      {
        keys: ["고양이", "먼지"],
        content: "회색 고양이.",
        enabled: false,
        constant: true,
        case_sensitive: true,
        insertion_order: 7,
        comment: "고양이",
        position: "after_char",
        extensions: { sillytavern: { probability: 100 }, match_whole_words: true },
      },
      { keys: ["용"], content: "용은 북쪽에 산다.", enabled: true, constant: false, case_sensitive: false, insertion_order: 100, comment: "", extensions: { match_whole_words: true } },
    ]);
    const again = parseCardJson(exportCardJson(character));
    expect(again.lorebook).toEqual({ ...character.lorebook, entries: character.lorebook.entries.map((e, i) => ({ ...e, id: `entry-${i + 1}` })) });
  });

  it("writes no character_book for a character without one", () => {
    expect(buildCardV2(parseCardJson(JSON.stringify(v1Card()))).data).not.toHaveProperty("character_book");
  });
});

describe("exportCardPng", () => {
  it("writes exactly one chara (V2) and one ccv3 (V3) chunk right before IEND, in a valid image", async () => {
    const character = imported["a V3 card with our namespace"]();
    const png = await exportCardPng(character, await sharp(await portraitPng(40, 30)).jpeg().toBuffer());

    const chunks = readChunks(png); // throws on a bad length or CRC
    const textChunks = chunks.filter((chunk) => chunk.type === "tEXt");
    expect(chunks.map((chunk) => chunk.type).slice(-3)).toEqual(["tEXt", "tEXt", "IEND"]);
    expect(textChunks).toHaveLength(2);
    const [chara, ccv3] = readTextChunks(png);
    expect(chara?.keyword).toBe("chara");
    expect(ccv3?.keyword).toBe("ccv3");
    expect(decodeChunk(chara?.text ?? "")).toMatchObject({ spec: "chara_card_v2", spec_version: "2.0" });
    expect(decodeChunk(ccv3?.text ?? "")).toMatchObject({ spec: "chara_card_v3", spec_version: "3.0" });

    const metadata = await sharp(png).metadata();
    expect(metadata).toMatchObject({ format: "png", width: 40, height: 30 });
  });

  it("replaces the card chunks an imported portrait already carries", async () => {
    const oldCard = await cardPng([
      { keyword: "chara", text: base64Json(fullV2Card()) },
      { keyword: "ccv3", text: base64Json(fullV2Card()) },
    ]);
    const png = await exportCardPng(imported["a V3 card with our namespace"](), oldCard);
    expect(readTextChunks(png).map((chunk) => chunk.keyword)).toEqual(["chara", "ccv3"]);
    expect(parseCardFile(png).character.name).toBe("하린");
  });
});

describe("buildCardV2", () => {
  it("maps our fields onto the card, restores extras, and copies the V1 fields to the top level", () => {
    const character = imported["a V2 card with every field"]();
    const card = buildCardV2({ ...character, scenario: { opponent: "단골손님", situation: "비 오는 저녁", background: "" } });
    const { data } = fullV2Card();
    expect(card.data).toEqual({
      name: data.name,
      description: data.description,
      personality: data.personality,
      scenario: "{{user}}: 단골손님\n\n비 오는 저녁",
      first_mes: data.first_mes,
      mes_example: data.mes_example,
      creator_notes: data.creator_notes,
      system_prompt: data.system_prompt,
      post_history_instructions: data.post_history_instructions,
      alternate_greetings: data.alternate_greetings,
      character_book: {
        ...data.character_book,
        entries: [
          // our entries have one label: a card's "name" fills an empty "comment"
          { ...data.character_book.entries[0], comment: "서점", extensions: { match_whole_words: false } },
          { ...data.character_book.entries[1], case_sensitive: false, constant: false, comment: "", extensions: { sillytavern: { probability: 100 }, match_whole_words: false } },
        ],
      },
      tags: ["일상", "힐링", "서점"],
      creator: data.creator,
      character_version: data.character_version,
      extensions: {
        ...data.extensions,
        avatarforge: { scenario: { opponent: "단골손님", situation: "비 오는 저녁", background: "" }, category: "", voice: null, tagline: data.creator_notes },
      },
    });
    expect(card).toMatchObject({
      spec: "chara_card_v2",
      spec_version: "2.0",
      name: data.name,
      description: data.description,
      personality: data.personality,
      scenario: card.data.scenario,
      first_mes: data.first_mes,
      mes_example: data.mes_example,
    });
  });

  it("leaves V3-only extras out", () => {
    const card = buildCardV2(imported["a V3 card with our namespace"]());
    expect(card.data).not.toHaveProperty("nickname");
    expect(card.data).not.toHaveProperty("group_only_greetings");
  });
});

describe("buildCardV3", () => {
  it("always has group_only_greetings and empty defaults", () => {
    const { data } = buildCardV3(imported["a V1 card"]());
    expect(data).toMatchObject({ group_only_greetings: [], post_history_instructions: "", creator: "", character_version: "" });
    expect(data).not.toHaveProperty("creation_date");
  });

  it("dates the card in unix seconds, keeping an imported creation date", () => {
    const createdAt = new Date("2025-01-02T03:04:05.678Z");
    const updatedAt = new Date("2025-06-07T08:09:10.000Z");
    const fresh = buildCardV3({ ...imported["a V1 card"](), createdAt, updatedAt }).data;
    expect(fresh).toMatchObject({ creation_date: 1_735_787_045, modification_date: 1_749_283_750 });

    const reimported = buildCardV3({ ...imported["a V3 card with our namespace"](), createdAt, updatedAt }).data;
    expect(reimported).toMatchObject({ creation_date: 1_700_000_000, modification_date: 1_749_283_750 });
  });
});
