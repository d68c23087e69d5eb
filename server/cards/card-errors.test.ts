import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { CHARX_MAX_BYTES } from "@/lib/charx-limits";
import { CHARACTER_LIMITS, LIMITS, LOREBOOK_LIMITS } from "@/lib/schemas";
import { CARD_ERROR_REASONS, parseCardFile, parseCardJson } from "./card";
import { base64Json, cardPng, domainErrorOf, fullV2Card, portraitPng, v1Card } from "./test-cards";

const json = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8");

async function expectReason(run: () => unknown, reason: (typeof CARD_ERROR_REASONS)[number], field?: string) {
  const error = await domainErrorOf(run);
  expect(error.code).toBe("bad_input");
  expect(error.params.reason).toBe(reason);
  if (field) expect(error.params.field).toBe(field);
  expect(error.message).toMatch(/\.$/);
  return error;
}

function withData(data: Record<string, unknown>) {
  const card = fullV2Card();
  return { ...card, data: { ...card.data, ...data } };
}

describe("files that are not cards", () => {
  it.each([
    ["a GIF", () => sharp({ create: { width: 4, height: 4, channels: 3, background: "red" } }).gif().toBuffer()],
    ["random bytes", async () => Buffer.from([0x00, 0xff, 0x13, 0x37, 0xc3, 0x28, 0x80, 0x01])],
    ["a text file", async () => Buffer.from("안녕하세요, 그냥 텍스트 파일입니다.\n", "utf8")],
    ["a JSON array", async () => Buffer.from("[1, 2, 3]")],
  ])("rejects %s", async (_, make) => {
    const bytes = await make();
    await expectReason(() => parseCardFile(bytes), "card_not_card_file");
  });

  it("rejects a PNG without a card chunk", async () => {
    const png = await cardPng([{ keyword: "Comment", text: "just a picture" }]);
    await expectReason(() => parseCardFile(png), "card_no_chunk");
  });

  it("rejects a PNG with a bad checksum", async () => {
    const png = await cardPng([{ keyword: "chara", text: base64Json(fullV2Card()) }]);
    const damaged = Buffer.from(png);
    const inChunkText = damaged.length - 20;
    damaged.writeUInt8(damaged.readUInt8(inChunkText) ^ 0xff, inChunkText);
    await expectReason(() => parseCardFile(damaged), "card_malformed_png");
  });

  it("rejects a truncated PNG", async () => {
    const png = await cardPng([{ keyword: "chara", text: base64Json(fullV2Card()) }]);
    await expectReason(() => parseCardFile(png.subarray(0, png.length - 30)), "card_malformed_png");
    await expectReason(() => parseCardFile(png.subarray(0, 10)), "card_malformed_png");
  });
});

describe("broken card data", () => {
  it.each([
    ["characters outside the alphabet", "eyJuYW1lIjoi7ISc7JewIn0=!"],
    ["bad padding", "eyJuYW1lIjoiYSJ9="],
    ["a missing padding character", "eyJuYW1lIjoiYWIifQ="],
  ])("rejects base64 with %s", async (_, text) => {
    const png = await cardPng([{ keyword: "chara", text }]);
    await expectReason(() => parseCardFile(png), "card_bad_base64");
  });

  it("rejects invalid JSON, in a PNG chunk or a file", async () => {
    const png = await cardPng([{ keyword: "ccv3", text: Buffer.from('{"spec": "chara_card_v3", "data": {').toString("base64") }]);
    await expectReason(() => parseCardFile(png), "card_bad_json");
    await expectReason(() => parseCardFile(Buffer.from('{ name: "서연" }')), "card_bad_json");
  });

  it("rejects chunk text that is not UTF-8", async () => {
    const png = await cardPng([{ keyword: "chara", text: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString("base64") }]);
    await expectReason(() => parseCardFile(png), "card_bad_json");
  });

  it.each([
    ["an unknown spec", { spec: "chara_card_v9", spec_version: "9.0", data: v1Card() }],
    ["a null spec", { spec: null, data: v1Card() }],
    ["a V2 card without data", { spec: "chara_card_v2", spec_version: "2.0", ...v1Card() }],
    ["a V3 card whose data is not an object", { spec: "chara_card_v3", spec_version: "3.0", data: "하린" }],
  ])("rejects %s", async (_, card) => {
    await expectReason(() => parseCardFile(json(card)), "card_unknown_spec");
  });

  it.each([
    ["name", { name: "가".repeat(CHARACTER_LIMITS.name + 1) }, "name"],
    ["description → persona", { description: "가".repeat(CHARACTER_LIMITS.persona + 1) }, "persona"],
    ["creator_notes → creatorNotes", { creator_notes: "a".repeat(CHARACTER_LIMITS.creatorNotes + 1) }, "creatorNotes"],
    ["personality", { personality: "a".repeat(CHARACTER_LIMITS.personality + 1) }, "personality"],
    ["first_mes → greeting", { first_mes: "a".repeat(CHARACTER_LIMITS.greeting + 1) }, "greeting"],
    ["mes_example → exampleDialogue", { mes_example: "a".repeat(CHARACTER_LIMITS.exampleDialogue + 1) }, "exampleDialogue"],
    ["one alternate greeting", { alternate_greetings: ["a".repeat(CHARACTER_LIMITS.greeting + 1)] }, "alternateGreetings"],
    ["scenario", { scenario: "a".repeat(LIMITS.scenarioField + 1) }, "scenario.situation"],
    ["character_book → lorebook entry", { character_book: { entries: [{ keys: ["a"], content: "가".repeat(LOREBOOK_LIMITS.content + 1) }] } }, "lorebook.entries.content"],
    [
      "character_book → lorebook, all entries together",
      { character_book: { entries: Array.from({ length: 21 }, (_, i) => ({ keys: [`k${i}`], content: "x".repeat(LOREBOOK_LIMITS.totalContent / 20) })) } },
      "lorebook.entries",
    ],
    ["character_book (kept extras)", { character_book: { entries: [{ keys: ["a"], content: "a", extensions: { big: "가".repeat(800_000) } }] } }, "cardExtras"],
  ])("rejects a card whose %s is over its limit, naming the field", async (_, data, field) => {
    const error = await expectReason(() => parseCardJson(JSON.stringify(withData(data))), "card_field_too_long", field);
    expect(error.params.max).toEqual(expect.any(Number));
  });

  it.each([
    ["alternate greetings", { alternate_greetings: Array.from({ length: CHARACTER_LIMITS.alternateGreetings + 1 }, (_, i) => `인사 ${i}`) }, "alternateGreetings"],
    ["tags", { tags: Array.from({ length: CHARACTER_LIMITS.tags + 1 }, (_, i) => `tag${i}`) }, "tags"],
    ["character_book → lorebook", { character_book: { entries: Array.from({ length: LOREBOOK_LIMITS.entries + 1 }, (_, i) => ({ keys: [`k${i}`], content: "x" })) } }, "lorebook.entries"],
  ])("rejects a card with more %s than allowed, naming the field", async (_, data, field) => {
    const error = await expectReason(() => parseCardJson(JSON.stringify(withData(data))), "card_field_too_many", field);
    expect(error.params.max).toEqual(expect.any(Number));
  });

  it("says which lorebook entry is too long", async () => {
    const entries = [{ keys: ["a"], content: "짧음" }, { keys: ["b"], content: "가".repeat(LOREBOOK_LIMITS.content + 1) }];
    const error = await expectReason(() => parseCardJson(JSON.stringify(withData({ character_book: { entries } }))), "card_field_too_long", "lorebook.entries.content");
    expect(error.params.entry).toBe(2);
    expect(error.message).toContain("number 2");
  });

  it("takes cards as large as real ones: tens of thousands of characters, hundreds of greetings and lorebook entries", () => {
    const character = parseCardJson(
      JSON.stringify(
        withData({
          description: "가".repeat(60_000),
          first_mes: "a".repeat(30_000),
          alternate_greetings: Array.from({ length: 200 }, (_, i) => `인사 ${i} ${"말".repeat(500)}`),
          character_book: { entries: Array.from({ length: 1_000 }, (_, i) => ({ keys: [`k${i}`], content: "설정".repeat(400) })) },
        }),
      ),
    );
    expect(character.persona.length).toBe(60_000);
    expect(character.alternateGreetings).toHaveLength(200);
    expect(character.lorebook.entries).toHaveLength(1_000);
  });

  it.each([
    ["name is missing", { name: undefined }, "name"],
    ["name is not a string", { name: 42 }, "name"],
    ["name is blank", { name: "   " }, "name"],
    ["first_mes is an object", { first_mes: { text: "안녕" } }, "greeting"],
    ["tags is a string", { tags: "일상" }, "tags"],
    ["extensions is an array", { extensions: [] }, "extensions"],
    ["personality is a number", { personality: 1 }, "personality"],
  ])("rejects a card whose %s", async (_, data, field) => {
    await expectReason(() => parseCardJson(JSON.stringify(withData(data))), "card_invalid", field);
  });

  it("rejects a V1 card without a name", async () => {
    const { name: _, ...nameless } = v1Card();
    await expectReason(() => parseCardFile(json(nameless)), "card_invalid", "name");
  });
});

describe("size", () => {
  it("rejects a PNG over the card file limit (a PNG may carry its files, up to a CharX's size) before reading it", async () => {
    const png = await portraitPng();
    const oversized = Buffer.concat([png, Buffer.alloc(CHARX_MAX_BYTES)]);
    const error = await expectReason(() => parseCardFile(oversized), "card_too_large");
    expect(error.params.mb).toBe(CHARX_MAX_BYTES / 1024 / 1024);
  });

  it("rejects a JSON file over the card size limit before reading it", async () => {
    const oversized = Buffer.concat([Buffer.from("{"), Buffer.alloc(CHARACTER_LIMITS.cardBytes, 0x20)]);
    const error = await expectReason(() => parseCardFile(oversized), "card_too_large");
    expect(error.params.mb).toBe(CHARACTER_LIMITS.cardBytes / 1024 / 1024);
  });

  it("rejects JSON text over the card size limit", async () => {
    const text = JSON.stringify({ ...v1Card(), padding: " ".repeat(CHARACTER_LIMITS.cardBytes) });
    await expectReason(() => parseCardJson(text), "card_too_large");
  });
});

