/**
 * What the access matrix and the hostile-input corpus call every procedure with: one owner's
 * resources (a private character with a private voice, a chat with a finished exchange and an
 * alternative reply, an uploaded portrait, a personal API token), another user, and callers for
 * each kind of caller the API knows.
 */
import { TRPCError } from "@trpc/server";
import { createCaller } from "@/server/api/root";
import { createTRPCContext, type Context } from "@/server/api/trpc";
import { ApiTokenModel } from "@/server/auth/api-tokens";
import { uploadPortrait } from "@/server/characters/cards";
import type { Database } from "@/server/db";
import { avatarJobs, characters, chatSessions, messages, personas, users, voices } from "@/server/db/schema";
import { makeImage } from "@/server/images/test-images";
import { buildVrm1 } from "@/e2e/fixtures/avatars";
import { v3Card } from "@/server/cards/test-cards";

export const ROLES = ["visitor", "owner", "other", "token", "revokedToken", "malformedToken"] as const;
export type Role = (typeof ROLES)[number];

export interface Fixture {
  owner: { id: string; name: string | null; email: string | null };
  other: { id: string; name: string | null; email: string | null };
  token: string;
  revokedToken: string;
  tokenId: string;
  characterId: string;
  voiceId: string;
  sessionId: string;
  userMessageId: string;
  /** the chat's last reply: active, stopped, with an earlier alternative */
  replyId: string;
  imageId: string;
  /** the owner's persona (their default) */
  personaId: string;
  portraitBase64: string;
  cardBase64: string;
  /** a minimal VRM 1.0 (avatars.upload) */
  avatarBase64: string;
  /** the owner's queued avatar generation (avatars.get/job/cancel) */
  avatarJobId: string;
}

async function newUser(db: Database, name: string) {
  const [user] = await db
    .insert(users)
    .values({ email: `${crypto.randomUUID()}@example.com`, name })
    .returning({ id: users.id, name: users.name, email: users.email });
  return user!;
}

const portrait = makeImage("png", 24, 24).then((bytes) => bytes.toString("base64"));

/** A fresh owner with everything a procedure can name, and a fresh other user. */
export async function createFixture(db: Database): Promise<Fixture> {
  const [owner, other] = await Promise.all([newUser(db, "주인"), newUser(db, "남")]);
  const tokens = new ApiTokenModel(db, owner.id);
  const [live, revoked] = await Promise.all([tokens.create("script"), tokens.create("old script")]);
  await tokens.revoke(revoked.id);
  const [voice] = await db
    .insert(voices)
    .values({ ownerId: owner.id, name: "내 목소리", refAudioPath: "presets/mine.wav", promptText: "안녕하세요.", promptLang: "ko" })
    .returning({ id: voices.id });
  const [character] = await db
    .insert(characters)
    .values({ ownerId: owner.id, name: "비밀 캐릭터", persona: "조용한 사서", voiceId: voice!.id, visibility: "private" })
    .returning({ id: characters.id });
  const [session] = await db
    .insert(chatSessions)
    .values({
      userId: owner.id,
      characterId: character!.id,
      scenario: { opponent: "", situation: "", background: "" },
      model: "qwen2.5:7b",
      settings: { temperature: 0.8, maxTokens: 64, ttsMode: "off", ttsDelayMs: 0, sovitsStreamingMode: 0, think: false },
    })
    .returning({ id: chatSessions.id });
  const sessionId = session!.id;
  const group = crypto.randomUUID();
  const [userMessage] = await db.insert(messages).values({ sessionId, role: "user", content: "안녕하세요" }).returning({ id: messages.id });
  await db.insert(messages).values({ id: group, sessionId, role: "assistant", content: "첫 답", swipeGroup: group, active: false, model: "qwen2.5:7b" });
  const [reply] = await db
    .insert(messages)
    .values({ sessionId, role: "assistant", content: "둘째 답", swipeGroup: group, status: "stopped", model: "qwen2.5:7b" })
    .returning({ id: messages.id });
  const portraitBase64 = await portrait;
  const image = await uploadPortrait(db, owner.id, Buffer.from(portraitBase64, "base64"));
  const [persona] = await db.insert(personas).values({ userId: owner.id, name: "여행자", description: "{{char}}의 오랜 친구", isDefault: true }).returning({ id: personas.id });
  const [avatarJob] = await db
    .insert(avatarJobs)
    .values({ userId: owner.id, characterId: character!.id, imageId: image.imageId, protocol: "hunyuan3d", currentStep: "queued" })
    .returning({ id: avatarJobs.id });
  return {
    owner,
    other,
    token: live.token,
    revokedToken: revoked.token,
    tokenId: live.id,
    characterId: character!.id,
    voiceId: voice!.id,
    sessionId,
    userMessageId: userMessage!.id,
    replyId: reply!.id,
    imageId: image.imageId,
    personaId: persona!.id,
    portraitBase64,
    cardBase64: Buffer.from(JSON.stringify(v3Card()), "utf8").toString("base64"),
    avatarBase64: Buffer.from(await buildVrm1()).toString("base64"),
    avatarJobId: avatarJob!.id,
  };
}

/** A valid input of every procedure, naming the owner's resources. */
export const VALID_INPUTS: Record<string, (fx: Fixture) => unknown> = {
  "characters.presets": () => undefined,
  "characters.gallery": () => ({ scope: "all", q: "캐릭터" }),
  "characters.facets": () => undefined,
  "characters.get": (fx) => ({ id: fx.characterId }),
  "characters.create": () => ({ name: "새 캐릭터" }),
  "characters.update": (fx) => ({ id: fx.characterId, data: { name: "바뀐 이름" } }),
  "characters.duplicate": (fx) => ({ id: fx.characterId }),
  "characters.delete": (fx) => ({ id: fx.characterId }),
  "characters.uploadImage": (fx) => ({ dataBase64: fx.portraitBase64 }),
  "characters.importCard": (fx) => ({ dataBase64: fx.cardBase64 }),
  "characters.exportCard": (fx) => ({ id: fx.characterId, format: "json" }),
  "characters.assets": (fx) => ({ id: fx.characterId }),
  // Bring your own avatar (issue 12)
  "avatars.upload": (fx) => ({ characterId: fx.characterId, dataBase64: fx.avatarBase64 }),
  "avatars.remove": (fx) => ({ characterId: fx.characterId }),
  "avatars.generate": (fx) => ({ characterId: fx.characterId, imageBase64: fx.portraitBase64 }),
  "avatars.get": (fx) => ({ jobId: fx.avatarJobId }),
  "avatars.job": (fx) => ({ jobId: fx.avatarJobId }),
  "avatars.cancel": (fx) => ({ jobId: fx.avatarJobId }),
  "avatars.jobs": (fx) => ({ characterId: fx.characterId }),
  "voices.list": () => undefined,
  "voices.get": (fx) => ({ id: fx.voiceId }),
  "voices.create": () => ({ name: "새 목소리", refAudioPath: "presets/new.wav", promptLang: "ko" }),
  "voices.update": (fx) => ({ id: fx.voiceId, data: { name: "바뀐 목소리" } }),
  "voices.delete": (fx) => ({ id: fx.voiceId }),
  "voices.synthesize": (fx) => ({ text: "안녕하세요.", voiceId: fx.voiceId }),
  "voices.preview": (fx) => ({ voiceId: fx.voiceId }),
  "sessions.create": (fx) => ({ characterId: fx.characterId }),
  "sessions.get": (fx) => ({ id: fx.sessionId }),
  "sessions.list": () => undefined,
  "sessions.rename": (fx) => ({ id: fx.sessionId, title: "새 제목" }),
  "sessions.update": (fx) => ({ id: fx.sessionId, settings: { temperature: 1 } }),
  "sessions.delete": (fx) => ({ id: fx.sessionId }),
  "sessions.clear": (fx) => ({ id: fx.sessionId }),
  "sessions.messages": (fx) => ({ sessionId: fx.sessionId }),
  "sessions.stats": (fx) => ({ id: fx.sessionId }),
  "sessions.search": () => ({ q: "안녕" }),
  "sessions.importChat": (fx) => ({
    characterId: fx.characterId,
    jsonl: [
      '{"user_name":"나","character_name":"비밀 캐릭터","create_date":"2024-05-10@14h30m12s","chat_metadata":{}}',
      '{"name":"비밀 캐릭터","is_user":false,"send_date":"2024-05-10T14:30:13.000Z","mes":"어서 와","swipes":["어서 와","반가워"],"swipe_id":0,"extra":{}}',
      '{"name":"나","is_user":true,"send_date":"2024-05-10T14:31:00.000Z","mes":"안녕","extra":{}}',
    ].join("\n"),
  }),
  "chat.send": (fx) => ({ sessionId: fx.sessionId, clientId: crypto.randomUUID(), text: "다음 이야기" }),
  "chat.complete": (fx) => ({ sessionId: fx.sessionId, clientId: crypto.randomUUID(), text: "짧게 답해 줘" }),
  "chat.reply": (fx) => ({ messageId: fx.replyId }),
  "chat.stop": (fx) => ({ messageId: fx.replyId }),
  "chat.seen": (fx) => ({ messageId: fx.replyId, firstTokenMs: 420 }),
  "chat.retry": (fx) => ({ messageId: fx.replyId }),
  "chat.regenerate": (fx) => ({ messageId: fx.replyId }),
  "chat.continue": (fx) => ({ messageId: fx.replyId }),
  "chat.swipe": (fx) => ({ messageId: fx.replyId, direction: "previous" }),
  "chat.edit": (fx) => ({ messageId: fx.userMessageId, text: "고친 말" }),
  "chat.deleteMessage": (fx) => ({ messageId: fx.replyId }),
  "chat.editMessage": (fx) => ({ messageId: fx.userMessageId, text: "고친 말" }),
  "chat.branch": (fx) => ({ messageId: fx.userMessageId }),
  "chat.speak": (fx) => ({ messageId: fx.replyId }),
  "chat.models": () => undefined,
  "chat.prompt": (fx) => ({ sessionId: fx.sessionId }),
  "health.check": () => undefined,
  "apiTokens.list": () => undefined,
  "apiTokens.create": () => ({ name: "새 스크립트" }),
  "apiTokens.revoke": (fx) => ({ id: fx.tokenId }),
  "account.signOutEverywhere": () => undefined,
  "account.defaults": () => undefined,
  "account.setDefaults": () => ({ temperature: 1.1, maxTokens: 512, ttsMode: "off", locale: "en" }),
  "account.delete": (fx) => ({ confirm: fx.owner.email }),
  "personas.list": () => undefined,
  "personas.create": () => ({ name: "음유시인", description: "노래하는 {{user}}" }),
  "personas.update": (fx) => ({ id: fx.personaId, data: { name: "바뀐 페르소나" } }),
  "personas.delete": (fx) => ({ id: fx.personaId }),
  "personas.setDefault": (fx) => ({ id: fx.personaId }),
};

type Caller = ReturnType<typeof createCaller>;

function browserContext(db: Database, user: Fixture["owner"] | null): Context {
  return {
    db,
    headers: new Headers(),
    via: user ? "browser" : null,
    session: user ? { user: { id: user.id, name: user.name, email: user.email }, expires: new Date(Date.now() + 3_600_000).toISOString() } : null,
  };
}

/**
 * The API as `role` sees it. Token callers go through the real context (the Authorization header
 * is read and checked as on HTTP); a token the server refuses fails before any procedure runs.
 */
export async function callerAs(db: Database, role: Role, fx: Fixture): Promise<Caller> {
  const bearer = (token: string) => createTRPCContext({ headers: new Headers({ authorization: `Bearer ${token}` }) });
  switch (role) {
    case "visitor":
      return createCaller(browserContext(db, null));
    case "owner":
      return createCaller(browserContext(db, fx.owner));
    case "other":
      return createCaller(browserContext(db, fx.other));
    case "token":
      return createCaller(await bearer(fx.token));
    case "revokedToken":
      return createCaller(await bearer(fx.revokedToken));
    case "malformedToken":
      return createCaller(await bearer("af_not-a-real-token"));
  }
}

/** "ok", or the tRPC code the call failed with. A subscription is read up to its first event. */
export async function outcomeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    const result = await run();
    if (result && typeof result === "object" && Symbol.asyncIterator in result) {
      const iterator = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      await iterator.next();
      await iterator.return?.();
    }
    return "ok";
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    throw error;
  }
}

/** The procedure at `path` ("chat.send") on a caller. */
export function procedureOf(caller: Caller, path: string): (input: unknown) => Promise<unknown> {
  let target: unknown = caller;
  for (const part of path.split(".")) target = (target as Record<string, unknown>)[part];
  return target as (input: unknown) => Promise<unknown>;
}

/** Every procedure of the router, by its dotted path, with its kind. */
export function allProcedures(router: { _def: { procedures: Record<string, unknown> } }): { path: string; type: string; inputs: unknown[] }[] {
  return Object.entries(router._def.procedures).map(([path, procedure]) => {
    const def = (procedure as { _def: { type: string; inputs: unknown[] } })._def;
    return { path, type: def.type, inputs: def.inputs };
  });
}
