import { eq, sql as dsql } from "drizzle-orm";
import { encode } from "next-auth/jwt";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SESSION_COOKIE, signedInCookie } from "@/e2e/support/session-cookie";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import { createCaller } from "@/server/api/root";
import { createTRPCContext } from "@/server/api/trpc";
import { endSessionOnSignOut, sessionFromHeaders, sessionRowJwt } from "@/server/auth";
import { SESSION_MAX_AGE_S } from "@/server/auth/config";
import { endSession, liveSession } from "@/server/auth/sessions";
import { getSql, setDatabaseUrl } from "@/server/db";
import { accounts, authSessions } from "@/server/db/schema";

// Read by the app's env() on first use, which comes after this line.
const SECRET = "sessions-test-secret-sessions-test-secret";
process.env.AUTH_SECRET = SECRET;

const { db, sql } = testDatabase();
type User = Awaited<ReturnType<typeof createUser>>;

beforeAll(() => {
  // sessionFromHeaders and createTRPCContext read through the app's own pool.
  setDatabaseUrl(inject("databaseUrl"));
});
afterAll(async () => {
  await sql.end();
  await getSql().end();
});

const signIn = (user: User) => signedInCookie(db, user, { secret: SECRET });
const withCookie = (cookie: string) => new Headers({ cookie: `af-locale=ko; ${cookie}` });
const sessionOf = (cookie: string) => sessionFromHeaders(withCookie(cookie));
/** The whole API as a browser with this cookie calls it. */
const apiWith = async (cookie: string) => createCaller(await createTRPCContext({ headers: withCookie(cookie) }));
const rowExists = async (sid: string) => (await db.select().from(authSessions).where(eq(authSessions.sessionToken, sid))).length === 1;

describe("sessions that can end", () => {
  it("a cookie is a session while its row lives; ending the row signs it out at once", async () => {
    const user = await createUser(db);
    const { cookie, sid } = await signIn(user);
    expect((await sessionOf(cookie))?.user).toMatchObject({ id: user.id, email: user.email, name: user.name });
    // The second read finds the decrypted cookie in the cache; only the row is read again.
    expect((await sessionOf(cookie))?.user.id).toBe(user.id);
    expect(await sessionRowJwt({ token: { sub: user.id, sid } })).toMatchObject({ sid });

    await endSession(db, sid);
    expect(await sessionOf(cookie)).toBeNull();
    expect(await sessionRowJwt({ token: { sub: user.id, sid } })).toBeNull();
    await expect((await apiWith(cookie)).sessions.list({ limit: 5 })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("a cookie from before session rows (no sid) counts as signed out", async () => {
    const user = await createUser(db);
    const jwt = await encode({ token: { sub: user.id, name: user.name, email: user.email }, secret: SECRET, salt: SESSION_COOKIE });
    expect(await sessionOf(`${SESSION_COOKIE}=${jwt}`)).toBeNull();
    expect(await sessionRowJwt({ token: { sub: user.id, name: user.name } })).toBeNull();
  });

  it("a row that ran out, or a row of someone else, serves no cookie", async () => {
    const [user, other] = [await createUser(db), await createUser(db)];
    const expired = await signIn(user);
    await db.update(authSessions).set({ expires: dsql`now() - interval '1 second'` }).where(eq(authSessions.sessionToken, expired.sid));
    expect(await sessionOf(expired.cookie)).toBeNull();

    const others = await signIn(other);
    const forged = await encode({ token: { sub: user.id, sid: others.sid }, secret: SECRET, salt: SESSION_COOKIE });
    expect(await sessionOf(`${SESSION_COOKIE}=${forged}`)).toBeNull();
    expect(await sessionOf(others.cookie)).not.toBeNull();
  });

  it("a cookie that doesn't decrypt is no session", async () => {
    const user = await createUser(db);
    const { sid } = await signIn(user);
    const wrongKey = await encode({ token: { sub: user.id, sid }, secret: "another-secret-another-secret-another", salt: SESSION_COOKIE });
    expect(await sessionOf(`${SESSION_COOKIE}=${wrongKey}`)).toBeNull();
    expect(await sessionOf(`${SESSION_COOKIE}=not-a-jwt`)).toBeNull();
    expect(await sessionFromHeaders(new Headers())).toBeNull();
  });

  it("signing in makes a row that lasts the session's max age; signing out deletes it", async () => {
    const user = await createUser(db);
    const token = await sessionRowJwt({ token: { name: user.name }, user: { id: user.id }, account: null });
    const sid = token?.sid;
    expect(sid).toEqual(expect.any(String));
    const [row] = await db.select().from(authSessions).where(eq(authSessions.sessionToken, sid as string));
    expect(row?.userId).toBe(user.id);
    expect(Math.abs(row!.expires.getTime() - (Date.now() + SESSION_MAX_AGE_S * 1000))).toBeLessThan(60_000);

    await endSessionOnSignOut({ token: token! });
    expect(await rowExists(sid as string)).toBe(false);
  });

  it("a development sign-in ends when its account gets a linked Google account", async () => {
    const user = await createUser(db);
    const token = await sessionRowJwt({ token: {}, user: { id: user.id }, account: { provider: "dev" } });
    expect(token).toMatchObject({ devSignIn: true });
    expect(await sessionRowJwt({ token: token! })).not.toBeNull();
    await db.insert(accounts).values({ userId: user.id, type: "oidc", provider: "google", providerAccountId: crypto.randomUUID() });
    expect(await sessionRowJwt({ token: token! })).toBeNull();
  });

  it("sign out everywhere ends every session of that user and no one else's", async () => {
    const [owner, other] = [await createUser(db), await createUser(db)];
    const [laptop, phone, others] = [await signIn(owner), await signIn(owner), await signIn(other)];
    // The owner's sessions are in use (their decrypted cookies cached) before they end.
    for (const { cookie } of [laptop, phone, others]) expect(await sessionOf(cookie)).not.toBeNull();

    expect(await (await apiWith(laptop.cookie)).account.signOutEverywhere()).toEqual({ ended: 2 });

    for (const { cookie } of [laptop, phone]) {
      expect(await sessionOf(cookie)).toBeNull();
      await expect((await apiWith(cookie)).account.signOutEverywhere()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    }
    expect((await sessionOf(others.cookie))?.user.id).toBe(other.id);
    expect(await rowExists(others.sid)).toBe(true);
  });

  it("sign out everywhere takes the signed-in app: an API token can't call it", async () => {
    const user = await createUser(db);
    const { cookie, sid } = await signIn(user);
    const { token } = await (await apiWith(cookie)).apiTokens.create({ name: "script" });
    const script = createCaller(await createTRPCContext({ headers: new Headers({ authorization: `Bearer ${token}` }) }));
    await expect(script.account.signOutEverywhere()).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await rowExists(sid)).toBe(true);
  });
});

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
const describeTimes = (times: number[]) => {
  const sorted = [...times].sort((a, b) => a - b);
  return `p50 ${(percentile(sorted, 50) * 1000).toFixed(0)} µs · p99 ${(percentile(sorted, 99) * 1000).toFixed(0)} µs`;
};

describe("the per-request session check", () => {
  it("reads the database on every request (1,000 checks, timed)", async () => {
    const user = await createUser(db);
    const { cookie, sid } = await signIn(user);
    const claims = { sid, userId: user.id, devSignIn: false };
    const [row, request] = [[] as number[], [] as number[]];
    // Warm up first: connections opened, queries prepared, code compiled.
    for (let i = 0; i < 100; i++) await sessionOf(cookie);
    for (let i = 0; i < 1_000; i++) {
      let start = performance.now();
      expect(await liveSession(db, claims)).not.toBeNull();
      row.push(performance.now() - start);
      start = performance.now();
      expect(await sessionOf(cookie)).not.toBeNull();
      request.push(performance.now() - start);
    }
    // Nothing about the answer is cached: the very next check after the row goes says so.
    await endSession(db, sid);
    expect(await sessionOf(cookie)).toBeNull();

    const decrypt: number[] = [];
    for (let i = 0; i < 200; i++) {
      const fresh = await encode({ token: { sub: user.id, sid }, secret: SECRET, salt: SESSION_COOKIE });
      const start = performance.now();
      await sessionOf(`${SESSION_COOKIE}=${fresh}`);
      decrypt.push(performance.now() - start);
    }
    console.log(
      [
        "session check, 1,000 runs on the embedded Postgres:",
        `  row lookup alone (liveSession):             ${describeTimes(row)}`,
        `  sessionFromHeaders, decryption cached:      ${describeTimes(request)}`,
        `  sessionFromHeaders, new cookie (decrypts):  ${describeTimes(decrypt)}  (200 runs)`,
      ].join("\n"),
    );
  });
});
