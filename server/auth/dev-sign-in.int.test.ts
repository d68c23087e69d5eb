import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import { env } from "@/lib/env.mjs";
import { accounts, rateLimits, users } from "@/server/db/schema";
import { HOUR } from "@/server/limits/rate-limit";
import { authorizeDevSignIn, LinkedAccountSignIn, SignUpLimitSignIn } from "./dev-sign-in";

const { db, sql } = testDatabase();
afterAll(() => sql.end());

const SIGN_UPS = "sign_up:all";
const thisWindow = () => new Date(Date.now() - (Date.now() % HOUR));
async function signUpsThisHour() {
  const [row] = await db.select({ count: rateLimits.count }).from(rateLimits).where(and(eq(rateLimits.key, SIGN_UPS), eq(rateLimits.windowStart, thisWindow())));
  return row?.count ?? 0;
}
const newEmail = () => `dev-${crypto.randomUUID()}@example.com`;

afterEach(async () => {
  // The sign-up counter is shared by the whole run: leave it as the tests found it (empty).
  await db.delete(rateLimits).where(eq(rateLimits.key, SIGN_UPS));
});

describe("the development sign-in", () => {
  it("never opens an account that has a linked Google account", async () => {
    const user = await createUser(db, "구글 사용자");
    await db.insert(accounts).values({ userId: user.id, type: "oidc", provider: "google", providerAccountId: crypto.randomUUID() });
    const refusal = authorizeDevSignIn(db, { email: user.email, name: "침입자" });
    await expect(refusal).rejects.toBeInstanceOf(LinkedAccountSignIn);
    await expect(refusal).rejects.toMatchObject({ code: "linked_account" });
    expect(await signUpsThisHour()).toBe(0);
  });

  it("creates an account on first use, which counts as a sign-up; signing in again does not", async () => {
    const email = newEmail();
    const created = await authorizeDevSignIn(db, { email, name: "" });
    expect(created).toMatchObject({ email, name: email.split("@")[0] });
    expect(await signUpsThisHour()).toBe(1);

    const again = await authorizeDevSignIn(db, { email, name: "다른 이름" });
    expect(again?.id).toBe(created?.id);
    expect(await signUpsThisHour()).toBe(1);
  });

  it("refuses new accounts once the hour's sign-ups are used up, and still lets existing ones in", async () => {
    const existing = await authorizeDevSignIn(db, { email: newEmail() });
    await db.update(rateLimits).set({ count: env().SIGNUPS_PER_HOUR }).where(eq(rateLimits.key, SIGN_UPS));

    const email = newEmail();
    await expect(authorizeDevSignIn(db, { email })).rejects.toBeInstanceOf(SignUpLimitSignIn);
    expect(await db.select().from(users).where(eq(users.email, email))).toHaveLength(0);
    expect((await authorizeDevSignIn(db, { email: existing!.email }))?.id).toBe(existing!.id);
  });

  it("answers input that isn't an email address with no user", async () => {
    for (const input of [{}, { email: "not-an-email" }, { email: "" }, null]) {
      expect(await authorizeDevSignIn(db, input)).toBeNull();
    }
    expect(await signUpsThisHour()).toBe(0);
  });
});
