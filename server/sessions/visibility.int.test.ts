import sharp from "sharp";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { GET as getImage } from "@/app/api/images/[id]/route";
import { startFakeOllama, type FakeOllama } from "@/e2e/fakes/ollama";
import { startFakeSovits, type FakeSovits } from "@/e2e/fakes/sovits";
import { callersOn, type TestUser } from "@/e2e/support/test-caller";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import type { CharacterInput } from "@/lib/schemas";
import { ApiTokenModel } from "@/server/auth/api-tokens";
import { ChatService } from "@/server/chat/service";
import { getSql, setDatabaseUrl } from "@/server/db";

const { db, sql } = testDatabase();
const callerFor = callersOn(db);
let ollama: FakeOllama;
let sovits: FakeSovits;
let owner: TestUser;
let reader: TestUser;

beforeAll(async () => {
  ollama = await startFakeOllama({ port: 0, tokenDelayMs: 1 });
  sovits = await startFakeSovits({ port: 0, latencyMs: 1 });
  Object.assign(process.env, { OLLAMA_HOST: ollama.url, SOVITS_URL: sovits.url });
  // The image route reads the app's own pool, as it does in the server.
  setDatabaseUrl(inject("databaseUrl"));
  owner = await createUser(db, "주인");
  reader = await createUser(db, "독자");
});
afterAll(async () => {
  await Promise.all([ollama.close(), sovits.close()]);
  await Promise.all([sql.end(), getSql().end()]);
});
beforeEach(() => {
  ollama.reset();
  sovits.reset();
});

const character = (overrides: Partial<CharacterInput> & { imageId?: string } = {}) => ({
  name: "등대지기 하람",
  persona: "PERSONA-AT-START: {{char}}는 외딴 섬의 등대지기다.",
  greeting: "*등불을 닦으며* 배가 끊긴 지 오래예요.",
  visibility: "public" as const,
  ...overrides,
});

/** One message and its whole reply; returns the system prompt Ollama received for that reply. */
async function say(user: TestUser, sessionId: string, text: string) {
  const chat = new ChatService(db, user);
  const { reply } = await chat.send({ sessionId, clientId: crypto.randomUUID(), text });
  for await (const { event } of chat.follow(reply.id, 0)) if (event.type === "error") throw new Error(event.message);
  return { reply, system: systemPromptFor(text) };
}

/** The system prompt of the reply request whose last turn is `text` (not the title request). */
function systemPromptFor(text: string) {
  const requests = ollama.requests as { messages: { role: string; content: string }[] }[];
  const request = requests.findLast((r) => r.messages.at(-1)?.content === text);
  if (!request) throw new Error(`Ollama was not asked to answer "${text}"`);
  return request.messages[0]!.content;
}

describe("a chat follows its character only while its user may see it", () => {
  it("uses the owner's edits while the character is public, and the chat's snapshot once it is private", async () => {
    const { id } = await callerFor(owner).characters.create(character());
    const session = await callerFor(reader).sessions.create({ characterId: id });

    await callerFor(owner).characters.update({ id, data: { persona: "PERSONA-WHILE-PUBLIC: {{char}}는 등대를 지킨다." } });
    const whilePublic = await callerFor(reader).sessions.get({ id: session.id });
    expect(whilePublic.character).toMatchObject({ source: "live", persona: "PERSONA-WHILE-PUBLIC: {{char}}는 등대를 지킨다." });
    expect((await say(reader, session.id, "불빛이 보여요")).system).toContain("PERSONA-WHILE-PUBLIC");

    await callerFor(owner).characters.update({
      id,
      data: { visibility: "private", name: "비밀 이름", persona: "PERSONA-AFTER-PRIVATE", systemPrompt: "SECRET-SYSTEM-PROMPT" },
    });
    const afterPrivate = await callerFor(reader).sessions.get({ id: session.id });
    expect(afterPrivate.character).toMatchObject({ source: "snapshot", name: "등대지기 하람", imageUrl: null });
    expect(afterPrivate.character.persona).toContain("PERSONA-AT-START");
    expect(JSON.stringify(afterPrivate)).not.toMatch(/AFTER-PRIVATE|SECRET-SYSTEM-PROMPT|비밀 이름|WHILE-PUBLIC/);

    const { reply, system } = await say(reader, session.id, "문을 열어 주세요");
    expect(system).toContain("PERSONA-AT-START");
    expect(system).not.toMatch(/AFTER-PRIVATE|SECRET-SYSTEM-PROMPT|비밀 이름|WHILE-PUBLIC/);

    // A regenerated reply reads the chat again by itself (not through the send path).
    ollama.reset();
    const again = await callerFor(reader).chat.regenerate({ messageId: reply.id });
    for await (const { event } of new ChatService(db, reader).follow(again.id, 0)) if (event.type === "error") throw new Error(event.message);
    expect(systemPromptFor("문을 열어 주세요")).toContain("PERSONA-AT-START");
    expect(systemPromptFor("문을 열어 주세요")).not.toContain("SECRET-SYSTEM-PROMPT");

    // Made public again, the chat follows the character as it is now.
    await callerFor(owner).characters.update({ id, data: { visibility: "public" } });
    expect((await callerFor(reader).sessions.get({ id: session.id })).character).toMatchObject({ source: "live", name: "비밀 이름" });
  });

  it("shows the sidebar and search the snapshot's name and no portrait of a character made private", async () => {
    const me = callerFor(owner);
    const { imageId, imageUrl } = await me.characters.uploadImage({ dataBase64: (await portrait()).toString("base64") });
    const { id } = await me.characters.create(character({ name: "초상화 주인", imageId }));
    const session = await callerFor(reader).sessions.create({ characterId: id });
    await say(reader, session.id, "사이드바에서 찾을 말");
    const entry = async () => (await callerFor(reader).sessions.list({ limit: 100 })).items.find((c) => c.id === session.id);
    const hit = async () => (await callerFor(reader).sessions.search({ q: "사이드바에서 찾을", limit: 5 }))[0];
    expect(await entry()).toMatchObject({ characterName: "초상화 주인", characterImage: imageUrl });
    expect(await hit()).toMatchObject({ characterName: "초상화 주인", characterImage: imageUrl });

    await me.characters.update({ id, data: { visibility: "private", name: "바뀐 이름" } });
    expect(await entry()).toMatchObject({ characterName: "초상화 주인", characterImage: null });
    expect(await hit()).toMatchObject({ characterName: "초상화 주인", characterImage: null });
  });

  it("keeps the snapshot, not the last public edits, once the owner deletes the character", async () => {
    const { id } = await callerFor(owner).characters.create(character({ voiceId: "preset-voice-calm" }));
    const session = await callerFor(reader).sessions.create({ characterId: id });
    await callerFor(owner).characters.update({ id, data: { persona: "PERSONA-EDITED-THEN-DELETED", voiceId: "preset-voice-bright" } });
    expect((await callerFor(reader).sessions.get({ id: session.id })).voiceId).toBe("preset-voice-bright");
    await callerFor(owner).characters.delete({ id });

    const chat = await callerFor(reader).sessions.get({ id: session.id });
    expect(chat.character).toMatchObject({ source: "snapshot", name: "등대지기 하람" });
    // Speech keeps the voice the chat started with.
    expect(chat.voiceId).toBe("preset-voice-calm");
    const { system } = await say(reader, session.id, "아직 거기 있나요?");
    expect(system).toContain("PERSONA-AT-START");
    expect(system).not.toContain("PERSONA-EDITED-THEN-DELETED");
  });

  it("speaks a reply written while the chat uses its snapshot in the snapshot's voice", async () => {
    const { id } = await callerFor(owner).characters.create(character({ voiceId: "preset-voice-calm" }));
    const session = await callerFor(reader).sessions.create({ characterId: id, settings: { ttsMode: "realtime" } });
    await callerFor(owner).characters.update({ id, data: { visibility: "private", voiceId: "preset-voice-warm" } });
    // A sentence no earlier test spoke, so the voice server is asked (not the audio cache).
    ollama.setBehaviour({ reply: `*파도 소리* 등대 불은 ${crypto.randomUUID()} 번째 밤에도 켜져요.` });
    await say(reader, session.id, "목소리를 들려주세요");
    const references = sovits.requests.filter((r) => r.path === "/tts").map((r) => (r.params as { ref_audio_path: string }).ref_audio_path);
    expect(references.length).toBeGreaterThan(0);
    expect(references.every((path) => path.endsWith("calm_male_ko.wav"))).toBe(true);
  });

  it("keeps the owner's own chat working: live while the character is theirs, the snapshot once they delete it", async () => {
    const { id } = await callerFor(owner).characters.create(character({ visibility: "private" }));
    const session = await callerFor(owner).sessions.create({ characterId: id });
    await callerFor(owner).characters.update({ id, data: { persona: "PERSONA-OWN-EDIT" } });
    expect((await callerFor(owner).sessions.get({ id: session.id })).character).toMatchObject({ source: "live", persona: "PERSONA-OWN-EDIT" });
    expect((await say(owner, session.id, "내 캐릭터야")).system).toContain("PERSONA-OWN-EDIT");

    await callerFor(owner).characters.delete({ id });
    expect((await callerFor(owner).sessions.get({ id: session.id })).character.source).toBe("snapshot");
    expect((await say(owner, session.id, "지운 뒤에도 대화할래")).system).toContain("PERSONA-AT-START");
    // Starting over brings the greeting back from the snapshot.
    await callerFor(owner).sessions.clear({ id: session.id });
    const { messages } = await callerFor(owner).sessions.messages({ sessionId: session.id, limit: 10 });
    expect(messages.map((m) => m.content)).toEqual(["*등불을 닦으며* 배가 끊긴 지 오래예요."]);
  });
});

const portrait = () => sharp({ create: { width: 16, height: 16, channels: 3, background: "#3366cc" } }).png().toBuffer();

describe("/api/images/<id> follows its characters' visibility", () => {
  const tokenOf = async (user: TestUser) => (await new ApiTokenModel(db, user.id).create(`images-${crypto.randomUUID().slice(0, 8)}`)).token;
  const fetchImage = (id: string, headers: Record<string, string> = {}) =>
    getImage(new Request(`http://app/api/images/${id}`, { headers }), { params: Promise.resolve({ id }) });

  it("serves an uploaded portrait to its owner and to those who may see a character using it; 404 to anyone else", async () => {
    const ownerAuth = { authorization: `Bearer ${await tokenOf(owner)}` };
    const readerAuth = { authorization: `Bearer ${await tokenOf(reader)}` };
    const { imageId } = await callerFor(owner).characters.uploadImage({ dataBase64: (await portrait()).toString("base64") });
    const { id } = await callerFor(owner).characters.create(character({ visibility: "private", imageId }));

    const own = await fetchImage(imageId, ownerAuth);
    expect(own.status).toBe(200);
    expect(own.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
    expect(own.headers.get("content-type")).toMatch(/^image\//);
    const etag = own.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect((await fetchImage(imageId, readerAuth)).status).toBe(404);
    expect((await fetchImage(imageId)).status).toBe(404);
    // Knowing the ETag or asking for a range gets nothing more.
    expect((await fetchImage(imageId, { ...readerAuth, "if-none-match": etag, range: "bytes=0-9" })).status).toBe(404);
    expect((await fetchImage(imageId, { authorization: "Bearer af_not-a-real-token" })).status).toBe(404);

    await callerFor(owner).characters.update({ id, data: { visibility: "public" } });
    expect((await fetchImage(imageId)).status).toBe(200);
    const shared = await fetchImage(imageId, readerAuth);
    expect(shared.status).toBe(200);
    expect(Buffer.from(await shared.arrayBuffer())).toEqual(Buffer.from(await own.arrayBuffer()));
    expect((await fetchImage(imageId, { ...readerAuth, "if-none-match": etag })).status).toBe(304);
    const part = await fetchImage(imageId, { ...readerAuth, range: "bytes=0-9" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toMatch(/^bytes 0-9\/\d+$/);
    expect((await part.arrayBuffer()).byteLength).toBe(10);

    // A copy made while it was public shares the image: its new owner keeps seeing it.
    const copy = await callerFor(reader).characters.duplicate({ id });
    await callerFor(owner).characters.update({ id, data: { visibility: "private" } });
    expect((await fetchImage(imageId)).status).toBe(404);
    expect((await fetchImage(imageId, readerAuth)).status).toBe(200);
    await callerFor(reader).characters.delete({ id: copy.id });
    expect((await fetchImage(imageId, readerAuth)).status).toBe(404);

    // Deleted: gone for everyone but the image's owner.
    await callerFor(owner).characters.update({ id, data: { visibility: "public" } });
    await callerFor(owner).characters.delete({ id });
    expect((await fetchImage(imageId, readerAuth)).status).toBe(404);
    expect((await fetchImage(imageId, ownerAuth)).status).toBe(200);
  });

  it("answers 404 for ids that are not images", async () => {
    expect((await fetchImage("no-such-image")).status).toBe(404);
    expect((await fetchImage("../etc")).status).toBe(404);
  });
});
