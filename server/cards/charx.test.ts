import { zipSync, type Zippable } from "fflate";
import { describe, expect, it } from "vitest";
import { buildPlainGlb, buildVrm1 } from "@/e2e/fixtures/avatars";
import { CHARX_MAX_BYTES } from "@/lib/charx-limits";
import { parseCardJson, type CardV3 } from "./card";
import { CHARX_MAX_ENTRIES, isCharx, MODEL_ASSET_TYPE, packCharx, unpackCharx } from "./charx";
import { CARD_ERROR_REASONS } from "./errors";
import { domainErrorOf, portraitPng, v3Card } from "./test-cards";

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

async function expectReason(run: () => unknown, reason: (typeof CARD_ERROR_REASONS)[number]) {
  const error = await domainErrorOf(run);
  expect(error.code).toBe("bad_input");
  expect(error.params).toMatchObject({ reason });
  return error;
}

describe("CharX pack and unpack", () => {
  it("round-trips the card, the portrait and a VRM, listed as embeded:// assets", async () => {
    const png = await portraitPng();
    const vrm = await buildVrm1();
    const zip = packCharx({ card: card(), portraitPng: png, model: { bytes: vrm, format: "vrm" } });
    expect(isCharx(zip)).toBe(true);

    const unpacked = unpackCharx(zip);
    expect(unpacked.portrait?.equals(png)).toBe(true);
    expect(unpacked.model?.equals(Buffer.from(vrm))).toBe(true);
    const written = JSON.parse(unpacked.cardJson) as CardV3;
    expect(written.spec).toBe("chara_card_v3");
    expect(written.data.assets).toEqual([
      { type: "icon", uri: "embeded://assets/icon/images/main.png", name: "main", ext: "png" },
      { type: MODEL_ASSET_TYPE, uri: "embeded://assets/x-avatarforge-model/3d/main.vrm", name: "main", ext: "vrm" },
    ]);
    expect(parseCardJson(unpacked.cardJson).name).toBe(v3Card().data.name);
  });

  it("writes a card without portrait or model as ccdefault: and reads back neither", () => {
    const unpacked = unpackCharx(packCharx({ card: card() }));
    expect(unpacked.portrait).toBeNull();
    expect(unpacked.model).toBeNull();
    expect((JSON.parse(unpacked.cardJson) as CardV3).data.assets).toEqual([{ type: "icon", uri: "ccdefault:", name: "main", ext: "png" }]);
  });

  it("keeps an imported card's remote assets but not its old embeded ones", () => {
    const base = card();
    const remote = { type: "background", uri: "https://example.com/bg.png", name: "bg", ext: "png" };
    const old = { type: "emotion", uri: "embeded://assets/emotion/images/joy.png", name: "joy", ext: "png" };
    const zip = packCharx({ card: { ...base, data: { ...base.data, assets: [old, remote] } } });
    expect((JSON.parse(unpackCharx(zip).cardJson) as CardV3).data.assets).toContainEqual(remote);
    expect(unpackCharx(zip).cardJson).not.toContain("joy.png");
  });

  it("takes a VRM of another app's type by its extension when our own type is absent, and a GLB of ours", async () => {
    const vrm = await buildVrm1();
    const risu = zipOf([{ type: "other", uri: "embeded://assets/other/3d/body.vrm", name: "body", ext: "vrm" }], { "assets/other/3d/body.vrm": vrm });
    expect(unpackCharx(risu).model?.equals(Buffer.from(vrm))).toBe(true);
    const glb = await buildPlainGlb();
    expect(unpackCharx(packCharx({ card: card(), model: { bytes: glb, format: "glb" } })).model?.equals(Buffer.from(glb))).toBe(true);
  });

  it("reads only the files the card names: other entries, even huge or odd ones, are never inflated", () => {
    const zip = zipOf(null, { "../../etc/evil": new Uint8Array(10), "assets/emotion/images/x.png": new Uint8Array(3 * 1024 * 1024) });
    expect(unpackCharx(zip).model).toBeNull();
  });
});

describe("hostile CharX archives", () => {
  it("refuses an archive without card.json", async () => {
    await expectReason(() => unpackCharx(Buffer.from(zipSync({ "other.json": json({}) }))), "card_charx_no_card");
  });

  it("refuses what is not a zip, or a cut-off one", async () => {
    await expectReason(() => unpackCharx(Buffer.concat([Buffer.from("PK\u0003\u0004"), Buffer.alloc(100, 7)])), "card_charx_damaged");
    const zip = zipOf(null);
    await expectReason(() => unpackCharx(zip.subarray(0, zip.length - 30)), "card_charx_damaged");
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
    await expectReason(() => unpackCharx(zip), "card_charx_encrypted");
  });

  it("refuses two entries with the same name", async () => {
    const zip = zipOf(null, { "card.jsoX": json({}) });
    // Rename the second entry everywhere it is written (local and central headers).
    for (let at = zip.indexOf("card.jsoX"); at !== -1; at = zip.indexOf("card.jsoX", at + 1)) zip.write("card.json", at);
    await expectReason(() => unpackCharx(zip), "card_charx_duplicate");
  });

  it("refuses more entries than any card has", async () => {
    const files: Zippable = {};
    for (let i = 0; i <= CHARX_MAX_ENTRIES; i++) files[`assets/other/other/${i}.bin`] = new Uint8Array(0);
    const error = await expectReason(() => unpackCharx(zipOf(null, files)), "card_charx_too_many_files");
    expect(error.params).toMatchObject({ max: CHARX_MAX_ENTRIES });
  });

  it("refuses a zip bomb: an entry that inflates hundreds of times its size", async () => {
    const zeros = new Uint8Array(8 * 1024 * 1024);
    const zip = zipOf([{ type: MODEL_ASSET_TYPE, uri: "embeded://assets/m.vrm", name: "main", ext: "vrm" }], { "assets/m.vrm": zeros });
    await expectReason(() => unpackCharx(zip), "card_charx_bomb");
    const padded = Buffer.from(JSON.stringify(card()) + " ".repeat(2 * 1024 * 1024));
    await expectReason(() => unpackCharx(zipOf(null, {}, padded)), "card_charx_bomb");
  });

  it("never inflates past an entry's declared size, and refuses a declared size over the limit", async () => {
    const lying = zipOf(null);
    const [header] = centralHeaders(lying);
    lying.writeUInt32LE(10, header! + 24); // card.json "inflates to 10 bytes"
    await expectReason(() => unpackCharx(lying), "card_charx_damaged");
    const huge = zipOf(null);
    huge.writeUInt32LE(9 * 1024 * 1024, centralHeaders(huge)[0]! + 24);
    await expectReason(() => unpackCharx(huge), "card_too_large");
  });

  it("refuses an asset bigger than its kind may be (a portrait over 5 MB)", async () => {
    const noise = new Uint8Array(6 * 1024 * 1024).map((_, i) => (i * 2654435761) >>> 24);
    const zip = zipOf([{ type: "icon", uri: "embeded://assets/icon/images/main.png", name: "main", ext: "png" }], {
      "assets/icon/images/main.png": [noise, { level: 0 }],
    });
    const error = await expectReason(() => unpackCharx(zip), "card_charx_file_too_large");
    expect(error.params).toMatchObject({ mb: 5 });
  });

  it("refuses a damaged entry (its CRC does not match)", async () => {
    const png = await portraitPng();
    const zip = packCharx({ card: card(), portraitPng: png });
    const at = zip.indexOf(png.subarray(0, 16));
    zip[at + 40] = zip[at + 40]! ^ 0xff;
    await expectReason(() => unpackCharx(zip), "card_charx_damaged");
  });

  it.each(["embeded://../secret.png", "embeded:///etc/passwd", "embeded://assets/../../x.png", "embeded://assets\\..\\x.png", "embeded://C:/x.png"])(
    "refuses an asset URI that leaves the archive (%s)",
    async (uri) => {
      const zip = zipOf([{ type: "icon", uri, name: "main", ext: "png" }]);
      await expectReason(() => unpackCharx(zip), "card_charx_bad_path");
    },
  );

  it("refuses a card that lists a file the archive does not hold", async () => {
    const zip = zipOf([{ type: MODEL_ASSET_TYPE, uri: "embeded://assets/x-avatarforge-model/3d/main.vrm", name: "main", ext: "vrm" }]);
    await expectReason(() => unpackCharx(zip), "card_charx_missing_file");
  });
});
