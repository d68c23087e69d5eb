// Bring your own avatar: avatars.upload / avatars.remove, characters.get's `avatar`, and
// /api/avatars/<id>, on a real Postgres.
import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { GET as getAvatar } from "@/app/api/avatars/[id]/route";
import { buildPlainGlb, buildVrm0, buildVrm1, editGlbJson } from "@/e2e/fixtures/avatars";
import { callersOn, type TestUser } from "@/e2e/support/test-caller";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import { ApiTokenModel } from "@/server/auth/api-tokens";
import { getSql, setDatabaseUrl } from "@/server/db";
import { avatarModels } from "@/server/db/schema";

const { db, sql } = testDatabase();
const callerFor = callersOn(db);
let owner: TestUser;
let reader: TestUser;

beforeAll(async () => {
  // The avatar route reads the app's own pool, as it does in the server.
  setDatabaseUrl(inject("databaseUrl"));
  owner = await createUser(db, "주인");
  reader = await createUser(db, "독자");
});
afterAll(async () => {
  await Promise.all([sql.end(), getSql().end()]);
});

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

async function newCharacter(user: TestUser, visibility: "private" | "public" = "private") {
  return callerFor(user).characters.create({ name: "아바타 시험", persona: "조용한 사서", visibility });
}

async function trpcError(promise: Promise<unknown>): Promise<TRPCError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCError) return error;
    throw error;
  }
  throw new Error("expected a TRPCError");
}

async function modelCount(userId: string) {
  return (await db.select({ id: avatarModels.id }).from(avatarModels).where(eq(avatarModels.ownerId, userId))).length;
}

const fetchAvatar = (id: string, headers: Record<string, string> = {}) =>
  getAvatar(new Request(`http://app/api/avatars/${id}`, { headers }), { params: Promise.resolve({ id }) });
const tokenOf = async (user: TestUser) => (await new ApiTokenModel(db, user.id).create(`avatars-${crypto.randomUUID().slice(0, 8)}`)).token;

describe("avatars.upload", () => {
  it("stores a VRM 0.x, a VRM 1.0 and a GLB, each replacing the last; characters.get shows it", async () => {
    const { id } = await newCharacter(owner);
    expect((await callerFor(owner).characters.get({ id })).avatar).toBeNull();

    const vrm0 = await callerFor(owner).avatars.upload({ characterId: id, dataBase64: b64(await buildVrm0()) });
    expect(vrm0).toMatchObject({ format: "vrm", vrmVersion: "0", triangles: 12, url: `/api/avatars/${vrm0.id}` });
    expect((await callerFor(owner).characters.get({ id })).avatar).toEqual({ url: vrm0.url, format: "vrm", vrmVersion: "0" });

    const vrm1 = await callerFor(owner).avatars.upload({ characterId: id, dataBase64: b64(await buildVrm1()) });
    expect(vrm1).toMatchObject({ format: "vrm", vrmVersion: "1" });
    const glb = await callerFor(owner).avatars.upload({ characterId: id, dataBase64: b64(await buildPlainGlb()) });
    expect(glb).toMatchObject({ format: "glb", vrmVersion: null });
    expect((await callerFor(owner).characters.get({ id })).avatar).toEqual({ url: glb.url, format: "glb", vrmVersion: null });
    // The replaced models were used by nothing else: they are gone.
    const rows = await db.select({ id: avatarModels.id, source: avatarModels.source }).from(avatarModels).where(eq(avatarModels.ownerId, owner.id));
    expect(rows.map((row) => row.id)).toContain(glb.id);
    expect(rows.map((row) => row.id)).not.toContain(vrm0.id);
    expect(rows.map((row) => row.id)).not.toContain(vrm1.id);
    expect(rows.find((row) => row.id === glb.id)?.source).toBe("upload");
  });

  it("hostile files change nothing", async () => {
    const { id } = await newCharacter(owner);
    const good = await callerFor(owner).avatars.upload({ characterId: id, dataBase64: b64(await buildVrm1()) });
    const before = await modelCount(owner.id);
    const glb = await buildPlainGlb();
    const hostile: Array<[string, Uint8Array]> = [
      ["avatar_not_glb", new TextEncoder().encode("not a model at all")],
      ["avatar_truncated", glb.subarray(0, Math.floor(glb.length / 2))],
      ["avatar_external_uri", editGlbJson(glb, (json) => void (json.images = [{ uri: "https://evil.example/a.png" }]))],
      ["avatar_malformed", editGlbJson(glb, () => [1, 2, 3])],
    ];
    for (const [reason, bytes] of hostile) {
      const error = await trpcError(callerFor(owner).avatars.upload({ characterId: id, dataBase64: b64(bytes) }));
      expect(error.code).toBe("BAD_REQUEST");
      expect((error.cause as { params?: { reason?: string } }).params?.reason).toBe(reason);
    }
    // Not even base64 is refused at the boundary.
    expect((await trpcError(callerFor(owner).avatars.upload({ characterId: id, dataBase64: "!!!" }))).code).toBe("BAD_REQUEST");
    expect(await modelCount(owner.id)).toBe(before);
    expect((await callerFor(owner).characters.get({ id })).avatar?.url).toBe(good.url);
  });

  it("only the owner attaches: another user's private character is not found, a public one forbidden, presets forbidden", async () => {
    const vrm = b64(await buildVrm0());
    const mine = await newCharacter(owner);
    const theirsPublic = await newCharacter(owner, "public");
    expect((await trpcError(callerFor(reader).avatars.upload({ characterId: mine.id, dataBase64: vrm }))).code).toBe("NOT_FOUND");
    expect((await trpcError(callerFor(reader).avatars.upload({ characterId: theirsPublic.id, dataBase64: vrm }))).code).toBe("FORBIDDEN");
    expect((await trpcError(callerFor(null).avatars.upload({ characterId: mine.id, dataBase64: vrm }))).code).toBe("UNAUTHORIZED");
    // A preset of the app (the shared database's own: a made-up one would show up as a preset elsewhere).
    expect((await trpcError(callerFor(owner).avatars.upload({ characterId: "preset-hermione", dataBase64: vrm }))).code).toBe("FORBIDDEN");
    expect((await trpcError(callerFor(reader).avatars.remove({ characterId: mine.id }))).code).toBe("NOT_FOUND");
  });

  it("the same file uploaded twice by one user is stored once", async () => {
    const a = await newCharacter(owner);
    const b = await newCharacter(owner);
    const bytes = b64(await buildPlainGlb({ color: [0.1, 0.2, 0.3, 1] }));
    const first = await callerFor(owner).avatars.upload({ characterId: a.id, dataBase64: bytes });
    const second = await callerFor(owner).avatars.upload({ characterId: b.id, dataBase64: bytes });
    expect(second.id).toBe(first.id);
    // Removing it from one character keeps it for the other.
    expect(await callerFor(owner).avatars.remove({ characterId: a.id })).toEqual({ removed: true });
    expect((await callerFor(owner).characters.get({ id: b.id })).avatar?.url).toBe(first.url);
    expect(await db.select({ id: avatarModels.id }).from(avatarModels).where(eq(avatarModels.id, first.id))).toHaveLength(1);
    expect(await callerFor(owner).avatars.remove({ characterId: b.id })).toEqual({ removed: true });
    expect(await db.select({ id: avatarModels.id }).from(avatarModels).where(eq(avatarModels.id, first.id))).toHaveLength(0);
    expect(await callerFor(owner).avatars.remove({ characterId: b.id })).toEqual({ removed: false });
    expect((await callerFor(owner).characters.get({ id: b.id })).avatar).toBeNull();
  });
});

describe("/api/avatars/<id> follows its characters' visibility", () => {
  it("serves the bytes to the owner and to those who may see a character using it; 404 to anyone else", async () => {
    const ownerAuth = { authorization: `Bearer ${await tokenOf(owner)}` };
    const readerAuth = { authorization: `Bearer ${await tokenOf(reader)}` };
    // Its own colour: the owner's other characters use other files (an identical one would share the row).
    const bytes = await buildVrm1({ color: [0.9, 0.1, 0.4, 1] });
    const { id: characterId } = await newCharacter(owner);
    const { id } = await callerFor(owner).avatars.upload({ characterId, dataBase64: b64(bytes) });

    const own = await fetchAvatar(id, ownerAuth);
    expect(own.status).toBe(200);
    expect(own.headers.get("content-type")).toBe("model/gltf-binary");
    expect(own.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
    const etag = own.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect(Buffer.from(await own.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);

    // Another user and a visitor: the private character's avatar does not exist.
    expect((await fetchAvatar(id, readerAuth)).status).toBe(404);
    expect((await fetchAvatar(id)).status).toBe(404);
    expect((await fetchAvatar(id, { ...readerAuth, "if-none-match": etag, range: "bytes=0-9" })).status).toBe(404);
    expect((await fetchAvatar(id, { authorization: "Bearer af_not-a-real-token" })).status).toBe(404);
    expect((await trpcError(callerFor(reader).characters.get({ id: characterId }))).code).toBe("NOT_FOUND");
    expect((await fetchAvatar("../../etc/passwd")).status).toBe(404);
    expect((await fetchAvatar(crypto.randomUUID(), ownerAuth)).status).toBe(404);

    // Public: everyone, with Range and ETag.
    await callerFor(owner).characters.update({ id: characterId, data: { visibility: "public" } });
    expect((await callerFor(null).characters.get({ id: characterId })).avatar).toEqual({ url: `/api/avatars/${id}`, format: "vrm", vrmVersion: "1" });
    expect((await fetchAvatar(id)).status).toBe(200);
    const shared = await fetchAvatar(id, readerAuth);
    expect(Buffer.from(await shared.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
    expect((await fetchAvatar(id, { ...readerAuth, "if-none-match": etag })).status).toBe(304);
    const part = await fetchAvatar(id, { ...readerAuth, range: "bytes=0-11" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 0-11/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(Buffer.from(bytes.subarray(0, 12)))).toBe(true);

    // Private again: gone for others; the owner keeps it. Removed: gone for everyone.
    await callerFor(owner).characters.update({ id: characterId, data: { visibility: "private" } });
    expect((await fetchAvatar(id, readerAuth)).status).toBe(404);
    expect((await fetchAvatar(id, ownerAuth)).status).toBe(200);
    await callerFor(owner).avatars.remove({ characterId });
    expect((await fetchAvatar(id, ownerAuth)).status).toBe(404);
  });

  it("a copy of a public character shares its avatar, which outlives the original going private", async () => {
    const readerAuth = { authorization: `Bearer ${await tokenOf(reader)}` };
    const { id: characterId } = await newCharacter(owner, "public");
    const { id } = await callerFor(owner).avatars.upload({ characterId, dataBase64: b64(await buildPlainGlb({ color: [0.2, 0.8, 0.2, 1] })) });
    const copy = await callerFor(reader).characters.duplicate({ id: characterId });
    expect((await callerFor(reader).characters.get({ id: copy.id })).avatar?.url).toBe(`/api/avatars/${id}`);
    await callerFor(owner).characters.update({ id: characterId, data: { visibility: "private" } });
    expect((await fetchAvatar(id, readerAuth)).status).toBe(200);
    // The owner removing it from the original keeps the row: the copy still uses it.
    await callerFor(owner).avatars.remove({ characterId });
    expect((await fetchAvatar(id, readerAuth)).status).toBe(200);
    await callerFor(reader).avatars.remove({ characterId: copy.id });
    expect((await fetchAvatar(id, readerAuth)).status).toBe(404);
    expect(await db.select({ id: avatarModels.id }).from(avatarModels).where(eq(avatarModels.id, id))).toHaveLength(0);
  });

  it("a deleted character's avatar is not found for others", async () => {
    const readerAuth = { authorization: `Bearer ${await tokenOf(reader)}` };
    const { id: characterId } = await newCharacter(owner, "public");
    const { id } = await callerFor(owner).avatars.upload({ characterId, dataBase64: b64(await buildVrm0()) });
    expect((await fetchAvatar(id, readerAuth)).status).toBe(200);
    await callerFor(owner).characters.delete({ id: characterId });
    expect((await fetchAvatar(id, readerAuth)).status).toBe(404);
  });
});
