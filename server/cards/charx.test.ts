import { zipSync, type Zippable } from "fflate";
import { describe, expect, it } from "vitest";
import { buildPlainGlb, buildVrm1 } from "@/e2e/fixtures/avatars";
import { CARD_ASSET_LIMITS, CHARX_MAX_BYTES } from "@/lib/charx-limits";
import { parseCardJson, type CardV3 } from "./card";
import { CHARX_LIMITS, CHARX_MAX_ENTRIES, endsWithZip, isCharx, isJpeg, MODEL_ASSET_TYPE, packCharx, unpackCharx, unpackCharxHere } from "./charx";
import { CARD_ERROR_REASONS } from "./errors";
import { colourPng, domainErrorOf, portraitPng, risuCharx, risuCharxJpeg, risuModuleBytes, RISU_EMOTIONS, v3Card } from "./test-cards";

const card = () => v3Card() as unknown as CardV3;
const json = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8");

/** A .charx written by hand: card.json with these assets, and these files. */
function zipOf(assets: unknown[] | null, files: Zippable = {}, cardJson?: Uint8Array): Buffer {
  const base = card();
  const text = cardJson ?? json(assets ? { ...base, data: { ...base.data, assets } } : base);
  return Buffer.from(zipSync({ "card.json": text, ...files }));
}

/** Offsets of the central directory headers ("PK\1\2"), in order. */
function centralHeaders(zip: Buffer): number[] {
  const found: number[] = [];
  for (let at = zip.indexOf("PK\u0001\u0002"); at !== -1; at = zip.indexOf("PK\u0001\u0002", at + 1)) found.push(at);
  return found;
}

/** Offsets of the local file headers ("PK\3\4"). */
function localHeaders(zip: Buffer): number[] {
  const found: number[] = [];
  for (let at = zip.indexOf("PK\u0003\u0004"); at !== -1; at = zip.indexOf("PK\u0003\u0004", at + 1)) found.push(at);
  return found;
}

async function expectReason(run: () => unknown, reason: (typeof CARD_ERROR_REASONS)[number]) {
  const error = await domainErrorOf(run);
  expect(error.code).toBe("bad_input");
  expect(error.params).toMatchObject({ reason });
  return error;
}

const assetsOfCard = (cardJson: string) => (JSON.parse(cardJson) as CardV3).data.assets as { type: string; uri: string; name: string; ext: string }[];

describe("CharX pack and unpack", () => {
  it("round-trips the card, the portrait, a VRM, assets, x_meta and the module, listed as embeded:// assets in order", async () => {
    const png = await portraitPng();
    const vrm = await buildVrm1();
    const joy = await colourPng(1);
    const sound = Buffer.from("OggS fake sound");
    const meta = json({ type: "PNG" });
    const risum = risuModuleBytes();
    const zip = packCharx({
      card: card(),
      portraitPng: png,
      model: { bytes: vrm, format: "vrm" },
      files: [
        { kind: "asset", type: "emotion", name: "joy", ext: "png", path: "assets/emotion/image/joy.png", bytes: joy, contentType: "image/png" },
        { kind: "asset", type: "x-risu-asset", name: "bell", ext: "ogg", path: "assets/other/audio/bell.ogg", bytes: sound },
        { kind: "x_meta", type: null, name: "", ext: "", path: "x_meta/joy.json", bytes: meta },
        { kind: "module", type: null, name: "", ext: "", path: "module.risum", bytes: risum },
      ],
    });
    expect(isCharx(zip)).toBe(true);

    const unpacked = unpackCharxHere(zip);
    expect(unpacked.portrait?.equals(png)).toBe(true);
    expect(unpacked.model?.equals(Buffer.from(vrm))).toBe(true);
    expect(unpacked.jpeg).toBeNull();
    expect(assetsOfCard(unpacked.cardJson)).toEqual([
      { type: "icon", uri: "embeded://assets/icon/images/main.png", name: "main", ext: "png" },
      { type: MODEL_ASSET_TYPE, uri: "embeded://assets/x-avatarforge-model/3d/main.vrm", name: "main", ext: "vrm" },
      { type: "emotion", uri: "embeded://assets/emotion/image/joy.png", name: "joy", ext: "png" },
      { type: "x-risu-asset", uri: "embeded://assets/other/audio/bell.ogg", name: "bell", ext: "ogg" },
    ]);
    expect(unpacked.files.map((f) => [f.kind, f.type, f.name, f.path, f.position])).toEqual([
      ["asset", "emotion", "joy", "assets/emotion/image/joy.png", 2],
      ["asset", "x-risu-asset", "bell", "assets/other/audio/bell.ogg", 3],
      ["x_meta", null, "", "x_meta/joy.json", 0],
      ["module", null, "", "module.risum", 1],
    ]);
    expect(unpacked.files.map((f) => f.bytes)).toEqual([joy, sound, meta, risum]);
    expect(parseCardJson(unpacked.cardJson).name).toBe(v3Card().data.name);
  });

  it("writes a file whose stored path would leave assets/ (or collide) under a path of its own", async () => {
    const a = await colourPng(1);
    const b = await colourPng(2);
    const zip = packCharx({
      card: card(),
      portraitPng: await portraitPng(),
      files: [
        { kind: "asset", type: "emotion", name: "joy", ext: "png", path: "card.json", bytes: a },
        { kind: "asset", type: "emotion", name: "joy", ext: "png", path: "assets/icon/images/main.png", bytes: b },
      ],
    });
    const unpacked = unpackCharxHere(zip);
    expect(unpacked.files.map((f) => f.path)).toEqual(["assets/emotion/image/joy.png", "assets/icon/images/main_1.png"]);
    expect(unpacked.files.map((f) => f.bytes)).toEqual([a, b]);
    expect(JSON.parse(unpacked.cardJson).spec).toBe("chara_card_v3");
  });

  it("always writes an icon (RisuAI's importer waits for one)", async () => {
    const png = await portraitPng(10, 10);
    const unpacked = unpackCharxHere(packCharx({ card: card(), portraitPng: png }));
    expect(unpacked.model).toBeNull();
    expect(unpacked.portrait?.equals(png)).toBe(true);
    expect(assetsOfCard(unpacked.cardJson)).toEqual([{ type: "icon", uri: "embeded://assets/icon/images/main.png", name: "main", ext: "png" }]);
  });

  it("keeps an imported card's remote assets but never a link to a file it does not write", async () => {
    const base = card();
    const remote = { type: "background", uri: "https://example.com/bg.png", name: "bg", ext: "png" };
    const stale = [
      { type: "emotion", uri: "embeded://assets/emotion/images/joy.png", name: "joy", ext: "png" },
      { type: "emotion", uri: "__asset:3", name: "sad", ext: "png" },
      { type: "emotion", uri: "data:image/png;base64,iVBORw0KGgo=", name: "calm", ext: "png" },
    ];
    const zip = packCharx({ card: { ...base, data: { ...base.data, assets: [...stale, remote] } }, portraitPng: await portraitPng() });
    const { cardJson } = unpackCharxHere(zip);
    expect(assetsOfCard(cardJson)).toContainEqual(remote);
    expect(cardJson).not.toContain("joy.png");
    expect(cardJson).not.toContain("__asset:");
    expect(cardJson).not.toContain("data:image");
  });

  it("takes a VRM of another app's type by its extension when our own type is absent, and a GLB of ours", async () => {
    const vrm = await buildVrm1();
    const risu = zipOf([{ type: "other", uri: "embeded://assets/other/3d/body.vrm", name: "body", ext: "vrm" }], { "assets/other/3d/body.vrm": vrm });
    expect(unpackCharxHere(risu).model?.equals(Buffer.from(vrm))).toBe(true);
    const glb = await buildPlainGlb();
    expect(unpackCharxHere(packCharx({ card: card(), portraitPng: await portraitPng(), model: { bytes: glb, format: "glb" } })).model?.equals(Buffer.from(glb))).toBe(true);
  });

  it("reads only the files the card names (and x_meta, module.risum): other entries, even huge or odd ones, are never inflated", () => {
    const zip = zipOf(null, { "../../etc/evil": new Uint8Array(10), "assets/emotion/images/x.png": new Uint8Array(3 * 1024 * 1024) });
    const unpacked = unpackCharxHere(zip);
    expect(unpacked.model).toBeNull();
    expect(unpacked.files).toEqual([]);
  });
});

describe("CharX as RisuAI writes it", () => {
  it("reads a streamed RisuAI CharX (data descriptors): icon, 20 emotions, backgrounds, other files, every x_meta and the module", async () => {
    const sound = Buffer.from("ID3 fake mp3 bytes");
    const userIcon = await colourPng(99, 32);
    const { charx, assets } = await risuCharx({
      emotions: 20,
      backgrounds: 2,
      extra: [
        { type: "user_icon", name: "me", ext: "png", bytes: userIcon },
        { type: "x-risu-asset", name: "bell", ext: "mp3", bytes: sound },
      ],
    });
    // As RisuAI's writer streams it: every local header says "sizes in a data descriptor".
    const locals = localHeaders(charx);
    expect(locals.length).toBeGreaterThan(40);
    for (const at of locals) expect(charx.readUInt16LE(at + 6) & 0x08).toBe(0x08);

    const unpacked = unpackCharxHere(charx);
    expect(unpacked.portrait).not.toBeNull();
    const carried = unpacked.files.filter((f) => f.kind === "asset");
    expect(carried.map((f) => [f.type, f.name, f.ext])).toEqual(assets.map((a) => [a.type, a.name, a.ext]));
    expect(carried.map((f) => f.bytes)).toEqual(assets.map((a) => Buffer.from(a.bytes)));
    expect(carried.filter((f) => f.type === "emotion").map((f) => f.name)).toEqual(RISU_EMOTIONS.slice(0, 20));
    expect(carried[0]!.path).toBe("assets/emotion/image/neutral.png");
    // Positions follow data.assets (the icon is listed last by RisuAI).
    expect(carried.map((f) => f.position)).toEqual(assets.map((_, i) => i));
    const xMeta = unpacked.files.filter((f) => f.kind === "x_meta");
    expect(xMeta).toHaveLength(assets.length + 1);
    expect(xMeta[0]!.path).toBe("x_meta/neutral.json");
    expect(unpacked.files.filter((f) => f.kind === "module").map((f) => f.bytes)).toEqual([risuModuleBytes()]);
  });

  it("unpacks on the worker pool with the same result as in this thread", async () => {
    const { charx } = await risuCharx({ emotions: 5, backgrounds: 1 });
    const here = unpackCharxHere(charx);
    const there = await unpackCharx(charx);
    expect(there.cardJson).toBe(here.cardJson);
    expect(there.portrait?.equals(here.portrait!)).toBe(true);
    expect(there.files.map((f) => [f.kind, f.path, f.sha256])).toEqual(here.files.map((f) => [f.kind, f.path, f.sha256]));
    expect(there.files.every((f, i) => f.bytes.equals(here.files[i]!.bytes))).toBe(true);
  });

  it("reads a CHARX-JPEG: the zip after a JPEG, its offsets counted from the zip's own start", async () => {
    const { file, jpeg, assets } = await risuCharxJpeg({ emotions: 4 });
    expect(isCharx(file)).toBe(false);
    expect(isJpeg(file) && endsWithZip(file)).toBe(true);
    // RisuAI's offsets: the first local header is said to be at 0, where the JPEG is.
    const eocd = file.lastIndexOf("PK\u0005\u0006");
    expect(file.readUInt32LE(eocd + 16) + file.readUInt32LE(eocd + 12)).toBe(eocd - jpeg.length);
    const unpacked = await unpackCharx(file);
    expect(unpacked.jpeg?.equals(jpeg)).toBe(true);
    expect(unpacked.portrait).not.toBeNull();
    expect(unpacked.files.filter((f) => f.kind === "asset").map((f) => f.name)).toEqual(assets.map((a) => a.name));
  });

  it("reads a CHARX-JPEG whose offsets were made absolute (zip -A), and one without an icon", async () => {
    const { file, jpeg } = await risuCharxJpeg({ emotions: 2 });
    const absolute = Buffer.from(file);
    for (const at of centralHeaders(absolute)) absolute.writeUInt32LE(absolute.readUInt32LE(at + 42) + jpeg.length, at + 42);
    const eocd = absolute.lastIndexOf("PK\u0005\u0006");
    absolute.writeUInt32LE(absolute.readUInt32LE(eocd + 16) + jpeg.length, eocd + 16);
    const unpacked = unpackCharxHere(absolute);
    expect(unpacked.jpeg?.equals(jpeg)).toBe(true);
    expect(unpacked.files.filter((f) => f.kind === "asset")).toHaveLength(4);

    const iconless = await risuCharxJpeg({ emotions: 1, backgrounds: 0, icon: null });
    const read = unpackCharxHere(iconless.file);
    expect(read.portrait).toBeNull();
    expect(read.jpeg?.equals(iconless.jpeg)).toBe(true);
  });
});

describe("hostile CharX archives", () => {
  it("refuses an archive without card.json", async () => {
    await expectReason(() => unpackCharxHere(Buffer.from(zipSync({ "other.json": json({}) }))), "card_charx_no_card");
  });

  it("refuses what is not a zip, or a cut-off one", async () => {
    await expectReason(() => unpackCharxHere(Buffer.concat([Buffer.from("PK\u0003\u0004"), Buffer.alloc(100, 7)])), "card_charx_damaged");
    const zip = zipOf(null);
    await expectReason(() => unpackCharxHere(zip.subarray(0, zip.length - 30)), "card_charx_damaged");
  });

  it("refuses an archive over the size limit before reading it", async () => {
    const big = Buffer.alloc(CHARX_MAX_BYTES + 1);
    big.write("PK\u0003\u0004");
    await expectReason(() => unpackCharx(big), "card_charx_too_large");
  });

  it("refuses encrypted entries", async () => {
    const zip = zipOf(null);
    const [header] = centralHeaders(zip);
    zip.writeUInt16LE(zip.readUInt16LE(header! + 8) | 1, header! + 8);
    await expectReason(() => unpackCharxHere(zip), "card_charx_encrypted");
  });

  it("refuses two entries with the same name", async () => {
    const zip = zipOf(null, { "card.jsoX": json({}) });
    // Rename the second entry everywhere it is written (local and central headers).
    for (let at = zip.indexOf("card.jsoX"); at !== -1; at = zip.indexOf("card.jsoX", at + 1)) zip.write("card.json", at);
    await expectReason(() => unpackCharxHere(zip), "card_charx_duplicate");
  });

  it("refuses more entries than any card has", async () => {
    const files: Zippable = {};
    for (let i = 0; i <= CHARX_MAX_ENTRIES; i++) files[`assets/other/other/${i}.bin`] = new Uint8Array(0);
    const error = await expectReason(() => unpackCharxHere(zipOf(null, files)), "card_charx_too_many_files");
    expect(error.params).toMatchObject({ max: CHARX_MAX_ENTRIES });
  });

  it("refuses a card naming more assets than the limit, before inflating any", async () => {
    const assets = Array.from({ length: CARD_ASSET_LIMITS.count + 1 }, (_, i) => ({ type: "emotion", uri: "embeded://assets/emotion/image/a.png", name: `e${i}`, ext: "png" }));
    const error = await expectReason(() => unpackCharxHere(zipOf(assets, { "assets/emotion/image/a.png": new Uint8Array(1) })), "card_assets_too_many");
    expect(error.params).toMatchObject({ max: CARD_ASSET_LIMITS.count });
  });

  it("refuses one asset over the asset limit, naming it, and assets over the total limit", async () => {
    const zip = zipOf([{ type: "background", uri: "embeded://assets/background/image/huge.png", name: "huge", ext: "png" }], {
      "assets/background/image/huge.png": [new Uint8Array(64), { level: 0 }],
    });
    const tooBig = await expectReason(() => unpackCharxHere(zip, { ...CHARX_LIMITS, assetBytes: 32 }), "card_charx_file_too_large");
    expect(tooBig.params).toMatchObject({ name: "huge" });
    const many = Array.from({ length: 5 }, (_, i) => ({ type: "emotion", uri: `embeded://assets/emotion/image/${i}.png`, name: `${i}`, ext: "png" }));
    const files: Zippable = Object.fromEntries(many.map((_, i) => [`assets/emotion/image/${i}.png`, [new Uint8Array(1000), { level: 0 }]]));
    await expectReason(() => unpackCharxHere(zipOf(many, files), { ...CHARX_LIMITS, totalBytes: 4000 }), "card_assets_too_large");
    // A declared size is what counts: a huge one is refused before anything is inflated.
    const lying = zipOf([{ type: "emotion", uri: "embeded://assets/e.png", name: "e", ext: "png" }], { "assets/e.png": [new Uint8Array(10), { level: 0 }] });
    const at = centralHeaders(lying).find((h) => lying.toString("utf8", h + 46, h + 46 + lying.readUInt16LE(h + 28)) === "assets/e.png")!;
    lying.writeUInt32LE(CARD_ASSET_LIMITS.assetBytes + 1, at + 24);
    await expectReason(() => unpackCharxHere(lying), "card_charx_file_too_large");
  });

  it("refuses a zip bomb: an entry that inflates hundreds of times its size (also on the worker pool)", async () => {
    const zeros = new Uint8Array(8 * 1024 * 1024);
    const zip = zipOf([{ type: MODEL_ASSET_TYPE, uri: "embeded://assets/m.vrm", name: "main", ext: "vrm" }], { "assets/m.vrm": zeros });
    await expectReason(() => unpackCharxHere(zip), "card_charx_bomb");
    await expectReason(() => unpackCharx(zip), "card_charx_bomb");
    const emotion = zipOf([{ type: "emotion", uri: "embeded://assets/e.png", name: "e", ext: "png" }], { "assets/e.png": new Uint8Array(4 * 1024 * 1024) });
    await expectReason(() => unpackCharx(emotion), "card_charx_bomb");
    const padded = Buffer.from(JSON.stringify(card()) + " ".repeat(2 * 1024 * 1024));
    await expectReason(() => unpackCharxHere(zipOf(null, {}, padded)), "card_charx_bomb");
  });

  it("never inflates past an entry's declared size, and refuses a declared size over the limit", async () => {
    const lying = zipOf(null);
    const [header] = centralHeaders(lying);
    lying.writeUInt32LE(10, header! + 24); // card.json "inflates to 10 bytes"
    await expectReason(() => unpackCharxHere(lying), "card_charx_damaged");
    const huge = zipOf(null);
    huge.writeUInt32LE(9 * 1024 * 1024, centralHeaders(huge)[0]! + 24);
    await expectReason(() => unpackCharxHere(huge), "card_too_large");
  });

  it("refuses a portrait bigger than a portrait may be (over 5 MB)", async () => {
    const noise = new Uint8Array(6 * 1024 * 1024).map((_, i) => (i * 2654435761) >>> 24);
    const zip = zipOf([{ type: "icon", uri: "embeded://assets/icon/images/main.png", name: "main", ext: "png" }], {
      "assets/icon/images/main.png": [noise, { level: 0 }],
    });
    const error = await expectReason(() => unpackCharxHere(zip), "card_charx_file_too_large");
    expect(error.params).toMatchObject({ mb: 5 });
  });

  it("refuses a damaged entry (its CRC does not match)", async () => {
    const png = await portraitPng();
    const zip = packCharx({ card: card(), portraitPng: png });
    const at = zip.indexOf(png.subarray(0, 16));
    zip[at + 40] = zip[at + 40]! ^ 0xff;
    await expectReason(() => unpackCharxHere(zip), "card_charx_damaged");
  });

  it.each(["embeded://../secret.png", "embeded:///etc/passwd", "embeded://assets/../../x.png", "embeded://assets\\..\\x.png", "embeded://C:/x.png"])(
    "refuses an asset URI that leaves the archive (%s)",
    async (uri) => {
      await expectReason(() => unpackCharxHere(zipOf([{ type: "icon", uri, name: "main", ext: "png" }])), "card_charx_bad_path");
      await expectReason(() => unpackCharxHere(zipOf([{ type: "emotion", uri, name: "joy", ext: "png" }])), "card_charx_bad_path");
    },
  );

  it("refuses a card that lists a file the archive does not hold", async () => {
    const zip = zipOf([{ type: "emotion", uri: "embeded://assets/emotion/image/joy.png", name: "joy", ext: "png" }]);
    await expectReason(() => unpackCharxHere(zip), "card_charx_missing_file");
  });
});
