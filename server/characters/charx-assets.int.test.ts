// Cards as RisuAI makes them, through the characters router on a real Postgres (issue 16):
// every file a card carries is stored, shown, served with the character's visibility, copied,
// deleted and written back; hostile cards are refused with nothing stored.
import { TRPCError } from "@trpc/server";
import { count, eq, inArray } from "drizzle-orm";
import sharp from "sharp";
import { zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { GET as getAsset } from "@/app/api/assets/[id]/route";
import { callersOn, type TestUser } from "@/e2e/support/test-caller";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import { CARD_ASSET_LIMITS } from "@/lib/charx-limits";
import { ApiTokenModel } from "@/server/auth/api-tokens";
import { unpackCharxHere } from "@/server/cards/charx";
import { readTextChunks } from "@/server/cards/png-chunks";
import { colourPng, portraitPng, risuCardData, risuCharx, risuCharxJpeg, risuModuleBytes, risuPng, sillyTavernV2Png, streamedZip, RISU_EMOTIONS } from "@/server/cards/test-cards";
import { getSql, setDatabaseUrl } from "@/server/db";
import { characterAssets, characters, images } from "@/server/db/schema";

const { db, sql } = testDatabase();
const callerFor = callersOn(db);
let owner: TestUser;
let other: TestUser;

beforeAll(async () => {
  // The asset route reads the app's own pool, as it does in the server.
  setDatabaseUrl(inject("databaseUrl"));
  owner = await createUser(db, "리스 사용자");
  other = await createUser(db, "다른 사람");
});
afterAll(async () => {
  await Promise.all([sql.end(), getSql().end()]);
});

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const importCard = (user: TestUser, bytes: Uint8Array) => callerFor(user).characters.importCard({ dataBase64: b64(bytes) });

async function trpcError(promise: Promise<unknown>): Promise<TRPCError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCError) return error;
    throw error;
  }
  throw new Error("expected a TRPCError");
}
const reasonOf = (error: TRPCError) => (error.cause as { params?: { reason?: string } }).params?.reason;

async function rowsOf(userId: string) {
  const owned = await db.select({ id: characters.id }).from(characters).where(eq(characters.ownerId, userId));
  const ids = owned.map((c) => c.id);
  const [assets] = ids.length ? await db.select({ n: count() }).from(characterAssets).where(inArray(characterAssets.characterId, ids)) : [{ n: 0 }];
  const [imageRows] = await db.select({ n: count() }).from(images).where(eq(images.ownerId, userId));
  return { characters: ids.length, assets: assets!.n, images: imageRows!.n };
}

async function storedOf(characterId: string) {
  return db
    .select({ kind: characterAssets.kind, type: characterAssets.type, name: characterAssets.name, path: characterAssets.path, sha256: characterAssets.sha256, contentType: characterAssets.contentType, bytes: characterAssets.bytes })
    .from(characterAssets)
    .where(eq(characterAssets.characterId, characterId))
    .orderBy(characterAssets.kind, characterAssets.position);
}

const fetchAsset = (url: string, headers: Record<string, string> = {}) => {
  const id = url.split("/").at(-1)!;
  return getAsset(new Request(`http://app${url}`, { headers }), { params: Promise.resolve({ id }) });
};
const tokenOf = async (user: TestUser) => (await new ApiTokenModel(db, user.id).create(`assets-${crypto.randomUUID().slice(0, 8)}`)).token;

describe("a RisuAI CharX through characters.importCard", () => {
  it("keeps the icon as the portrait, 20 emotions, backgrounds, other files, every x_meta and the module, and shows them", async () => {
    const sound = Buffer.from("ID3 a short bell");
    const { charx, assets } = await risuCharx({ emotions: 20, backgrounds: 2, extra: [{ type: "x-risu-asset", name: "bell", ext: "mp3", bytes: sound }] });
    const imported = await importCard(owner, charx);
    expect(imported.imageUrl).toMatch(/^\/api\/images\//);

    const stored = await storedOf(imported.id);
    const storedAssets = stored.filter((s) => s.kind === "asset");
    expect(storedAssets.map((s) => [s.type, s.name])).toEqual(assets.map((a) => [a.type, a.name]));
    expect(storedAssets.every((s, i) => Buffer.from(s.bytes).equals(Buffer.from(assets[i]!.bytes)))).toBe(true);
    expect(storedAssets.map((s) => s.contentType)).toEqual([...Array(20).fill("image/png"), "image/jpeg", "image/jpeg", "application/octet-stream"]);
    expect(stored.filter((s) => s.kind === "x_meta")).toHaveLength(assets.length + 1);
    expect(stored.filter((s) => s.kind === "module").map((s) => Buffer.from(s.bytes))).toEqual([risuModuleBytes()]);

    const files = await callerFor(owner).characters.assets({ id: imported.id });
    expect(files.emotions.map((e) => e.name)).toEqual(RISU_EMOTIONS.slice(0, 20));
    expect(files.backgrounds.map((b) => b.name)).toEqual(["배경1", "배경2"]);
    expect(files.others.map((o) => [o.name, o.isImage])).toEqual([["bell", false]]);
    expect(files).toMatchObject({ hasModule: true, xMetaCount: assets.length + 1 });

    // The lorebook's decorators became settings, not text.
    const character = await callerFor(owner).characters.get({ id: imported.id });
    expect(character.lorebook.entries[0]).toMatchObject({ wholeWords: true, content: "설정 0: 첫 줄.\n둘째 줄." });
  });

  it("serves an asset with its character's visibility: pictures as pictures, anything else only as a download", async () => {
    const { charx } = await risuCharx({ emotions: 2, backgrounds: 0, extra: [{ type: "x-risu-asset", name: "page", ext: "html", bytes: Buffer.from("<script>alert(1)</script>") }] });
    const imported = await importCard(owner, charx);
    const files = await callerFor(owner).characters.assets({ id: imported.id });
    const ownerToken = await tokenOf(owner);
    const otherToken = await tokenOf(other);

    const picture = await fetchAsset(files.emotions[0]!.url, { authorization: `Bearer ${ownerToken}` });
    expect(picture.status).toBe(200);
    expect(picture.headers.get("content-type")).toBe("image/png");
    expect(picture.headers.get("x-content-type-options")).toBe("nosniff");
    expect(picture.headers.get("cache-control")).toContain("private");
    expect((await sharp(Buffer.from(await picture.arrayBuffer())).metadata()).format).toBe("png");
    const page = await fetchAsset(files.others[0]!.url, { authorization: `Bearer ${ownerToken}` });
    expect(page.headers.get("content-type")).toBe("application/octet-stream");
    expect(page.headers.get("content-disposition")).toMatch(/^attachment/);
    expect(page.headers.get("content-security-policy")).toContain("sandbox");

    // A private character's files are not found by anyone else, nor listed.
    expect((await fetchAsset(files.emotions[0]!.url, { authorization: `Bearer ${otherToken}` })).status).toBe(404);
    expect((await fetchAsset(files.emotions[0]!.url)).status).toBe(404);
    expect((await trpcError(callerFor(other).characters.assets({ id: imported.id }))).code).toBe("NOT_FOUND");
    // Made public, everyone sees them.
    await callerFor(owner).characters.update({ id: imported.id, data: { visibility: "public" } });
    expect((await fetchAsset(files.emotions[0]!.url)).status).toBe(200);
    expect((await callerFor(null).characters.assets({ id: imported.id })).emotions).toHaveLength(2);
    // x_meta and the module are never served.
    const [meta] = await db.select({ id: characterAssets.id }).from(characterAssets).where(eq(characterAssets.kind, "x_meta")).limit(1);
    expect((await fetchAsset(`/api/assets/${meta!.id}`, { authorization: `Bearer ${ownerToken}` })).status).toBe(404);
  });

  it("copies the files with the character, and deleting a character takes its files", async () => {
    const { charx } = await risuCharx({ emotions: 3, backgrounds: 1 });
    const imported = await importCard(owner, charx);
    await callerFor(owner).characters.update({ id: imported.id, data: { visibility: "public" } });
    const copy = await callerFor(other).characters.duplicate({ id: imported.id });
    const [source, copied] = [await storedOf(imported.id), await storedOf(copy.id)];
    expect(copied.map((s) => [s.kind, s.path, s.sha256])).toEqual(source.map((s) => [s.kind, s.path, s.sha256]));
    expect((await callerFor(other).characters.assets({ id: copy.id })).emotions).toHaveLength(3);

    const url = (await callerFor(owner).characters.assets({ id: imported.id })).emotions[0]!.url;
    await callerFor(owner).characters.delete({ id: imported.id });
    expect(await storedOf(imported.id)).toEqual([]);
    expect((await fetchAsset(url)).status).toBe(404);
    // The copy keeps its own.
    expect(await storedOf(copy.id)).toHaveLength(copied.length);
  });

  it("exports every file back where it was (x_meta and module.risum unchanged), and the export imports again the same", async () => {
    const { charx } = await risuCharx({ emotions: 20, backgrounds: 2 });
    const imported = await importCard(owner, charx);
    const exported = await callerFor(owner).characters.exportCard({ id: imported.id, format: "charx" });
    const out = unpackCharxHere(Buffer.from(exported.dataBase64, "base64"));
    const before = unpackCharxHere(charx);
    expect(out.portrait).not.toBeNull();
    expect(out.files.map((f) => [f.kind, f.type, f.name, f.path, f.sha256])).toEqual(before.files.map((f) => [f.kind, f.type, f.name, f.path, f.sha256]));
    const listed = JSON.parse(out.cardJson).data.assets as { type: string; uri: string }[];
    expect(listed[0]).toEqual({ type: "icon", uri: "embeded://assets/icon/images/main.png", name: "main", ext: "png" });
    expect(listed.filter((a) => a.type === "emotion").map((a) => a.uri)).toEqual(RISU_EMOTIONS.slice(0, 20).map((n) => `embeded://assets/emotion/image/${n}.png`));

    const again = await importCard(other, Buffer.from(exported.dataBase64, "base64"));
    expect((await storedOf(again.id)).map((s) => [s.kind, s.path, s.sha256])).toEqual((await storedOf(imported.id)).map((s) => [s.kind, s.path, s.sha256]));
    // The lorebook goes round unchanged, its decorators once.
    const second = await callerFor(other).characters.exportCard({ id: again.id, format: "charx" });
    const cardOf = (base64: string) => {
      const data = JSON.parse(unpackCharxHere(Buffer.from(base64, "base64")).cardJson).data;
      return { book: data.character_book, assets: data.assets };
    };
    expect(cardOf(second.dataBase64)).toEqual(cardOf(exported.dataBase64));
  });

  it("imports a CHARX-JPEG, and one without an icon takes its JPEG as the portrait", async () => {
    const { file } = await risuCharxJpeg({ emotions: 4 });
    const imported = await importCard(owner, file);
    expect((await callerFor(owner).characters.assets({ id: imported.id })).emotions).toHaveLength(4);
    const iconless = await risuCharxJpeg({ emotions: 1, backgrounds: 0, icon: null });
    const second = await importCard(owner, iconless.file);
    const imageId = second.imageUrl!.split("/").at(-1)!;
    const [image] = await db.select({ contentType: images.contentType }).from(images).where(eq(images.id, imageId));
    expect(image?.contentType).toBe("image/jpeg");
  });
});

describe("a RisuAI PNG through characters.importCard and exportCard", () => {
  it("imports its __asset:N files and writes them back resolved, in a PNG and in a CharX", async () => {
    const { png, emotions } = await risuPng({ emotions: 6 });
    const imported = await importCard(owner, png);
    expect((await callerFor(owner).characters.assets({ id: imported.id })).emotions.map((e) => e.name)).toEqual(emotions.map((e) => e.name));

    const asPng = Buffer.from((await callerFor(owner).characters.exportCard({ id: imported.id, format: "png" })).dataBase64, "base64");
    const chunks = readTextChunks(asPng);
    const v3 = JSON.parse(Buffer.from(chunks.find((c) => c.keyword === "ccv3")!.text, "base64").toString()).data.assets as { uri: string }[];
    for (const asset of v3.filter((a) => a.uri.startsWith("__asset:"))) {
      expect(chunks.some((c) => c.keyword === `chara-ext-asset_:${asset.uri.slice("__asset:".length)}`)).toBe(true);
    }
    expect(v3.filter((a) => a.uri.startsWith("__asset:"))).toHaveLength(6);

    const asCharx = unpackCharxHere(Buffer.from((await callerFor(owner).characters.exportCard({ id: imported.id, format: "charx" })).dataBase64, "base64"));
    expect(asCharx.cardJson).not.toContain("__asset:");
    expect(asCharx.files.map((f) => f.path)).toEqual(emotions.map((e) => `assets/emotion/image/${e.name}.png`));
  });

  it("imports a SillyTavern V2 PNG as large as real ones (20,000-character description, 200 lorebook entries)", async () => {
    const { png } = await sillyTavernV2Png();
    const imported = await importCard(owner, png);
    const character = await callerFor(owner).characters.get({ id: imported.id });
    expect(character.persona.length).toBeGreaterThan(19_000);
    expect(character.lorebook.entries).toHaveLength(200);
    expect(character.alternateGreetings).toHaveLength(40);
  });
});

describe("hostile cards through characters.importCard: 400, nothing stored", () => {
  async function refused(bytes: Uint8Array, reason: string) {
    const before = await rowsOf(other.id);
    const error = await trpcError(importCard(other, bytes));
    expect(error.code).toBe("BAD_REQUEST");
    expect(reasonOf(error)).toBe(reason);
    expect(await rowsOf(other.id)).toEqual(before);
  }
  const cardJson = (assets: { type: string; uri: string; name: string; ext: string }[]) =>
    Buffer.from(JSON.stringify({ spec: "chara_card_v3", spec_version: "3.0", data: risuCardData("나쁜 카드", assets) }));

  it("refuses an emotion that claims to be a PNG but is not one", async () => {
    const { charx } = await risuCharx({ emotions: 2, extra: [{ type: "emotion", name: "fake", ext: "png", bytes: Buffer.from("<html>not a png</html>") }] });
    await refused(charx, "card_asset_not_image");
  });

  it("refuses a decompression bomb disguised as an emotion sprite", async () => {
    const png = Buffer.from(await colourPng(1));
    png.writeUInt32BE(60_000, 16);
    png.writeUInt32BE(60_000, 20);
    const { charx } = await risuCharx({ emotions: 1, extra: [{ type: "emotion", name: "bomb", ext: "png", bytes: png }] });
    await refused(charx, "card_asset_not_image");
  });

  it("refuses a zip bomb, path traversal, too many assets and a huge asset", async () => {
    const zeros = new Uint8Array(10 * 1024 * 1024);
    await refused(
      zipSync({ "card.json": cardJson([{ type: "emotion", uri: "embeded://assets/emotion/image/z.png", name: "z", ext: "png" }]), "assets/emotion/image/z.png": zeros }),
      "card_charx_bomb",
    );
    await refused(zipSync({ "card.json": cardJson([{ type: "emotion", uri: "embeded://../../etc/passwd", name: "p", ext: "png" }]) }), "card_charx_bad_path");
    const many = Array.from({ length: CARD_ASSET_LIMITS.count + 1 }, (_, i) => ({ type: "emotion", uri: "embeded://assets/emotion/image/a.png", name: `e${i}`, ext: "png" }));
    await refused(zipSync({ "card.json": cardJson(many), "assets/emotion/image/a.png": await colourPng(1) }), "card_assets_too_many");
    const noise = new Uint8Array(CARD_ASSET_LIMITS.assetBytes + 1).map((_, i) => (i * 2654435761) >>> 24);
    await refused(
      streamedZip([
        { path: "assets/background/image/huge.png", bytes: noise },
        { path: "card.json", bytes: cardJson([{ type: "background", uri: "embeded://assets/background/image/huge.png", name: "huge", ext: "png" }]) },
      ]),
      "card_charx_file_too_large",
    );
  });

  it("refuses a RisuAI PNG whose __asset:N link has no chunk, and a JPEG with no card", async () => {
    const card = { spec: "chara_card_v3", spec_version: "3.0", data: risuCardData("빈 링크", [{ type: "emotion", uri: "__asset:3", name: "joy", ext: "png" }]) };
    const { withTextChunks } = await import("@/server/cards/png-chunks");
    await refused(withTextChunks(await portraitPng(), [{ keyword: "ccv3", text: Buffer.from(JSON.stringify(card)).toString("base64") }]), "card_asset_missing");
    await refused(await sharp({ create: { width: 8, height: 8, channels: 3, background: "red" } }).jpeg().toBuffer(), "card_not_card_file");
  });
});
