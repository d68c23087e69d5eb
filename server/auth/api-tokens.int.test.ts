import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { callersOn } from "@/e2e/support/test-caller";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import { createCaller } from "@/server/api/root";
import { createTRPCContext } from "@/server/api/trpc";
import { ApiTokenModel } from "@/server/auth/api-tokens";
import { getSql, setDatabaseUrl } from "@/server/db";

const { db, sql } = testDatabase();
type User = Awaited<ReturnType<typeof createUser>>;
let owner: User;
let other: User;

beforeAll(async () => {
  // createTRPCContext reads tokens through the app's own pool.
  setDatabaseUrl(inject("databaseUrl"));
  [owner, other] = [await createUser(db, "토큰 주인"), await createUser(db, "다른 사람")];
});
afterAll(async () => {
  await sql.end();
  await getSql().end();
});

/** A caller signed in through the app (the session cookie). */
const inApp = callersOn(db);

/** A caller as a script sends it: only an Authorization header. */
async function withHeader(authorization: string) {
  return createCaller(await createTRPCContext({ headers: new Headers({ authorization }) }));
}

describe("personal API tokens", () => {
  it("are shown once, stored only as a hash, and act as their owner", async () => {
    const created = await inApp(owner).apiTokens.create({ name: "  내 스크립트  " });
    expect(created.token).toMatch(/^af_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: "내 스크립트", prefix: created.token.slice(0, 10), lastUsedAt: null });

    const listed = await inApp(owner).apiTokens.list();
    expect(listed.map((t) => t.id)).toContain(created.id);
    expect(JSON.stringify(listed)).not.toContain(created.token);
    const [row] = await sql<{ token_hash: string }[]>`select token_hash from api_tokens where id = ${created.id}`;
    expect(row!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(await sql`select * from api_tokens where id = ${created.id}`)).not.toContain(created.token.slice(10));

    const script = await withHeader(`Bearer ${created.token}`);
    const session = await script.sessions.create({ characterId: "preset-aria" });
    expect((await inApp(owner).sessions.list({ limit: 50 })).items.map((s) => s.id)).toContain(session.id);
    expect((await inApp(other).sessions.list({ limit: 50 })).items.map((s) => s.id)).not.toContain(session.id);
    await expect.poll(async () => (await inApp(owner).apiTokens.list()).find((t) => t.id === created.id)?.lastUsedAt).toBeInstanceOf(Date);
  });

  it("stop working when revoked; only their owner can revoke them", async () => {
    const { id, token } = await inApp(owner).apiTokens.create({ name: "곧 폐기" });
    await expect(inApp(other).apiTokens.revoke({ id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await (await withHeader(`Bearer ${token}`)).sessions.list({ limit: 5 });
    await inApp(owner).apiTokens.revoke({ id });
    await expect(withHeader(`Bearer ${token}`)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("refuses a wrong or malformed token outright, even for public procedures", async () => {
    for (const header of ["Bearer af_" + "x".repeat(43), "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer "]) {
      await expect(withHeader(header)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    }
  });

  it("cannot create or revoke tokens themselves (that takes the signed-in app)", async () => {
    const { id, token } = await inApp(owner).apiTokens.create({ name: "스크립트" });
    const script = await withHeader(`Bearer ${token}`);
    await expect(script.apiTokens.create({ name: "더 만들기" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(script.apiTokens.revoke({ id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(script.apiTokens.list()).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("checks names and limits how many one account holds, even when created all at once", async () => {
    const user = await createUser(db);
    for (const name of ["", "   ", "가".repeat(61)]) {
      await expect(inApp(user).apiTokens.create({ name })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    }
    // Straight to the model: the procedure also limits how many are made per hour (limits.int.test.ts).
    const tokens = new ApiTokenModel(db, user.id);
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => tokens.create(`토큰 ${i}`)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(20);
    for (const result of results.filter((r) => r.status === "rejected")) {
      expect(result.reason).toMatchObject({ code: "bad_input", params: { limit: 20 } });
    }
    await expect(inApp(user).apiTokens.create({ name: "스물한 번째" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(await inApp(user).apiTokens.list()).toHaveLength(20);
    await expect(inApp(null).apiTokens.list()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });
});
