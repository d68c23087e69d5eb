// Cards as RisuAI and SillyTavern make them (issue 16): files carried by PNG chunks and data:
// URIs, their checks, their way back out, lorebook decorators, and real cards' sizes.
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { checkCardFiles, type CardFile } from "./assets";
import { buildCardV3, exportCardJson, exportCardPng, parseCardFile, parseCardJson, type ExportFile } from "./card";
import { readTextChunks } from "./png-chunks";
import { base64Json, cardPng, colourPng, domainErrorOf, fullV2Card, risuCardData, risuLorebook, risuPng, risuV2Png, sillyTavernV2Png, v3Card } from "./test-cards";

const decode = (text: string): Record<string, unknown> => JSON.parse(Buffer.from(text, "base64").toString("utf8"));
const asExport = (files: CardFile[], contentType = "image/png"): ExportFile[] =>
  files.map((f) => ({ kind: f.kind, type: f.type, name: f.name, ext: f.ext, contentType, bytes: f.bytes }));

function file(bytes: Buffer, type: string | null = "emotion", ext = "png", kind: CardFile["kind"] = "asset"): CardFile {
  return { kind, type, name: "joy", ext, path: `assets/${type}/image/joy.${ext}`, position: 0, bytes, sha256: "x" };
}

describe("RisuAI PNG cards", () => {
  it("imports every chara-ext-asset_:N file its V3 card links as __asset:N, and keeps no link", async () => {
    const { png, emotions } = await risuPng({ emotions: 8 });
    const { character, portrait } = parseCardFile(png);
    expect(character.files.map((f) => [f.type, f.name, f.ext])).toEqual(emotions.map((e) => ["emotion", e.name, "png"]));
    expect(character.files.map((f) => f.bytes)).toEqual(emotions.map((e) => e.bytes));
    expect(character.files[0]!.path).toBe("assets/emotion/image/neutral.png");
    expect(JSON.stringify({ ...character, files: [] })).not.toContain("__asset:");
    expect(character.cardExtras).not.toHaveProperty("assets");
    // The portrait is the picture alone, not the 100s of kB of chunks around it.
    expect(portrait!.length).toBeLessThan(png.length / 2);
    expect((await sharp(portrait!).metadata()).width).toBe(80);
  });

  it("imports an older V2 card's emotions from extensions.risuai, drops its VITS links, and keeps its other RisuAI settings", async () => {
    const { png, emotions } = await risuV2Png(3);
    const { character } = parseCardFile(png);
    expect(character.files.map((f) => [f.type, f.name])).toEqual(emotions.map((e) => ["emotion", e.name]));
    const risuai = character.extensions.risuai as Record<string, unknown>;
    expect(risuai).not.toHaveProperty("emotions");
    expect(risuai.vits).toEqual({});
    expect(risuai.customScripts).toEqual(fullV2Card().data.extensions.risuai.customScripts);
    expect(JSON.stringify(character.extensions)).not.toContain("__asset:");
  });

  it("refuses a card whose __asset:N has no chunk (as RisuAI does), and a chunk that is not base64", async () => {
    const card = { spec: "chara_card_v3", spec_version: "3.0", data: risuCardData("하나", [{ type: "emotion", uri: "__asset:4", name: "joy", ext: "png" }]) };
    const missing = await domainErrorOf(async () => parseCardFile(await cardPng([{ keyword: "ccv3", text: base64Json(card) }])));
    expect(missing.params).toMatchObject({ reason: "card_asset_missing", index: "4" });
    const broken = await domainErrorOf(async () => parseCardFile(await cardPng([{ keyword: "chara-ext-asset_:4", text: "not base64!" }, { keyword: "ccv3", text: base64Json(card) }])));
    expect(broken.params).toMatchObject({ reason: "card_bad_base64" });
  });

  it("writes the files back as chara-ext-asset_:N chunks the V3 card links, and reads them back the same", async () => {
    const { png } = await risuPng({ emotions: 5 });
    const { character } = parseCardFile(png);
    const exported = await exportCardPng(character, await colourPng(0), asExport(character.files));
    const chunks = readTextChunks(exported);
    expect(chunks.filter((c) => c.keyword.startsWith("chara-ext-asset_:")).map((c) => c.keyword)).toEqual([1, 2, 3, 4, 5].map((n) => `chara-ext-asset_:${n}`));
    const v3 = decode(chunks.find((c) => c.keyword === "ccv3")!.text) as { data: { assets: { uri: string; name: string; type: string }[] } };
    expect(v3.data.assets.map((a) => a.uri)).toEqual(["ccdefault:", "__asset:1", "__asset:2", "__asset:3", "__asset:4", "__asset:5"]);
    // Every link resolves: each N names a chunk of this file.
    for (const asset of v3.data.assets.slice(1)) expect(chunks.some((c) => c.keyword === `chara-ext-asset_:${asset.uri.slice(8)}`)).toBe(true);
    // The V2 chunk links nothing.
    expect(Buffer.from(chunks.find((c) => c.keyword === "chara")!.text, "base64").toString()).not.toContain("__asset:");
    const again = parseCardFile(exported).character;
    expect(again.files.map((f) => [f.name, f.sha256])).toEqual(character.files.map((f) => [f.name, f.sha256]));
  });

  it("never writes an unresolved __asset: link, even from extensions an older import kept", () => {
    const character = parseCardJson(JSON.stringify(fullV2Card()));
    character.extensions = { risuai: { emotions: [["joy", "__asset:7"], ["calm", "hub-id"]], additionalAssets: [["x", "__asset:8", "png"]], vits: { a: "__asset:9" } } };
    character.cardExtras = { ...character.cardExtras, assets: [{ type: "emotion", uri: "__asset:2", name: "sad", ext: "png" }] };
    const text = JSON.stringify(buildCardV3(character));
    expect(text).not.toContain("__asset:");
    expect(text).toContain("hub-id");
  });
});

describe("JSON cards with data: URIs (RisuAI's JSON export)", () => {
  it("imports data: URI assets as files and writes them back as data: URIs", async () => {
    const joy = await colourPng(4);
    const card = v3Card();
    card.data.assets = [
      { type: "icon", uri: "ccdefault:", name: "main", ext: "png" },
      { type: "emotion", uri: `data:application/octet-stream;base64,${joy.toString("base64")}`, name: "joy", ext: "png" },
      { type: "background", uri: "https://example.com/bg.png", name: "bg", ext: "png" },
    ];
    const character = parseCardJson(JSON.stringify(card));
    expect(character.files.map((f) => [f.type, f.name, f.bytes.equals(joy)])).toEqual([["emotion", "joy", true]]);
    expect(character.cardExtras.assets).toEqual([{ type: "background", uri: "https://example.com/bg.png", name: "bg", ext: "png" }]);
    const exported = JSON.parse(exportCardJson(character, asExport(character.files))) as { data: { assets: { uri: string }[] } };
    expect(exported.data.assets.map((a) => a.uri.slice(0, 22))).toEqual(["ccdefault:", "data:image/png;base64,", "https://example.com/bg"]);
    expect(parseCardJson(JSON.stringify(exported)).files[0]!.bytes.equals(joy)).toBe(true);
  });
});

describe("checking a card's files", () => {
  it("takes real pictures (PNG, JPEG, WebP, GIF) by their bytes, and keeps other files as opaque downloads", async () => {
    const base = sharp({ create: { width: 20, height: 10, channels: 3, background: "teal" } });
    const checked = await checkCardFiles([
      file(await base.clone().png().toBuffer()),
      file(await base.clone().jpeg().toBuffer(), "emotion", "png"), // RisuAI calls every emotion .png
      file(await base.clone().webp().toBuffer(), "background", "webp"),
      file(await base.clone().gif().toBuffer(), "x-risu-asset", "gif"),
      file(Buffer.from("ID3\u0003 sound"), "x-risu-asset", "mp3"),
      file(Buffer.from("<svg onload=alert(1)>"), "emotion", "svg"),
      file(Buffer.from("{}"), null, "", "x_meta"),
      file(Buffer.from("risum"), null, "", "module"),
    ]);
    expect(checked.map((f) => f.contentType)).toEqual([
      "image/png",
      "image/jpeg",
      "image/webp",
      "image/gif",
      "application/octet-stream",
      "application/octet-stream",
      "application/json",
      "application/octet-stream",
    ]);
  });

  it.each([
    ["text that claims to be a PNG", async () => file(Buffer.from("this is not a picture"))],
    ["an emotion with no extension that is not a picture", async () => file(Buffer.from("nothing"), "emotion", "")],
    ["a PNG cut short", async () => file((await colourPng(3, 200)).subarray(0, 120))],
    [
      "a PNG whose header claims 100,000 × 100,000 pixels (a decompression bomb)",
      async () => {
        const png = Buffer.from(await colourPng(3));
        png.writeUInt32BE(100_000, 16);
        png.writeUInt32BE(100_000, 20);
        return file(png);
      },
    ],
    ["a PNG hidden behind another type's name", async () => file(Buffer.concat([(await colourPng(1)).subarray(0, 40), Buffer.alloc(40)]), "x-risu-asset", "bin")],
  ])("refuses %s, naming the file", async (_, make) => {
    const error = await domainErrorOf(async () => checkCardFiles([await make()]));
    expect(error.params).toMatchObject({ reason: "card_asset_not_image" });
    expect(String(error.params.name)).toContain("joy");
  });
});

describe("lorebook decorators", () => {
  const risuCard = () => ({ spec: "chara_card_v3", spec_version: "3.0", data: risuCardData("장식", [], 9) });
  type Entry = { content: string; extensions: Record<string, unknown> };
  const entriesOf = (json: string) => (JSON.parse(json) as { data: { character_book: { entries: Entry[] } } }).data.character_book.entries;

  it("reads whole-word matching from @@match_full_word / @@match_partial_word and keeps the others aside, out of the text", () => {
    const { lorebook } = parseCardJson(JSON.stringify(risuCard()));
    expect(lorebook.entries[0]).toMatchObject({ wholeWords: true, content: "설정 0: 첫 줄.\n둘째 줄." });
    expect(lorebook.entries[1]).toMatchObject({ wholeWords: false, content: "설정 1." });
    expect(lorebook.entries[2]).toMatchObject({ content: "설정 2, 장식 없음." });
    expect(lorebook.entries.some((e) => e.content.includes("@@"))).toBe(false);
  });

  it("writes each kept decorator once, and whole-word matching as the extension only", () => {
    const exported = entriesOf(exportCardJson(parseCardJson(JSON.stringify(risuCard()))));
    expect(exported[0]!.content).toBe("@@depth 4\n@@role system\n설정 0: 첫 줄.\n둘째 줄.");
    expect(exported[0]!.extensions.match_whole_words).toBe(true);
    expect(exported[1]!.content).toBe("설정 1.");
    expect(exported[1]!.extensions.match_whole_words).toBe(false);
  });

  it("is stable: import → export → import → export gives the same card, decorators not stacked", () => {
    const first = exportCardJson(parseCardJson(JSON.stringify(risuCard())));
    const second = exportCardJson(parseCardJson(first));
    const strip = (text: string) => ({ ...JSON.parse(text).data, modification_date: 0, creation_date: 0 });
    expect(strip(second)).toEqual(strip(first));
  });

  it("stays stable through RisuAI too (which turns match_whole_words into a decorator on import), and mends a card already stacked", () => {
    // What RisuAI's importer does to an entry of ours, then its exporter writes out as it is.
    const throughRisu = (text: string) => {
      const card = JSON.parse(text);
      for (const entry of card.data.character_book.entries as Entry[]) {
        const { match_whole_words: whole, ...rest } = entry.extensions;
        if (whole === true) entry.content = `@@match_full_word\n${entry.content}`;
        if (whole === false) entry.content = `@@match_partial_word\n${entry.content}`;
        entry.extensions = rest;
      }
      return JSON.stringify(card);
    };
    let text = exportCardJson(parseCardJson(JSON.stringify(risuCard())));
    const once = entriesOf(text).map((e) => e.content);
    for (let round = 0; round < 3; round++) text = exportCardJson(parseCardJson(throughRisu(text)));
    expect(entriesOf(text).map((e) => e.content)).toEqual(once);
    expect(entriesOf(throughRisu(text))[0]!.content.match(/@@match_full_word/g)).toHaveLength(1);

    const stacked = risuCard();
    stacked.data.character_book.entries[0]!.content = "@@depth 4\n@@match_partial_word\n@@depth 4\n@@match_partial_word\n본문";
    const mended = entriesOf(exportCardJson(parseCardJson(JSON.stringify(stacked))));
    expect(mended[0]!.content).toBe("@@depth 4\n본문");
    expect(mended[0]!.extensions.match_whole_words).toBe(false);
  });

  it("takes a decorator an owner typed at the top of an entry once, whatever is kept", () => {
    const character = parseCardJson(JSON.stringify(risuCard()));
    character.lorebook.entries[0]!.content = "@@depth 4\n@@match_partial_word\n고친 본문";
    const exported = entriesOf(exportCardJson(character))[0]!;
    expect(exported.content).toBe("@@depth 4\n@@role system\n고친 본문");
    expect(exported.extensions.match_whole_words).toBe(false);
  });
});

describe("real cards' sizes", () => {
  it("imports a SillyTavern V2 PNG with a 20,000-character description, 40 long greetings and 200 lorebook entries", async () => {
    const { png, card } = await sillyTavernV2Png();
    const { character } = parseCardFile(png);
    expect(character.persona).toBe(card.data.description.trim());
    expect(character.persona.length).toBeGreaterThan(19_000);
    expect(character.alternateGreetings).toHaveLength(40);
    expect(character.lorebook.entries).toHaveLength(200);
    // And goes back out the same.
    const again = parseCardFile(await exportCardPng(character, await colourPng(2))).character;
    expect(again.lorebook).toEqual(character.lorebook);
    expect(again.persona).toBe(character.persona);
  });

  it("imports a RisuAI lorebook of 1,000 entries", () => {
    const card = { spec: "chara_card_v3", spec_version: "3.0", data: { ...risuCardData("큰 책", []), character_book: risuLorebook(1_000) } };
    expect(parseCardJson(JSON.stringify(card)).lorebook.entries).toHaveLength(1_000);
  });
});
