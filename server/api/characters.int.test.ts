import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callersOn, type TestUser } from "@/e2e/support/test-caller";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import { base64Json, cardPng, fullV2Card } from "@/server/cards/test-cards";
import { CHARACTER_LIMITS, type CharacterInput } from "@/lib/schemas";

const { db, sql } = testDatabase();
afterAll(() => sql.end());


const callerFor = callersOn(db);

let owner: TestUser;
let other: TestUser;
beforeAll(async () => {
  owner = await createUser(db, "주인");
  other = await createUser(db, "다른 사람");
});

const sample = (overrides: Partial<CharacterInput> = {}) => ({
  name: "윤하늘",
  description: "새벽 라디오 DJ. 사연을 읽어 주는 다정한 목소리",
  persona: "{{char}}는 심야 라디오 DJ다. {{user}}의 사연을 읽는다.",
  greeting: "*헤드폰을 고쳐 쓰며* 오늘 밤 첫 번째 사연의 주인공은 {{user}} 님이네요.",
  alternateGreetings: ["*음악을 줄이며* 늦은 밤, 잠 못 드는 분들 안녕하세요."],
  exampleDialogue: "<START>\n{{user}}: 잠이 안 와요.\n{{char}}: 그럼 노래 한 곡 같이 들어요.",
  scenario: { opponent: "청취자", situation: "새벽 2시 생방송", background: "서울의 작은 라디오국" },
  category: "일상",
  tags: ["라디오", "새벽", "위로"],
  visibility: "private" as const,
  ...overrides,
});

const png = (width = 64, height = 64) =>
  sharp({ create: { width, height, channels: 3, background: { r: 120, g: 80, b: 200 } } }).png().toBuffer();

describe("characters: create, read, update, delete", () => {
  it("needs sign-in to create, and saves every field for the owner", async () => {
    await expect(callerFor(null).characters.create(sample())).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    const created = await callerFor(owner).characters.create(sample());
    expect(created).toMatchObject({ ...sample(), ownerId: owner.id, imageUrl: null, voiceId: null });
    expect(await callerFor(owner).characters.get({ id: created.id })).toMatchObject({ name: "윤하늘" });
  });

  it("keeps a private character invisible to others and to visitors (NOT_FOUND)", async () => {
    const created = await callerFor(owner).characters.create(sample({ name: "비밀 캐릭터" }));
    for (const caller of [callerFor(other), callerFor(null)]) {
      await expect(caller.characters.get({ id: created.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(caller.characters.exportCard({ id: created.id, format: "json" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    }
    await expect(callerFor(other).characters.update({ id: created.id, data: { name: "탈취" } })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(callerFor(other).characters.delete({ id: created.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(callerFor(other).characters.duplicate({ id: created.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("shows a public character to everyone but lets only its owner change it", async () => {
    const created = await callerFor(owner).characters.create(sample({ name: "공개 캐릭터", visibility: "public" }));
    expect((await callerFor(null).characters.get({ id: created.id })).name).toBe("공개 캐릭터");
    expect((await callerFor(other).characters.get({ id: created.id })).name).toBe("공개 캐릭터");
    await expect(callerFor(other).characters.update({ id: created.id, data: { name: "탈취" } })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(callerFor(other).characters.delete({ id: created.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(callerFor(null).characters.update({ id: created.id, data: { name: "탈취" } })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    expect((await callerFor(owner).characters.get({ id: created.id })).name).toBe("공개 캐릭터");
  });

  it("never lets anyone change or delete a preset (FORBIDDEN)", async () => {
    await expect(callerFor(owner).characters.update({ id: "preset-hermione", data: { name: "해킹" } })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(callerFor(owner).characters.delete({ id: "preset-hermione" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect((await callerFor(null).characters.get({ id: "preset-hermione" })).name).toBe("헤르미온느 그레인저");
  });

  it("updates only the fields given", async () => {
    const created = await callerFor(owner).characters.create(sample());
    const updated = await callerFor(owner).characters.update({ id: created.id, data: { name: "윤하늘 DJ", tags: ["#라디오", "라디오", "밤"] } });
    expect(updated).toMatchObject({ name: "윤하늘 DJ", persona: sample().persona, greeting: sample().greeting, tags: ["라디오", "밤"] });
  });

  it("duplicates anything visible as the viewer's private copy, presets included", async () => {
    const copy = await callerFor(other).characters.duplicate({ id: "preset-sunja", copySuffix: "사본" });
    expect(copy).toMatchObject({ name: "순자 할머니 사본", ownerId: other.id, visibility: "private", imageUrl: "/characters/sunja.png" });
    expect(copy.persona).toContain("78살");
    const edited = await callerFor(other).characters.update({ id: copy.id, data: { name: "내 할머니" } });
    expect(edited.name).toBe("내 할머니");
    expect((await callerFor(null).characters.get({ id: "preset-sunja" })).name).toBe("순자 할머니");
  });

  it("deletes a character: it disappears everywhere, but existing chats keep working", async () => {
    const created = await callerFor(owner).characters.create(sample({ name: "지울 캐릭터", visibility: "public" }));
    const session = await callerFor(other).sessions.create({ characterId: created.id });
    expect(await callerFor(owner).characters.delete({ id: created.id })).toEqual({ id: created.id });
    await expect(callerFor(owner).characters.get({ id: created.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    const gallery = await callerFor(owner).characters.gallery({ scope: "mine", q: "지울" });
    expect(gallery.items).toEqual([]);
    await expect(callerFor(other).sessions.create({ characterId: created.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await callerFor(other).sessions.get({ id: session.id })).character.name).toBe("지울 캐릭터");
  });

  it("rejects bad input with a field error and saves nothing", async () => {
    const before = (await callerFor(owner).characters.gallery({ scope: "mine", limit: 60 })).items.length;
    const attempts = [
      sample({ name: "" }),
      sample({ name: "가".repeat(81) }),
      sample({ persona: "가".repeat(CHARACTER_LIMITS.persona + 1) }),
      sample({ tags: Array.from({ length: 31 }, (_, i) => `태그${i}`) }),
      sample({ alternateGreetings: Array.from({ length: CHARACTER_LIMITS.alternateGreetings + 1 }, () => "안녕") }),
    ];
    for (const attempt of attempts) {
      const error = await callerFor(owner).characters.create(attempt).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "BAD_REQUEST" });
    }
    const tooLong = await callerFor(owner).characters.create(sample({ name: "가".repeat(81) })).catch((e: { cause?: unknown }) => e.cause);
    expect(tooLong).toMatchObject({ issues: [{ path: ["name"], message: "A name can be at most 80 characters." }] });
    expect((await callerFor(owner).characters.gallery({ scope: "mine", limit: 60 })).items.length).toBe(before);
  });
});

describe("gallery", () => {
  it("lists presets, public and own characters; filters by scope, category and tag; finds Korean substrings", async () => {
    const viewer = await createUser(db, "갤러리");
    const mine = await callerFor(viewer).characters.create(sample({ name: "달빛 고양이 루나", category: "판타지", tags: ["고양이", "달"] }));
    const theirs = await callerFor(other).characters.create(sample({ name: "별빛 여우", category: "판타지", tags: ["여우"], visibility: "public" }));
    const hidden = await callerFor(other).characters.create(sample({ name: "달빛 비밀", visibility: "private" }));
    const me = callerFor(viewer);

    const all = (await me.characters.gallery({ scope: "all", limit: 60 })).items.map((c) => c.id);
    expect(all).toEqual(expect.arrayContaining([mine.id, theirs.id, "preset-hermione"]));
    expect(all).not.toContain(hidden.id);

    expect((await me.characters.gallery({ scope: "mine" })).items.map((c) => c.id)).toEqual([mine.id]);
    const presets = (await me.characters.gallery({ scope: "presets", limit: 60 })).items;
    expect(presets.length).toBeGreaterThanOrEqual(4);
    expect(presets.every((c) => c.ownerId === null)).toBe(true);
    const community = (await me.characters.gallery({ scope: "public", limit: 60 })).items.map((c) => c.id);
    expect(community).toContain(theirs.id);
    expect(community).not.toContain("preset-hermione");

    expect((await me.characters.gallery({ q: "빛 고양" })).items.map((c) => c.id)).toEqual([mine.id]);
    expect((await me.characters.gallery({ q: "달빛" })).items.map((c) => c.id)).toEqual([mine.id]);
    expect((await me.characters.gallery({ q: "도서관" })).items.map((c) => c.id)).toContain("preset-minho");
    expect((await me.characters.gallery({ q: "그리핀도르" })).items.map((c) => c.id)).toEqual(["preset-hermione"]);
    expect((await me.characters.gallery({ q: "호그와트" })).items.map((c) => c.id)).toEqual(["preset-hermione"]);
    expect((await me.characters.gallery({ q: "100%" })).items).toEqual([]);
    expect((await me.characters.gallery({ category: "판타지", tag: "여우" })).items.map((c) => c.id)).toEqual([theirs.id]);
  });

  it("pages with a cursor, newest first, without gaps or repeats", async () => {
    const pager = await createUser(db, "페이지");
    const created = [];
    for (let i = 0; i < 7; i++) created.push((await callerFor(pager).characters.create(sample({ name: `페이지 ${i}` }))).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } = await callerFor(pager).characters.gallery({ scope: "mine", limit: 3, cursor });
      seen.push(...page.items.map((c) => c.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...created].reverse());
    await expect(callerFor(pager).characters.gallery({ scope: "mine", cursor: "garbage" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("offers the categories and tags in use", async () => {
    const facets = await callerFor(null).characters.facets();
    expect(facets.categories.map((c) => c.value)).toEqual(expect.arrayContaining(["판타지", "일상", "추리", "SF"]));
    expect(facets.tags.find((t) => t.value === "마법")?.count).toBeGreaterThanOrEqual(1);
    expect(facets.suggestedCategories).toContain("로맨스");
  });
});

describe("portraits", () => {
  it("accepts PNG, JPEG and WebP by their bytes and serves them as the character's image", async () => {
    const me = callerFor(owner);
    const uploaded = await me.characters.uploadImage({ dataBase64: (await png()).toString("base64") });
    expect(uploaded.imageUrl).toBe(`/api/images/${uploaded.imageId}`);
    const jpeg = await sharp({ create: { width: 10, height: 10, channels: 3, background: "#ff0000" } }).jpeg().toBuffer();
    await expect(me.characters.uploadImage({ dataBase64: jpeg.toString("base64") })).resolves.toMatchObject({ imageUrl: expect.any(String) });
    const created = await me.characters.create({ ...sample(), imageId: uploaded.imageId });
    expect(created.imageUrl).toBe(uploaded.imageUrl);
  });

  it("rejects what is not an image, whatever it is called, and other users' images", async () => {
    const me = callerFor(owner);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>');
    await expect(me.characters.uploadImage({ dataBase64: svg.toString("base64") })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(me.characters.uploadImage({ dataBase64: "%%%" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const theirs = await callerFor(other).characters.uploadImage({ dataBase64: (await png(32, 32)).toString("base64") });
    await expect(me.characters.create({ ...sample(), imageId: theirs.imageId })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(callerFor(null).characters.uploadImage({ dataBase64: (await png()).toString("base64") })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });
});

describe("voices", () => {
  const voice = { name: "내 목소리", refAudioPath: "presets/me.wav", promptText: "안녕하세요, 반갑습니다.", promptLang: "ko" as const };

  it("lists the presets and the default voice for everyone, plus one's own voices", async () => {
    const visitor = await callerFor(null).voices.list();
    expect(visitor.voices.length).toBeGreaterThanOrEqual(4);
    expect(visitor.voices.map((v) => v.id)).toContain(visitor.defaultVoiceId);
    const created = await callerFor(owner).voices.create({ ...voice, params: { speedFactor: 1.1, textSplitMethod: "cut5" } });
    expect((await callerFor(owner).voices.list()).voices.map((v) => v.id)).toContain(created.id);
    expect((await callerFor(other).voices.list()).voices.map((v) => v.id)).not.toContain(created.id);
  });

  it("lets only the owner read, change or delete a voice; presets are immutable", async () => {
    const created = await callerFor(owner).voices.create(voice);
    await expect(callerFor(other).voices.get({ id: created.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(callerFor(other).voices.update({ id: created.id, data: { name: "x" } })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(callerFor(other).voices.delete({ id: created.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(callerFor(null).voices.create(voice)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(callerFor(owner).voices.update({ id: "preset-voice-calm", data: { name: "x" } })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(callerFor(owner).voices.delete({ id: "preset-voice-calm" })).rejects.toMatchObject({ code: "FORBIDDEN" });

    const updated = await callerFor(owner).voices.update({ id: created.id, data: { promptText: "바뀐 대본" } });
    expect(updated).toMatchObject({ name: "내 목소리", promptText: "바뀐 대본", refAudioPath: "presets/me.wav" });
  });

  it("checks synthesis parameters against the protocol's ranges", async () => {
    for (const params of [{ speedFactor: 3 }, { topP: 1.5 }, { topK: 0 }, { textSplitMethod: "cut9" }]) {
      await expect(callerFor(owner).voices.create({ ...voice, params } as never)).rejects.toMatchObject({ code: "BAD_REQUEST" });
    }
    await expect(callerFor(owner).voices.create({ ...voice, promptLang: "EN" } as never)).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(callerFor(owner).voices.create({ ...voice, refAudioPath: "a\nb" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("keeps reference audio inside the TTS server's voice directory, on create and on update", async () => {
    const me = callerFor(owner);
    expect((await me.voices.list()).refAudioDir).toBe("presets");
    const refused = { code: "BAD_REQUEST", cause: { params: { reason: "ref_audio_outside", dir: "presets" } } };
    for (const path of ["/etc/passwd", "presets/../../x", "../../etc/passwd", "presets2/x.wav", "presets\\x.wav"]) {
      await expect(me.voices.create({ ...voice, refAudioPath: path }), path).rejects.toMatchObject(refused);
    }
    await expect(me.voices.create({ ...voice, auxRefAudioPaths: ["presets/ok.wav", "/etc/shadow"] })).rejects.toMatchObject(refused);

    const created = await me.voices.create({ ...voice, refAudioPath: "presets/x.wav", auxRefAudioPaths: ["presets//aux.wav"] });
    expect(created).toMatchObject({ refAudioPath: "presets/x.wav", auxRefAudioPaths: ["presets/aux.wav"] });
    for (const path of ["/etc/passwd", "presets/../../x"]) {
      await expect(me.voices.update({ id: created.id, data: { refAudioPath: path } }), path).rejects.toMatchObject(refused);
    }
    expect(await me.voices.get({ id: created.id })).toMatchObject({ refAudioPath: "presets/x.wav" });
    expect(await me.voices.update({ id: created.id, data: { refAudioPath: "presets/y.wav" } })).toMatchObject({ refAudioPath: "presets/y.wav" });
  });

  it("lets a character use one's own voice or a preset, not someone else's; deleting the voice unsets it", async () => {
    const mine = await callerFor(owner).voices.create(voice);
    const theirs = await callerFor(other).voices.create(voice);
    await expect(callerFor(owner).characters.create(sample({ voiceId: theirs.id }))).rejects.toMatchObject({ code: "NOT_FOUND" });
    const withPreset = await callerFor(owner).characters.create(sample({ voiceId: "preset-voice-warm" }));
    expect(withPreset.voiceId).toBe("preset-voice-warm");
    const character = await callerFor(owner).characters.create(sample({ voiceId: mine.id, visibility: "public" }));
    // Everyone sees which voice a public character speaks with, even when they can't use it.
    expect(await callerFor(owner).characters.get({ id: character.id })).toMatchObject({ voiceId: mine.id, voiceName: "내 목소리" });
    expect(await callerFor(other).characters.get({ id: character.id })).toMatchObject({ voiceName: "내 목소리" });
    await expect(callerFor(other).voices.get({ id: mine.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await callerFor(owner).voices.delete({ id: mine.id });
    expect(await callerFor(owner).characters.get({ id: character.id })).toMatchObject({ voiceId: null, voiceName: null });
  });
});

describe("character cards through the API", () => {
  const decode = (b64: string) => Buffer.from(b64, "base64");

  it("exports a PNG card that imports back as the same character, Korean and unknown extensions included", async () => {
    const me = callerFor(owner);
    const voice = await me.voices.create({ name: "DJ 목소리", refAudioPath: "presets/dj.wav", promptText: "좋은 밤이에요.", promptLang: "ko" });
    const image = await me.characters.uploadImage({ dataBase64: (await png(96, 120)).toString("base64") });
    const original = await me.characters.create({ ...sample({ voiceId: voice.id }), imageId: image.imageId });

    const exported = await me.characters.exportCard({ id: original.id, format: "png" });
    expect(exported).toMatchObject({ contentType: "image/png" });
    expect(exported.fileName).toMatch(/^윤하늘 \d{4}-\d{2}-\d{2}_\d{4}\.png$/);
    const copy = await me.characters.importCard({ dataBase64: exported.dataBase64 });

    expect(copy.id).not.toBe(original.id);
    const fields = ["name", "description", "persona", "greeting", "alternateGreetings", "exampleDialogue", "scenario", "systemPrompt", "category", "tags", "voiceId"] as const;
    for (const field of fields) expect(copy[field], field).toEqual(original[field]);
    expect(copy.imageUrl).toMatch(/^\/api\/images\//);
    expect(copy.visibility).toBe("private");

    // A second round trip through JSON changes nothing either.
    const json = await me.characters.exportCard({ id: copy.id, format: "json" });
    expect(JSON.parse(decode(json.dataBase64).toString("utf8"))).toMatchObject({ spec: "chara_card_v3", data: { name: "윤하늘" } });
    const again = await me.characters.importCard({ dataBase64: json.dataBase64 });
    for (const field of fields) expect(again[field], field).toEqual(original[field]);
  });

  it("imports a V2 card written by another app with all its fields, and keeps them on re-export", async () => {
    const me = callerFor(owner);
    const card = fullV2Card();
    const file = await cardPng([{ keyword: "chara", text: base64Json(card) }]);
    const imported = await me.characters.importCard({ dataBase64: file.toString("base64") });
    expect(imported).toMatchObject({
      name: "서연",
      persona: card.data.description,
      description: card.data.creator_notes,
      greeting: card.data.first_mes,
      alternateGreetings: card.data.alternate_greetings,
      exampleDialogue: card.data.mes_example,
      systemPrompt: card.data.system_prompt,
      scenario: { opponent: "", situation: card.data.scenario, background: "" },
      tags: ["일상", "힐링", "서점"],
      extensions: card.data.extensions,
    });
    expect(imported).toMatchObject({ personality: card.data.personality, creatorNotes: card.data.creator_notes });
    expect(imported.lorebook.entries.map((e) => e.keys)).toEqual([["서점", "책방"], ["고양이"]]);
    expect(imported.cardExtras).toMatchObject({ creator: "카드장인" });

    const exported = await me.characters.exportCard({ id: imported.id, format: "json" });
    const v3 = JSON.parse(decode(exported.dataBase64).toString("utf8"));
    expect(v3.data.extensions).toMatchObject(card.data.extensions);
    expect(v3.data.character_book).toMatchObject({
      name: card.data.character_book.name,
      entries: card.data.character_book.entries.map(({ keys, content, position }) => ({ keys, content, position })),
    });
    expect(v3.data.creator_notes).toBe(card.data.creator_notes);
    expect(v3.data.personality).toBe(card.data.personality);
  });

  it("rejects a file that is not a card with the reason, and creates nothing", async () => {
    const me = callerFor(owner);
    const before = (await me.characters.gallery({ scope: "mine", limit: 60 })).items.length;
    const cases: [Buffer, string][] = [
      [Buffer.from("GIF89a........"), "card_not_card_file"],
      [await png(), "card_no_chunk"],
      [Buffer.from('{"spec":"chara_card_v9","data":{}}'), "card_unknown_spec"],
      [Buffer.from("{not json"), "card_bad_json"],
      [await cardPng([{ keyword: "chara", text: "@@not-base64@@" }]), "card_bad_base64"],
    ];
    for (const [bytes, reason] of cases) {
      const error = await me.characters.importCard({ dataBase64: bytes.toString("base64") }).catch((e: { code?: string; cause?: { params?: unknown } }) => e);
      expect(error, reason).toMatchObject({ code: "BAD_REQUEST", cause: { params: { reason } } });
    }
    expect((await me.characters.gallery({ scope: "mine", limit: 60 })).items.length).toBe(before);
  });

  it("exports presets for anyone, with the portrait", async () => {
    const exported = await callerFor(null).characters.exportCard({ id: "preset-aria", format: "png" });
    const copy = await callerFor(other).characters.importCard({ dataBase64: exported.dataBase64 });
    expect(copy).toMatchObject({ name: "아리아", voiceId: "preset-voice-synthetic", category: "SF" });
  });
});
