/**
 * The hostile-input corpus: for every procedure, bad values generated from its own input schema
 * (over-long, wrong types, NUL and control characters, lone surrogates, huge arrays, deep
 * nesting, extreme numbers and dates, malformed ids and cursors) plus crafted cards and images,
 * sent over the real HTTP handler (the route handler here; the production Node path in
 * server/http/fast-trpc.int.test.ts) as the owner's API token. Every answer must be a 4xx with a
 * readable message, never a 5xx, and the database must be exactly as it was.
 */
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { TRPCError } from "@trpc/server";
import { sql as raw } from "drizzle-orm";
import { inspect } from "node:util";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { z } from "zod";
import { allProcedures, callerAs, createFixture, VALID_INPUTS, type Fixture } from "@/e2e/support/api-fixtures";
import { isolatedDatabase } from "@/e2e/support/isolated-db";
import { freePort } from "@/e2e/support/ports";
import { GET as routeGet, POST as routePost } from "@/app/api/trpc/[trpc]/route";
import { CHARACTER_LIMITS } from "@/lib/schemas";
import { pngHeaderOnly } from "@/server/images/test-images";
import { cardPng, v3Card } from "@/server/cards/test-cards";
import { CharacterModel } from "@/server/characters/model";
import { hostileInputAt } from "./trpc";
import { appRouter } from "./root";

/**
 * How requests reach tRPC: the App Router's route handler, or — when a file sets it before
 * importing this one (server/http/fast-trpc.int.test.ts) — the Node path production uses.
 */
type Handler = (request: Request) => Promise<Response>;
const transport = (globalThis as unknown as { afHttpTransport?: { GET: Handler; POST: Handler } }).afHttpTransport ?? { GET: routeGet, POST: routePost };
const { GET, POST } = transport;

type Path = (string | number)[];
type Schema = z.core.$ZodType;

let isolated: Awaited<ReturnType<typeof isolatedDatabase>>;

beforeAll(async () => {
  isolated = await isolatedDatabase();
  // The handler's context opens the app's own pool: on this file's database. No LLM or TTS is
  // listening — no bad input may get as far as calling one.
  process.env.DATABASE_URL = isolated.url;
  process.env.OLLAMA_HOST = `http://127.0.0.1:${await freePort()}`;
  process.env.SOVITS_URL = `http://127.0.0.1:${await freePort()}`;
}, 60_000);
afterAll(() => isolated?.drop());

// ---------------------------------------------------------------------------------------------
// Reading a procedure's input schema
// ---------------------------------------------------------------------------------------------

interface Leaf {
  path: Path;
  schema: Schema;
  kind: string;
}

function defOf(schema: Schema) {
  return schema._zod.def as unknown as { type: string; innerType?: Schema; in?: Schema; shape?: Record<string, Schema>; element?: Schema; checks?: { _zod: { def: Record<string, unknown> } }[] };
}

/** The schema a value at this point is checked against, without optional/default/pipe wrappers. */
function unwrap(schema: Schema): Schema {
  const def = defOf(schema);
  if (def.innerType) return unwrap(def.innerType);
  if (def.type === "pipe" && def.in) return unwrap(def.in);
  return schema;
}

/** Every value the schema reads, by path (an array's element as index 0). */
function leavesOf(schema: Schema, path: Path = []): Leaf[] {
  const inner = unwrap(schema);
  const def = defOf(inner);
  if (def.type === "object" && def.shape) {
    return Object.entries(def.shape).flatMap(([key, field]) => leavesOf(field, [...path, key]));
  }
  if (def.type === "array" && def.element) return [{ path, schema: inner, kind: "array" }, ...leavesOf(def.element, [...path, 0])];
  return [{ path, schema: inner, kind: def.type }];
}

function checksOf(schema: Schema) {
  return (defOf(schema).checks ?? []).map((check) => check._zod.def);
}

const maxLengthOf = (schema: Schema) => checksOf(schema).find((c) => c.check === "max_length")?.maximum as number | undefined;

/** A leaf that accepts unbounded input: a string or array without a maximum, a number without both bounds. */
function unbounded(leaf: Leaf): string | null {
  const checks = checksOf(leaf.schema);
  const has = (name: string) => checks.some((c) => c.check === name);
  if (leaf.kind === "string" && !has("max_length") && !checks.some((c) => c.check === "string_format")) return "a string with no maximum length";
  if (leaf.kind === "array" && !has("max_length")) return "an array with no maximum size";
  if (leaf.kind === "number" && !(has("greater_than") && has("less_than"))) return "a number without both bounds";
  if (leaf.kind === "record" || leaf.kind === "unknown" || leaf.kind === "any") return `an unchecked ${leaf.kind}`;
  return null;
}

// ---------------------------------------------------------------------------------------------
// Bad values
// ---------------------------------------------------------------------------------------------

function nested(depth: number): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}
const nestedArrays = (depth: number): unknown => (depth === 0 ? "x" : [nestedArrays(depth - 1)]);
const protoKey = () => JSON.parse('{"__proto__": {"polluted": true}}') as unknown;

const BAD_STRINGS = [
  "x\u0000y",
  "x\u0007y",
  "\uD83D",
  "\uDC00abc",
  "\u200B\u200B",
  "\u202Eevil",
  "../../etc/passwd",
  "'; drop table users; --",
  "x".repeat(65),
  "0000-01-01T00:00:00Z|abc",
  "+275760-09-13T00:00:00.000Z|abc",
  "2024-13-45T25:61:00Z|abc",
  new Date(8.64e15).toISOString(),
];
const WRONG_TYPES = [42, -1, true, {}, [], null, new Date(8.64e15), new Date(Number.NaN), protoKey()];
const BAD_NUMBERS = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 1e308, -1e308, 2 ** 53 + 2, -(2 ** 53) - 2, 0.5, -1, "1", null, true, {}, new Date(0)];

function badValuesFor(leaf: Leaf): unknown[] {
  switch (leaf.kind) {
    case "string": {
      const max = maxLengthOf(leaf.schema) ?? 1_000;
      return [..."가나".split("").map((c) => c.repeat(max + 1)), "x".repeat(200_000), ...BAD_STRINGS, ...WRONG_TYPES];
    }
    case "number":
      return BAD_NUMBERS;
    case "array":
      return [new Array(10_001).fill("x"), nestedArrays(60), "not a list", { length: 3 }, null];
    default:
      return ["not-a-choice", "x\u0000", 0, null, {}, [], nested(40)];
  }
}

function setAt(base: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const container = (Array.isArray(base) ? [...base] : typeof base === "object" && base !== null ? { ...base } : typeof head === "number" ? [] : {}) as Record<string | number, unknown>;
  container[head!] = setAt(container[head!], rest, value);
  return container;
}

/** The bad inputs for a procedure: each leaf spoiled in turn, then the input as a whole. */
function corpusFor(schema: Schema | undefined, base: unknown): unknown[] {
  const whole = ["just a string", 12, [], nested(200), nested(20), protoKey(), { extra: "x\u0000" }];
  if (!schema) return whole;
  return [...leavesOf(schema).flatMap((leaf) => badValuesFor(leaf).map((value) => setAt(base, leaf.path, value))), ...whole];
}

/** Whether the input is bad at all: the server's own rules, both the global check and the schema. */
function isBad(schema: Schema | undefined, input: unknown) {
  if (hostileInputAt(input)) return true;
  return schema ? !(schema as z.ZodType).safeParse(input).success : false;
}

// ---------------------------------------------------------------------------------------------
// Crafted files
// ---------------------------------------------------------------------------------------------

const b64 = (text: string | Buffer) => Buffer.from(text).toString("base64");

async function craftedFiles(): Promise<unknown[]> {
  const card = (data: Record<string, unknown>) => b64(JSON.stringify({ ...v3Card(), data: { ...v3Card().data, ...data } }));
  const deep = `{"spec":"chara_card_v3","spec_version":"3.0","data":{"name":"x","extensions":${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}}}`;
  const png = await cardPng([{ keyword: "chara", text: b64(JSON.stringify(v3Card())) }]);
  return [
    { dataBase64: b64(deep) },
    { dataBase64: card({ name: "\u200B\u200B" }) },
    { dataBase64: card({ name: "\u202Eevil" }) },
    { dataBase64: card({ name: "x".repeat(81) }) },
    { dataBase64: card({ alternate_greetings: new Array(CHARACTER_LIMITS.alternateGreetings + 1).fill("안녕") }) },
    { dataBase64: b64("hello, not a card") },
    { dataBase64: b64("{ not json") },
    { dataBase64: b64(png.subarray(0, 40)) },
    { dataBase64: b64(pngHeaderOnly(100_000, 100_000)) },
    { dataBase64: b64('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>') },
    { dataBase64: b64(Buffer.from("GIF89a\x01\x00\x01\x00", "latin1")) },
    { dataBase64: "!!!not base64!!!" },
    { dataBase64: "" },
    { dataBase64: "A".repeat(13 * 1024 * 1024) },
  ];
}

// ---------------------------------------------------------------------------------------------
// Calling and checking
// ---------------------------------------------------------------------------------------------

interface Answer {
  status: number;
  message: string;
}

/** The body a client sends: superjson's envelope, or (for what superjson won't send, a `__proto__` key) the JSON an attacker would write by hand. */
function wire(input: unknown) {
  try {
    return JSON.stringify(superjson.serialize(input));
  } catch {
    return JSON.stringify({ json: input });
  }
}

/** The input as the server decodes it from the wire. */
function received(input: unknown): unknown {
  return superjson.deserialize(JSON.parse(wire(input)) as Parameters<typeof superjson.deserialize>[0]);
}

/** One call through the real HTTP handler, as the API token would make it. */
async function callOverHttp(path: string, type: string, input: unknown, token: string): Promise<Answer> {
  const payload = wire(input);
  const url = new URL(`http://localhost/api/trpc/${path}`);
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  let response: Response;
  if (type === "query") {
    url.searchParams.set("input", payload);
    response = await GET(new Request(url, { headers }));
  } else {
    response = await POST(new Request(url, { method: "POST", headers, body: payload }));
  }
  const body = (await response.json()) as { error?: Parameters<typeof superjson.deserialize>[0] };
  const error = body.error ? superjson.deserialize<{ message: string }>(body.error) : null;
  return { status: response.status, message: error?.message ?? "" };
}

/** A subscription is not plain HTTP: it is called through the server-side caller. */
async function callSubscription(path: string, input: unknown, fx: Fixture): Promise<Answer> {
  const caller = await callerAs(isolated.db, "owner", fx);
  try {
    const [router, name] = path.split(".") as [string, string];
    const events = await (caller as unknown as Record<string, Record<string, (i: unknown) => Promise<AsyncIterable<unknown>>>>)[router]![name]!(input);
    for await (const _event of events) break;
    return { status: 200, message: "" };
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    return { status: getHTTPStatusCodeFromError(error), message: error.code === "BAD_REQUEST" ? "checked by the schema" : error.message };
  }
}

/** Something a person can read: a sentence, with no SQL, stack or internal address in it. */
function unreadable(message: string): string | null {
  if (!message.trim()) return "an empty message";
  if (message.length > 400) return "a message of more than 400 characters";
  if (/\b(select|insert into|delete from|update \S+ set)\b|postgres|drizzle|\n\s+at |https?:\/\/|127\.0\.0\.1/i.test(message)) return "internal detail";
  return null;
}

/**
 * Every table's row count and a digest of its contents — aside from a token's last-use time and
 * the rate-limit counters: a well-formed upload whose bytes turn out not to be an image has cost
 * its decoding, and counts against the uploads limit by design.
 */
async function databaseDigest() {
  const tables = await isolated.db.execute<{ name: string }>(
    raw`select table_name as name from information_schema.tables
        where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> 'rate_limits' order by 1`,
  );
  const digest: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await isolated.db.execute<{ n: number; h: string }>(
      raw.raw(
        `select count(*)::int as n, md5(coalesce(string_agg(x, '|' order by x), '')) as h
         from (select (to_jsonb(t) - 'last_used_at')::text as x from "${name}" t) s`,
      ),
    );
    digest[name] = `${row!.n}:${row!.h}`;
  }
  return digest;
}

const procedures = allProcedures(appRouter);

describe("every input schema is bounded", () => {
  it("has a maximum for every string and array and both bounds for every number", () => {
    const problems = procedures.flatMap(({ path, inputs }) =>
      inputs.flatMap((schema) =>
        leavesOf(schema as Schema).flatMap((leaf) => {
          const problem = unbounded(leaf);
          return problem ? [`${path} ${leaf.path.join(".") || "(input)"}: ${problem}`] : [];
        }),
      ),
    );
    expect(problems).toEqual([]);
  });
});

describe("the hostile-input corpus", () => {
  for (const { path, type, inputs } of procedures) {
    it(`${path}: every bad input is a 4xx with a readable message, and changes nothing`, { timeout: 120_000 }, async () => {
      const fx = await createFixture(isolated.db);
      const valid = VALID_INPUTS[path];
      expect(valid, `${path} has no valid input in e2e/support/api-fixtures.ts`).toBeDefined();
      const schema = inputs[0] as Schema | undefined;
      const crafted = path === "characters.importCard" || path === "characters.uploadImage" ? await craftedFiles() : [];
      // What the server receives (an invalid Date arrives as null, say) is what has to be bad.
      const corpus = [...corpusFor(schema, valid!(fx)), ...crafted].filter((input) => isBad(schema, received(input)) || crafted.includes(input));
      expect(corpus.length).toBeGreaterThanOrEqual(schema ? 10 : 3);

      const before = await databaseDigest();
      const failures: string[] = [];
      for (const input of corpus) {
        const answer = type === "subscription" ? await callSubscription(path, input, fx) : await callOverHttp(path, type, input, fx.token);
        const problem = answer.status < 400 || answer.status >= 500 ? `status ${answer.status}` : unreadable(answer.message);
        if (problem) failures.push(`${problem} for ${inspect(input, { depth: 3 }).slice(0, 160)}: ${answer.message.slice(0, 200)}`);
      }
      expect(failures).toEqual([]);
      expect(await databaseDigest()).toEqual(before);
    });
  }
});

describe("the HTTP boundary", () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await createFixture(isolated.db);
  });
  const post = (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
    POST(new Request(`http://localhost/api/trpc/${path}`, { method: "POST", headers: { authorization: `Bearer ${fx.token}`, "content-type": "application/json", ...headers }, body }));

  it("refuses a body over the route's limit with 413 before reading it", async () => {
    const big = JSON.stringify(superjson.serialize({ name: "x".repeat(2 * 1024 * 1024) }));
    const response = await post("voices.create", big);
    expect(response.status).toBe(413);
    expect(await response.text()).toContain("larger than 1 MB");
    // A character takes as much as a file (real cards' text runs to MBs), and no more.
    const huge = JSON.stringify(superjson.serialize({ name: "x".repeat(13 * 1024 * 1024) }));
    expect((await post("characters.create", huge)).status).toBe(413);
  });

  it("lets a card file through on the file procedures, up to their own limit", async () => {
    const card = Buffer.from(JSON.stringify(v3Card())).toString("base64");
    const response = await post("characters.importCard", JSON.stringify(superjson.serialize({ dataBase64: card + "A".repeat(3 * 1024 * 1024) })));
    expect(response.status).toBe(400);
  });

  it("refuses a batch of more calls than MAX_BATCH_SIZE", async () => {
    const paths = new Array(11).fill("health.check").join(",");
    const input = encodeURIComponent(JSON.stringify(Object.fromEntries(new Array(11).fill(0).map((_, i) => [i, {}]))));
    const response = await GET(new Request(`http://localhost/api/trpc/${paths}?batch=1&input=${input}`, { headers: { authorization: `Bearer ${fx.token}` } }));
    expect(response.status).toBe(400);
  });

  it("sends an unexpected failure as 'something went wrong' with a request id, and logs it in full under that id", async () => {
    const secret = new Error('select * from "users" where email = $1 — postgres://app:hunter2@10.0.0.5:5432/af');
    const failing = vi.spyOn(CharacterModel.prototype, "listPresets").mockRejectedValue(secret);
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const response = await GET(new Request("http://localhost/api/trpc/characters.presets"));
      expect(response.status).toBe(500);
      const body = (await response.json()) as { error: Parameters<typeof superjson.deserialize>[0] };
      const error = superjson.deserialize<{ message: string; data: { requestId: string; stack?: string } }>(body.error);
      expect(error.message).toMatch(/^Something went wrong on our side \(request [0-9a-f]{12}\)\.$/);
      expect(error.data.requestId).toMatch(/^[0-9a-f]{12}$/);
      expect(JSON.stringify(body)).not.toMatch(/select|postgres|hunter2|10\.0\.0\.5/);
      expect(error.data.stack).toBeUndefined();
      expect(logged).toHaveBeenCalledWith(expect.stringContaining(error.data.requestId), secret);
    } finally {
      failing.mockRestore();
      logged.mockRestore();
    }
  });

  it("answers broken JSON with 400", async () => {
    const response = await post("characters.create", "{ not json");
    expect(response.status).toBe(400);
  });
});
