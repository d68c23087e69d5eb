// avatars.upload of hostile models (e2e/fixtures/hostile-models.ts), on a real Postgres: each is
// answered 400 with its reason, nothing is stored and the character keeps its avatar.
import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildVrm1 } from "@/e2e/fixtures/avatars";
import { hostileModels, manyOfGlb, unreadableTextureGlb } from "@/e2e/fixtures/hostile-models";
import { callersOn, type TestUser } from "@/e2e/support/test-caller";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import { avatarModels } from "@/server/db/schema";

const { db, sql } = testDatabase();
const callerFor = callersOn(db);
let owner: TestUser;

beforeAll(async () => {
  owner = await createUser(db, "방어");
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

describe("avatars.upload of hostile models", () => {
  it("answers each with 400 and its reason, and stores nothing", { timeout: 120_000 }, async () => {
    const { id } = await callerFor(owner).characters.create({ name: "방어 시험", persona: "조심스러운 문지기" });
    const good = await callerFor(owner).avatars.upload({ characterId: id, dataBase64: b64(await buildVrm1()) });
    const stored = async () => (await db.select({ id: avatarModels.id }).from(avatarModels).where(eq(avatarModels.ownerId, owner.id))).length;
    const before = await stored();

    const hostile = [
      ...(await hostileModels()),
      { name: "a KTX2 texture", bytes: await unreadableTextureGlb(), reason: "avatar_texture_unreadable" },
      { name: "1,001 materials", bytes: await manyOfGlb("materials", 1_001, {}), reason: "avatar_too_many_materials" },
    ];
    for (const model of hostile) {
      const error = await trpcError(callerFor(owner).avatars.upload({ characterId: id, dataBase64: b64(model.bytes) }));
      expect({ name: model.name, code: error.code }).toEqual({ name: model.name, code: "BAD_REQUEST" });
      expect({ name: model.name, reason: (error.cause as { params?: { reason?: string } }).params?.reason }).toEqual({ name: model.name, reason: model.reason });
    }
    expect(await stored()).toBe(before);
    expect((await callerFor(owner).characters.get({ id })).avatar?.url).toBe(good.url);
  });
});
