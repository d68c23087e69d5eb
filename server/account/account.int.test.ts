import { TRPCError } from "@trpc/server";
import { count, eq, getTableName, is } from "drizzle-orm";
import { PgTable } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { freePort } from "@/e2e/support/ports";
import { signedInCookie } from "@/e2e/support/session-cookie";
import { callersOn } from "@/e2e/support/test-caller";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import { ApiTokenModel } from "@/server/auth/api-tokens";
import { uploadPortrait } from "@/server/characters/cards";
import { toSillyTavernJsonl } from "@/server/chats/portability";
import { portableChat } from "@/server/chats/transfer";
import * as schema from "@/server/db/schema";
import { makeImage } from "@/server/images/test-images";

const { accounts, audioClips, authSessions, characters, chatSessions, images, messages, personas, rateLimits, replyQuotas, users, verificationTokens, voices } = schema;

// Read by the app's env() on first use, which comes after these lines.
const SECRET = "account-test-secret-account-test-secret";
process.env.AUTH_SECRET = SECRET;
process.env.ACCOUNT_EXPORTS_PER_HOUR = "3";

const { db, sql } = testDatabase();
beforeAll(async () => {
  process.env.OLLAMA_HOST = `http://127.0.0.1:${await freePort()}`;
});
afterAll(() => sql.end());

const callerFor = callersOn(db);

async function codeOf(run: Promise<unknown>) {
  try {
    await run;
    return "ok";
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    throw error;
  }
}

/** Every row of every table in schema.ts that mentions `needle` anywhere (its id, its email). */
async function rowsMentioning(needles: string[]) {
  const found: string[] = [];
  for (const table of Object.values(schema)) {
    if (!is(table, PgTable)) continue;
    const rows = (await db.select().from(table)) as Record<string, unknown>[];
    for (const row of rows) {
      const text = JSON.stringify(row, (_key, value: unknown) => (Buffer.isBuffer(value) || (value && typeof value === "object" && (value as { type?: string }).type === "Buffer") ? "<bytes>" : value));
      if (needles.some((needle) => text.includes(needle))) found.push(`${getTableName(table)}: ${text.slice(0, 200)}`);
    }
  }
  return found;
}

const clip = (key: string) => ({ key, contentType: "audio/wav", bytes: Buffer.from("RIFF....WAVE"), sizeBytes: 12 });

describe("deleting an account", () => {
  it("removes every row of the user in every table, and keeps other users' data intact", async () => {
    const alice = await createUser(db, "앨리스");
    const bob = await createUser(db, "밥");
    const asAlice = callerFor(alice);
    const asBob = callerFor(bob);

    // Alice has one of everything.
    const portrait = await makeImage("png", 24, 24);
    const image = await uploadPortrait(db, alice.id, portrait);
    const persona = await asAlice.personas.create({ name: "여행자", description: "떠돌이", imageId: image.imageId });
    const [voice] = await db.insert(voices).values({ ownerId: alice.id, name: "앨리스 목소리", refAudioPath: "presets/a.wav", promptLang: "ko" }).returning();
    const shared = await asAlice.characters.create({ name: "공개 캐릭터", persona: "친절한 안내자", greeting: "안녕, {{user}}!", visibility: "public", imageId: image.imageId, voiceId: voice!.id });
    const secret = await asAlice.characters.create({ name: "비밀 캐릭터", persona: "조용한 사서" });
    const aliceChat = await asAlice.sessions.create({ characterId: secret.id });
    const onlyAlice = `only-${crypto.randomUUID()}`;
    const sharedKey = `shared-${crypto.randomUUID()}`;
    await db.insert(audioClips).values([clip(onlyAlice), clip(sharedKey)]);
    await db.insert(messages).values({
      sessionId: aliceChat.id,
      role: "assistant",
      content: "들려줄게.",
      audio: [
        { index: 0, text: "들려줄게.", url: `/api/audio/${onlyAlice}` },
        { index: 1, text: "같이", url: `/api/audio/${sharedKey}` },
      ],
    });
    await new ApiTokenModel(db, alice.id).create("script");
    await db.insert(accounts).values({ userId: alice.id, type: "oauth", provider: "google", providerAccountId: crypto.randomUUID() });
    await db.insert(authSessions).values({ sessionToken: crypto.randomUUID(), userId: alice.id, expires: new Date(Date.now() + 3_600_000) });
    await db.insert(replyQuotas).values({ userId: alice.id, tokens: 3 });
    await db.insert(rateLimits).values({ key: `upload:user:${alice.id}`, windowStart: new Date(), count: 1 });
    await db.insert(verificationTokens).values({ identifier: alice.email!, token: crypto.randomUUID(), expires: new Date(Date.now() + 60_000) });
    await asAlice.account.setDefaults({ temperature: 1.2, locale: "en" });

    // Bob chats with Alice's public character, copied it (its portrait is shared), and speaks one clip too.
    const bobChat = await asBob.sessions.create({ characterId: shared.id });
    const bobCopy = await asBob.characters.duplicate({ id: shared.id, copySuffix: "(사본)" });
    await db.insert(messages).values({ sessionId: bobChat.id, role: "assistant", content: "같이", audio: [{ index: 0, text: "같이", url: `/api/audio/${sharedKey}` }] });
    const bobBefore = await asBob.sessions.messages({ sessionId: bobChat.id });

    // Wrong confirmation, another user, or an API token: nothing happens.
    expect(await codeOf(asAlice.account.delete({ confirm: "someone@example.com" }))).toBe("BAD_REQUEST");
    expect(await codeOf(asBob.account.delete({ confirm: alice.email! }))).toBe("BAD_REQUEST");
    expect(await codeOf(callerFor(alice, "token").account.delete({ confirm: alice.email! }))).toBe("FORBIDDEN");
    expect((await rowsMentioning([alice.id])).length).toBeGreaterThan(5);

    await asAlice.account.delete({ confirm: alice.email!.toUpperCase() });

    expect(await rowsMentioning([alice.id, alice.email!])).toEqual([]);
    expect(await db.select().from(personas).where(eq(personas.id, persona.id))).toEqual([]);
    // The clip only Alice's replies used is gone; the one Bob's reply also uses stays.
    expect((await db.select({ key: audioClips.key }).from(audioClips).where(eq(audioClips.key, onlyAlice))).length).toBe(0);
    expect((await db.select({ key: audioClips.key }).from(audioClips).where(eq(audioClips.key, sharedKey))).length).toBe(1);

    // Bob's chat goes on with the character as it was when it started; his copy keeps its portrait.
    const bobChatNow = await asBob.sessions.get({ id: bobChat.id });
    expect(bobChatNow.character).toMatchObject({ name: "공개 캐릭터", persona: "친절한 안내자", source: "snapshot" });
    expect(await asBob.sessions.messages({ sessionId: bobChat.id })).toEqual(bobBefore);
    const copy = await asBob.characters.get({ id: bobCopy.id });
    expect(copy.imageUrl).toBe(image.imageUrl);
    expect((await db.select({ n: count() }).from(images).where(eq(images.id, image.imageId)))[0]?.n).toBe(1);
    // Alice's public character is no longer anyone's to see.
    expect(await codeOf(asBob.characters.get({ id: shared.id }))).toBe("NOT_FOUND");
    expect((await db.select({ n: count() }).from(users).where(eq(users.id, bob.id)))[0]?.n).toBe(1);
    expect((await db.select({ n: count() }).from(chatSessions).where(eq(chatSessions.userId, bob.id)))[0]?.n).toBe(1);
    expect((await db.select({ n: count() }).from(characters).where(eq(characters.ownerId, bob.id)))[0]?.n).toBe(1);
  });
});

describe("deleting an account with 3D avatars", () => {
  it("keeps the avatars other users' copies of its public characters show, and drops the rest", async () => {
    const { buildVrm1, buildPlainGlb } = await import("@/e2e/fixtures/avatars");
    const { avatarModelFor } = await import("@/server/avatars/models");
    const alice = await createUser(db, "조각가");
    const bob = await createUser(db, "복사한 사람");
    const asAlice = callerFor(alice);
    const asBob = callerFor(bob);
    const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

    const shared = await asAlice.characters.create({ name: "공개 아바타", persona: "춤꾼", visibility: "public" });
    const sharedModel = await asAlice.avatars.upload({ characterId: shared.id, dataBase64: b64(await buildVrm1()) });
    const secret = await asAlice.characters.create({ name: "비밀 아바타", persona: "은둔자" });
    const secretModel = await asAlice.avatars.upload({ characterId: secret.id, dataBase64: b64(await buildPlainGlb()) });
    // Bob copied the public character (its avatar comes with the copy) and chats with the original too.
    const copy = await asBob.characters.duplicate({ id: shared.id, copySuffix: "(사본)" });
    await asBob.sessions.create({ characterId: shared.id });
    expect((await asBob.characters.get({ id: copy.id })).avatar?.url).toBe(sharedModel.url);

    await asAlice.account.delete({ confirm: alice.email! });

    expect(await rowsMentioning([alice.id, alice.email!])).toEqual([]);
    // Bob's copy still shows the avatar, and its bytes are still served to him.
    expect((await asBob.characters.get({ id: copy.id })).avatar?.url).toBe(sharedModel.url);
    expect(await avatarModelFor(db, bob.id, sharedModel.id)).not.toBeNull();
    // The model only Alice's private character used is gone, as is every character of hers.
    expect(await db.select({ id: schema.avatarModels.id }).from(schema.avatarModels).where(eq(schema.avatarModels.id, secretModel.id))).toEqual([]);
    // Once Bob's copy no longer uses it, nothing keeps the kept model.
    await asBob.avatars.remove({ characterId: copy.id });
    expect(await db.select({ id: schema.avatarModels.id }).from(schema.avatarModels).where(eq(schema.avatarModels.id, sharedModel.id))).toEqual([]);
  });
});

describe("export all my data", () => {
  it("has the profile, characters, chats with messages, voices, personas and token names — never a token's hash", async () => {
    const { exportAccount } = await import("./data");
    const user = await createUser(db, "수집가");
    const me = callerFor(user);
    await me.personas.create({ name: "탐험가" });
    const character = await me.characters.create({ name: "내 캐릭터", greeting: "반가워" });
    const chat = await me.sessions.create({ characterId: character.id });
    const created = await new ApiTokenModel(db, user.id).create("백업");
    const data = await exportAccount(db, user.id);
    expect(data.profile).toMatchObject({ id: user.id, email: user.email, name: "수집가" });
    expect(data.characters.map((c) => c.name)).toEqual(["내 캐릭터"]);
    expect(data.personas.map((p) => p.name)).toEqual(["탐험가"]);
    expect(data.chats).toHaveLength(1);
    expect(data.chats[0]).toMatchObject({ id: chat.id, messages: [{ role: "assistant", content: "반가워" }] });
    expect(data.apiTokens.map((t) => t.name)).toEqual(["백업"]);
    const text = JSON.stringify(data);
    expect(text).not.toContain(created.token);
    expect(text).not.toMatch(/tokenHash|token_hash/);
  });
});

describe("personas and defaults", () => {
  it("start new chats with the default persona and the user's defaults; an explicit choice wins", async () => {
    const user = await createUser(db, "계정 이름");
    const me = callerFor(user);
    expect((await me.sessions.get({ id: (await me.sessions.create({ characterId: "preset-aria" })).id })).userName).toBe("계정 이름");
    const bard = await me.personas.create({ name: "음유시인" });
    expect(bard.isDefault).toBe(true);
    await me.account.setDefaults({ model: "llama3:8b", temperature: 1.3, maxTokens: 256, ttsMode: "off" });
    const chat = await me.sessions.create({ characterId: "preset-aria", settings: { maxTokens: 128 } });
    expect(chat).toMatchObject({ personaId: bard.id, model: "llama3:8b", settings: { temperature: 1.3, maxTokens: 128, ttsMode: "off" } });
    expect((await me.sessions.get({ id: chat.id })).userName).toBe("음유시인");
    const knight = await me.personas.create({ name: "기사" });
    expect(knight.isDefault).toBe(false);
    await me.sessions.update({ id: chat.id, personaId: knight.id });
    expect((await me.sessions.get({ id: chat.id })).userName).toBe("기사");
    await me.sessions.update({ id: chat.id, personaId: null });
    expect((await me.sessions.get({ id: chat.id })).userName).toBe("계정 이름");
    await me.personas.setDefault({ id: knight.id });
    expect((await me.personas.list()).map((p) => [p.name, p.isDefault])).toEqual([["기사", true], ["음유시인", false]]);
  });

  it("never lets a chat use another user's persona, nor another user see or change one", async () => {
    const [owner, other] = [await createUser(db), await createUser(db)];
    const persona = await callerFor(owner).personas.create({ name: "내 것" });
    const chat = await callerFor(other).sessions.create({ characterId: "preset-aria" });
    expect(await codeOf(callerFor(other).sessions.update({ id: chat.id, personaId: persona.id }))).toBe("NOT_FOUND");
    expect(await codeOf(callerFor(other).personas.update({ id: persona.id, data: { name: "훔침" } }))).toBe("NOT_FOUND");
    expect(await codeOf(callerFor(other).personas.delete({ id: persona.id }))).toBe("NOT_FOUND");
    expect(await callerFor(other).personas.list()).toEqual([]);
  });

  it("stops at PERSONA_LIMITS.perUser", async () => {
    const user = await createUser(db);
    const rows = Array.from({ length: 50 }, (_, i) => ({ userId: user.id, name: `p${i}` }));
    await db.insert(personas).values(rows);
    expect(await codeOf(callerFor(user).personas.create({ name: "하나 더" }))).toBe("BAD_REQUEST");
  });
});

describe("importing a SillyTavern chat", () => {
  const file = [
    `{"user_name":"민수","character_name":"Seraphina","create_date":"2024-05-10@14h30m12s","chat_metadata":{"note_prompt":""}}`,
    `{"name":"Seraphina","is_user":false,"is_system":false,"send_date":"May 10, 2024 2:30pm","mes":"둘째","extra":{},"swipe_id":1,"swipes":["첫째","둘째","셋째"]}`,
    `{"name":"민수","is_user":true,"is_system":false,"send_date":"May 10, 2024 2:32pm","mes":"고마워!","extra":{}}`,
    `{"name":"System","is_user":false,"is_system":true,"send_date":"May 10, 2024 2:33pm","mes":"(장면 전환)","extra":{}}`,
    `{"name":"Seraphina","is_user":false,"send_date":1715351640000,"mes":"천천히 쉬어.","extra":{}}`,
  ].join("\n");

  it("creates a chat with the messages in order and the alternatives as swipes, and exports it back the same", async () => {
    const user = await createUser(db);
    const me = callerFor(user);
    const { id } = await me.sessions.importChat({ characterId: "preset-aria", jsonl: file });
    const page = await me.sessions.messages({ sessionId: id });
    expect(page.messages.map((m) => [m.role, m.content, m.swipeIndex, m.swipeCount])).toEqual([
      ["assistant", "둘째", 1, 3],
      ["user", "고마워!", 0, 1],
      ["system", "(장면 전환)", 0, 1],
      ["assistant", "천천히 쉬어.", 0, 1],
    ]);
    const back = await portableChat(db, user.id, id);
    const lines = toSillyTavernJsonl(back).trim().split("\n").slice(1).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.is_user, l.is_system, l.mes, l.swipes ?? null, l.swipe_id ?? null])).toEqual([
      [false, false, "둘째", ["첫째", "둘째", "셋째"], 1],
      [true, false, "고마워!", null, null],
      [false, true, "(장면 전환)", null, null],
      [false, false, "천천히 쉬어.", null, null],
    ]);
  });

  it("imports a file with odd dates (invalid, before year 1, past 9999, in the future) instead of failing, in order", async () => {
    const user = await createUser(db);
    const me = callerFor(user);
    const odd = [
      `{"user_name":"민수","character_name":"Seraphina","create_date":"-000300-01-01T00:00:00Z","chat_metadata":{}}`,
      `{"name":"Seraphina","is_user":false,"send_date":"May 10, 2024 2:30pm","mes":"하나","extra":{}}`,
      `{"name":"민수","is_user":true,"send_date":"+275760-09-13T00:00:00.000Z","mes":"둘","extra":{}}`,
      `{"name":"Seraphina","is_user":false,"send_date":-100000000000000,"mes":"셋","extra":{}}`,
      `{"name":"민수","is_user":true,"send_date":"May 10, 20000 2:30pm","mes":"넷","extra":{}}`,
      `{"name":"Seraphina","is_user":false,"send_date":"0000-01-01T00:00:00Z","mes":"다섯","extra":{}}`,
      `{"name":"민수","is_user":true,"send_date":"not a date","mes":"여섯","extra":{}}`,
      `{"name":"Seraphina","is_user":false,"send_date":1715351640000,"mes":"일곱","extra":{}}`,
    ].join("\n");
    const { id, messages: imported } = await me.sessions.importChat({ characterId: "preset-aria", jsonl: odd });
    expect(imported).toBe(7);
    const rows = await db.select({ content: messages.content, createdAt: messages.createdAt }).from(messages).where(eq(messages.sessionId, id)).orderBy(messages.seq);
    expect(rows.map((r) => r.content)).toEqual(["하나", "둘", "셋", "넷", "다섯", "여섯", "일곱"]);
    // A message whose date can't be used takes the one before it, so the times still read in order.
    const first = new Date("2024-05-10T14:30:00Z").getTime();
    expect(rows.slice(0, 6).map((r) => r.createdAt.getTime())).toEqual(new Array(6).fill(first));
    expect(rows[6]!.createdAt.getTime()).toBe(1715351640000);
  });

  it("refuses hostile files with a clear error and writes nothing", async () => {
    const user = await createUser(db);
    const me = callerFor(user);
    const chats = async () => (await db.select({ n: count() }).from(chatSessions).where(eq(chatSessions.userId, user.id)))[0]?.n;
    const bad = [
      "",
      "not json at all",
      `${file}\n{"is_user":"true","mes":"x"}`,
      `${file}\n{"is_user":true,"mes":"a\\u0000b"}`,
      `${file}\n{"is_user":true,"mes":${JSON.stringify("x".repeat(40_000))}}`,
      `{"user_name":"u"}\n` + new Array(5_001).fill(`{"is_user":true,"mes":"x"}`).join("\n"),
      `{"user_name":"u"}\n{"is_user":false,"mes":"x","swipes":${JSON.stringify(new Array(51).fill("s"))}}`,
    ];
    for (const jsonl of bad) expect(await codeOf(me.sessions.importChat({ characterId: "preset-aria", jsonl }))).toBe("BAD_REQUEST");
    expect(await chats()).toBe(0);
    const other = await createUser(db);
    const hidden = await callerFor(other).characters.create({ name: "남의 비밀" });
    expect(await codeOf(me.sessions.importChat({ characterId: hidden.id, jsonl: file }))).toBe("NOT_FOUND");
    expect(await chats()).toBe(0);
  });
});

describe("the download routes", () => {
  it("give a chat only to its owner, as SillyTavern JSONL with a dated name; the account export only in the app", async () => {
    const { inject } = await import("vitest");
    process.env.DATABASE_URL = inject("databaseUrl");
    const { GET: exportChat } = await import("@/app/api/sessions/[id]/export/route");
    const { GET: exportAll } = await import("@/app/api/account/export/route");
    const [owner, other] = [await createUser(db, "주인"), await createUser(db, "남")];
    const chat = await callerFor(owner).sessions.create({ characterId: "preset-aria" });
    const [ownerToken, otherToken] = [(await new ApiTokenModel(db, owner.id).create("t")).token, (await new ApiTokenModel(db, other.id).create("t")).token];
    const get = (token: string | null, format = "jsonl") =>
      exportChat(new Request(`http://localhost/api/sessions/${chat.id}/export?format=${format}`, { headers: token ? { authorization: `Bearer ${token}` } : {} }), {
        params: Promise.resolve({ id: chat.id }),
      });

    const ok = await get(ownerToken);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-disposition")).toMatch(/^attachment; filename=".*\d{4}-\d{2}-\d{2}_\d{4}\.jsonl"; filename\*=UTF-8''%EC%95%84%EB%A6%AC%EC%95%84/);
    const [header, greeting] = (await ok.text()).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(header).toMatchObject({ user_name: "주인", character_name: "아리아" });
    expect(greeting).toMatchObject({ is_user: false, name: "아리아" });
    expect((await get(otherToken)).status).toBe(404);
    expect((await get(null)).status).toBe(401);
    expect((await get(ownerToken, "html")).status).toBe(400);
    // A script's token can't take the whole account.
    expect((await exportAll(new Request("http://localhost/api/account/export", { headers: { authorization: `Bearer ${ownerToken}` } }))).status).toBe(403);
  });
});

describe("export my data, limited", () => {
  it("runs one at a time per account (a second while one is prepared is refused as busy) and ACCOUNT_EXPORTS_PER_HOUR times an hour", async () => {
    const { inject } = await import("vitest");
    process.env.DATABASE_URL = inject("databaseUrl");
    const { GET: exportAll } = await import("@/app/api/account/export/route");
    const { accountExportLock } = await import("./data");
    const [user, other] = [await createUser(db, "내보내기"), await createUser(db, "다른 사람")];
    const [mine, theirs] = [await signedInCookie(db, user, { secret: SECRET }), await signedInCookie(db, other, { secret: SECRET })];
    const download = (cookie: string) => exportAll(new Request("http://localhost/api/account/export", { headers: { cookie } }));
    // Limits count in fixed windows: a clock that stands still keeps the test inside one window.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date());
    try {
      // While an export of the account is being prepared (its lock held), another is refused at once.
      await sql.begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(hashtext(${accountExportLock(user.id)}))`;
        const refused = await download(mine.cookie);
        expect(refused.status).toBe(429);
        expect(await refused.json()).toMatchObject({ code: "busy" });
        // Another account's export is not held up.
        expect((await download(theirs.cookie)).status).toBe(200);
      });
      const ok = await download(mine.cookie);
      expect(ok.status).toBe(200);
      expect(JSON.parse(await ok.text())).toMatchObject({ format: "avatar-forge-account", profile: { id: user.id } });
      expect((await download(mine.cookie)).status).toBe(200);
      // The fourth in the hour (the refused one counts too) is over ACCOUNT_EXPORTS_PER_HOUR = 3.
      const limited = await download(mine.cookie);
      expect(limited.status).toBe(429);
      expect(await limited.json()).toMatchObject({ code: "limit_reached" });
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
