/**
 * The access matrix: every procedure of `appRouter`, found by reflection, called as a visitor,
 * its owner, another user, the owner's API token, a revoked token and a malformed token, against
 * a table of what each may do. A procedure missing from the table fails the suite, so nobody can
 * add one without saying who may call it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { startFakeOllama, type FakeOllama } from "@/e2e/fakes/ollama";
import { startFakeSovits, type FakeSovits } from "@/e2e/fakes/sovits";
import { allProcedures, callerAs, createFixture, outcomeOf, procedureOf, ROLES, VALID_INPUTS, type Role } from "@/e2e/support/api-fixtures";
import { testDatabase } from "@/e2e/support/test-db";
import { appRouter } from "./root";

type Outcome = "ok" | "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND" | "BAD_REQUEST";
type Expected = Record<Role, Outcome>;

const refused = { revokedToken: "UNAUTHORIZED", malformedToken: "UNAUTHORIZED" } as const;
/** Anyone, signed in or not (a bad token is still refused: it never falls back to a visitor). */
const PUBLIC: Expected = { visitor: "ok", owner: "ok", other: "ok", token: "ok", ...refused };
/** Any signed-in user, on their own data. */
const SIGNED_IN: Expected = { visitor: "UNAUTHORIZED", owner: "ok", other: "ok", token: "ok", ...refused };
/** The owner's private resource: another user doesn't see it exist. */
const OWNER: Expected = { visitor: "UNAUTHORIZED", owner: "ok", other: "NOT_FOUND", token: "ok", ...refused };
/** The owner's private resource, readable without signing in when it is visible: not found for others. */
const OWNER_OR_HIDDEN: Expected = { visitor: "NOT_FOUND", owner: "ok", other: "NOT_FOUND", token: "ok", ...refused };
/** Only in the app itself: a token can't manage tokens or sessions. */
const BROWSER: Expected = { visitor: "UNAUTHORIZED", owner: "ok", other: "ok", token: "FORBIDDEN", ...refused };

/** Who may call each procedure (with the owner's input from VALID_INPUTS). */
const MATRIX: Record<string, Expected> = {
  "characters.presets": PUBLIC,
  "characters.gallery": PUBLIC,
  "characters.facets": PUBLIC,
  "characters.get": OWNER_OR_HIDDEN,
  "characters.create": SIGNED_IN,
  "characters.update": OWNER,
  "characters.duplicate": OWNER,
  "characters.delete": OWNER,
  "characters.uploadImage": SIGNED_IN,
  "characters.importCard": SIGNED_IN,
  "characters.exportCard": OWNER_OR_HIDDEN,
  // The files a card carried (issue 16): seen by whoever sees the character.
  "characters.assets": OWNER_OR_HIDDEN,
  // Bring your own avatar (issue 12): only the character's owner; another user doesn't see the private character.
  "avatars.upload": OWNER,
  "avatars.remove": OWNER,
  // Avatar generation (issue 12): the owner's character and jobs; others don't see them exist.
  "avatars.generate": OWNER,
  "avatars.get": OWNER,
  "avatars.job": OWNER,
  "avatars.cancel": OWNER,
  "avatars.jobs": OWNER,
  "voices.list": PUBLIC,
  "voices.get": OWNER_OR_HIDDEN,
  "voices.create": SIGNED_IN,
  "voices.update": OWNER,
  "voices.delete": OWNER,
  "voices.synthesize": OWNER,
  "voices.preview": OWNER,
  "sessions.create": OWNER,
  "sessions.get": OWNER,
  "sessions.list": SIGNED_IN,
  "sessions.rename": OWNER,
  "sessions.update": OWNER,
  "sessions.delete": OWNER,
  "sessions.clear": OWNER,
  "sessions.messages": OWNER,
  "sessions.stats": OWNER,
  "sessions.search": SIGNED_IN,
  "sessions.importChat": OWNER,
  "chat.send": OWNER,
  "chat.complete": OWNER,
  "chat.reply": OWNER,
  "chat.stop": OWNER,
  "chat.seen": OWNER,
  "chat.retry": OWNER,
  "chat.regenerate": OWNER,
  "chat.continue": OWNER,
  "chat.swipe": OWNER,
  "chat.edit": OWNER,
  "chat.deleteMessage": OWNER,
  "chat.editMessage": OWNER,
  "chat.branch": OWNER,
  "chat.speak": OWNER,
  "chat.models": SIGNED_IN,
  "chat.prompt": OWNER,
  "health.check": PUBLIC,
  "apiTokens.list": BROWSER,
  "apiTokens.create": BROWSER,
  "apiTokens.revoke": { visitor: "UNAUTHORIZED", owner: "ok", other: "NOT_FOUND", token: "FORBIDDEN", ...refused },
  "account.signOutEverywhere": BROWSER,
  "account.defaults": SIGNED_IN,
  "account.setDefaults": SIGNED_IN,
  // Another user typing the owner's email deletes nothing: it doesn't match their own.
  "account.delete": { visitor: "UNAUTHORIZED", owner: "ok", other: "BAD_REQUEST", token: "FORBIDDEN", ...refused },
  "personas.list": SIGNED_IN,
  "personas.create": SIGNED_IN,
  "personas.update": OWNER,
  "personas.delete": OWNER,
  "personas.setDefault": OWNER,
};

const { db, sql } = testDatabase();
let ollama: FakeOllama;
let sovits: FakeSovits;

beforeAll(async () => {
  [ollama, sovits] = await Promise.all([startFakeOllama({ port: 0, tokenDelayMs: 1 }), startFakeSovits({ port: 0 })]);
  process.env.OLLAMA_HOST = ollama.url;
  process.env.SOVITS_URL = sovits.url;
  // Avatar generation on (no engine runs here: jobs stay queued).
  process.env.AVATAR3D_URL = "http://127.0.0.1:9";
  // Token callers go through the real context, which opens the app's own pool.
  process.env.DATABASE_URL = inject("databaseUrl");
});
afterAll(async () => {
  // Replies started by the matrix finish against the fake before the database goes.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await Promise.all([ollama.close(), sovits.close()]);
  await sql.end();
});

const procedures = allProcedures(appRouter);

describe("the access matrix", () => {
  it("has a row for every procedure, and no row for a procedure that does not exist", () => {
    const paths = procedures.map((p) => p.path).sort();
    expect(paths.filter((path) => !(path in MATRIX))).toEqual([]);
    expect(Object.keys(MATRIX).filter((path) => !paths.includes(path))).toEqual([]);
  });

  for (const { path } of procedures) {
    const expected = MATRIX[path];
    const input = VALID_INPUTS[path];
    it(`${path}: ${expected ? ROLES.map((role) => `${role} ${expected[role]}`).join(", ") : "(no row)"}`, async () => {
      expect(expected, `${path} is not in the access matrix: say who may call it`).toBeDefined();
      expect(input, `${path} has no valid input in e2e/support/api-fixtures.ts`).toBeDefined();
      const seen: Partial<Record<Role, string>> = {};
      for (const role of ROLES) {
        // A fresh owner and resources for each caller, so a delete or a limit can't leak into the next.
        const fx = await createFixture(db);
        seen[role] = await outcomeOf(async () => procedureOf(await callerAs(db, role, fx), path)(input!(fx)));
      }
      expect(seen).toEqual(expected);
    });
  }
});
