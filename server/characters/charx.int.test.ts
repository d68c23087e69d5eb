// CharX cards carry the 3D avatar (issue 12): characters.exportCard format "charx" and
// characters.importCard of a .charx, on a real Postgres.
import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildVrm1, editGlbJson } from "@/e2e/fixtures/avatars";
import { callersOn, type TestUser } from "@/e2e/support/test-caller";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import { packCharx, unpackCharxHere as unpackCharx } from "@/server/cards/charx";
import type { CardV3 } from "@/server/cards/card";
import { v3Card, portraitPng } from "@/server/cards/test-cards";
import { avatarModels, characters, images } from "@/server/db/schema";

const { db, sql } = testDatabase();
const callerFor = callersOn(db);
let owner: TestUser;
let importer: TestUser;

beforeAll(async () => {
  owner = await createUser(db, "내보내는 사람");
  importer = await createUser(db, "가져오는 사람");
});
afterAll(async () => {
  await sql.end();
});

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

async function trpcError(promise: Promise<unknown>): Promise<TRPCError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCError) return error;
    throw error;
  }
  throw new Error("expected a TRPCError");
}

/** The owner's character with an uploaded portrait and a VRM avatar. */
async function characterWithAvatar(visibility: "private" | "public") {
  const caller = callerFor(owner);
  const image = await caller.characters.uploadImage({ dataBase64: b64(await portraitPng(60, 40)) });
  const character = await caller.characters.create({ name: "3D 사서", persona: "조용한 사서", visibility, imageId: image.imageId });
  const vrm = await buildVrm1();
  await callerFor(owner).avatars.upload({ characterId: character.id, dataBase64: b64(vrm) });
  return { character, vrm };
}

async function rowsOf(userId: string) {
  const [c, m, i] = await Promise.all([
    db.select({ id: characters.id }).from(characters).where(eq(characters.ownerId, userId)),
    db.select({ id: avatarModels.id }).from(avatarModels).where(eq(avatarModels.ownerId, userId)),
    db.select({ id: images.id }).from(images).where(eq(images.ownerId, userId)),
  ]);
  return { characters: c.length, models: m.length, images: i.length };
}

describe("CharX export and import", () => {
  it("exports a character with its portrait and VRM; another user imports it with the same model and portrait", async () => {
    const { character, vrm } = await characterWithAvatar("public");
    const file = await callerFor(importer).characters.exportCard({ id: character.id, format: "charx" });
    expect(file.contentType).toBe("application/zip");
    expect(file.fileName).toMatch(/\.charx$/);

    const before = await rowsOf(importer.id);
    const imported = await callerFor(importer).characters.importCard({ dataBase64: file.dataBase64 });
    expect(imported.ownerId).toBe(importer.id);
    expect(imported.visibility).toBe("private");
    expect(imported.name).toBe("3D 사서");
    expect(await rowsOf(importer.id)).toEqual({ characters: before.characters + 1, models: before.models + 1, images: before.images + 1 });

    const [model] = await db
      .select({ bytes: avatarModels.bytes, ownerId: avatarModels.ownerId, format: avatarModels.format })
      .from(avatarModels)
      .innerJoin(characters, eq(characters.avatarModelId, avatarModels.id))
      .where(eq(characters.id, imported.id));
    expect(model).toMatchObject({ ownerId: importer.id, format: "vrm" });
    expect(Buffer.from(model!.bytes).equals(Buffer.from(vrm))).toBe(true);

    const details = await callerFor(importer).characters.get({ id: imported.id });
    expect(details.avatar).toMatchObject({ format: "vrm", vrmVersion: "1" });
    const imageId = details.imageUrl?.match(/^\/api\/images\/(.+)$/)?.[1];
    const [image] = await db.select({ bytes: images.bytes, ownerId: images.ownerId }).from(images).where(eq(images.id, imageId!));
    expect(image?.ownerId).toBe(importer.id);
    const meta = await sharp(image!.bytes).metadata();
    expect([meta.width, meta.height]).toEqual([60, 40]);
  });

  it("does not export another user's private character, nor its avatar", async () => {
    const { character } = await characterWithAvatar("private");
    const error = await trpcError(callerFor(importer).characters.exportCard({ id: character.id, format: "charx" }));
    expect(error.code).toBe("NOT_FOUND");
    // The owner can.
    const own = await callerFor(owner).characters.exportCard({ id: character.id, format: "charx" });
    expect(unpackCharx(Buffer.from(own.dataBase64, "base64")).model).not.toBeNull();
  });

  it("exports a character without an avatar or a portrait as a CharX without a model, with the default picture as its icon", async () => {
    const character = await callerFor(owner).characters.create({ name: "평범한 사서", persona: "조용한 사서", visibility: "private" });
    const file = await callerFor(owner).characters.exportCard({ id: character.id, format: "charx" });
    const unpacked = unpackCharx(Buffer.from(file.dataBase64, "base64"));
    expect(unpacked.model).toBeNull();
    // RisuAI's importer waits for an icon: there always is one.
    expect(unpacked.portrait).not.toBeNull();
    expect((await sharp(unpacked.portrait!).metadata()).format).toBe("png");
  });

  it("refuses the whole import when the model inside is bad: nothing is written", async () => {
    const broken = editGlbJson(await buildVrm1(), (json) => ({ ...json, asset: { version: "1.0" } }));
    const charx = packCharx({ card: v3Card() as unknown as CardV3, portraitPng: await portraitPng(), model: { bytes: broken, format: "vrm" } });
    const before = await rowsOf(importer.id);
    const error = await trpcError(callerFor(importer).characters.importCard({ dataBase64: b64(charx) }));
    expect(error.code).toBe("BAD_REQUEST");
    expect((error.cause as { params?: { reason?: string } }).params?.reason).toBe("avatar_version");
    expect(await rowsOf(importer.id)).toEqual(before);
  });

  it("refuses a hostile archive with its reason, writing nothing", async () => {
    const charx = packCharx({ card: v3Card() as unknown as CardV3, portraitPng: await portraitPng() });
    const damaged = Buffer.from(charx.subarray(0, charx.length - 10));
    const before = await rowsOf(importer.id);
    const error = await trpcError(callerFor(importer).characters.importCard({ dataBase64: b64(damaged) }));
    expect(error.code).toBe("BAD_REQUEST");
    expect((error.cause as { params?: { reason?: string } }).params?.reason).toBe("card_charx_damaged");
    expect(await rowsOf(importer.id)).toEqual(before);
  });
});

