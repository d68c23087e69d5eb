import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeOllama, type FakeOllama } from "@/e2e/fakes/ollama";
import { createUser, testDatabase } from "@/e2e/support/test-db";
import { characterInputSchema } from "@/lib/schemas";
import { CharacterModel } from "@/server/characters/model";
import { chatSessions, personas } from "@/server/db/schema";
import { SessionModel } from "@/server/sessions/model";
import { inspectPrompt } from "./inspect";
import type { PositionedEvent } from "./live-reply";
import { ChatService } from "./service";

/*
 * What reaches the model for role-play: lorebook entries only once their keyword is said, the
 * author's note at its depth, the persona as {{user}} — and the prompt inspector shows exactly
 * what was sent.
 */

let ollama: FakeOllama;
const { db, sql } = testDatabase();

beforeAll(async () => {
  ollama = await startFakeOllama({ port: 0, tokenDelayMs: 1 });
  process.env.OLLAMA_HOST = ollama.url;
});
afterAll(async () => {
  await ollama.close();
  await sql.end();
});
beforeEach(() => ollama.reset());

const CAT_LORE = "서점에는 '먼지'라는 회색 고양이가 산다.";
const ALWAYS_LORE = "이 세계에서는 비가 그치지 않는다.";

interface SentMessage {
  role: string;
  content: string;
}

/** The role-play requests the fake received (the chat's own titling request left out). */
const replyRequests = () =>
  (ollama.requests as { messages?: SentMessage[] }[])
    .map((request) => request.messages ?? [])
    .filter((messages) => messages[0]?.role === "system" && messages[0].content.startsWith("You are"));

async function drain(events: AsyncIterable<PositionedEvent>) {
  for await (const _ of events) void _;
}

async function roleplayChat() {
  const user = await createUser(db, "계정이름");
  const character = await new CharacterModel(db, user.id).create(
    characterInputSchema.parse({
      name: "서연",
      persona: "{{char}}는 작은 서점의 점원이다.",
      personality: "차분함",
      greeting: "어서 오세요, {{user}}님!",
      lorebook: {
        scanDepth: 2,
        tokenBudget: 512,
        entries: [
          { id: "cat", name: "고양이", keys: ["고양이"], content: CAT_LORE, wholeWords: true },
          { id: "rain", name: "날씨", keys: [], content: ALWAYS_LORE, constant: true },
        ],
      },
    }),
  );
  const sessions = new SessionModel(db, user.id);
  const session = await sessions.create({ characterId: character.id });
  const chat = new ChatService(db, user);
  const send = async (text: string) => {
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text });
    await drain(chat.follow(reply.id, 0));
    return replyRequests().at(-1)!;
  };
  return { user, session, sessions, send };
}

describe("the role-play prompt", () => {
  it("sends a lorebook entry only after its keyword appears, and a constant one always, before the character", async () => {
    const { send } = await roleplayChat();
    const before = await send("안녕하세요, 책 좀 보러 왔어요.");
    expect(before[0]!.content).not.toContain(CAT_LORE);
    expect(before[0]!.content).toContain(ALWAYS_LORE);

    const after = await send("혹시 고양이를 키우세요?");
    const system = after[0]!.content;
    expect(system).toContain(CAT_LORE);
    expect(system.indexOf("## World info")).toBeLessThan(system.indexOf("## Character"));
    expect(system).toContain("Personality: 차분함");

    // scanDepth 2: two messages later the keyword is out of reach
    await send("그럼 소설 추천해 주세요.");
    const later = await send("고맙습니다.");
    expect(later[0]!.content).not.toContain(CAT_LORE);
  });

  it("puts the author's note its depth of messages from the end", async () => {
    const { session, sessions, send } = await roleplayChat();
    await sessions.update(session.id, { authorNote: "{{char}}는 오늘 피곤하다.", authorNoteDepth: 1 });
    const sent = await send("오늘 기분 어때요?");
    // greeting, note, the user's message: the note is one message from the end
    expect(sent.slice(1).map((m) => m.role)).toEqual(["assistant", "system", "user"]);
    expect(sent.at(-2)!.content).toBe("서연는 오늘 피곤하다.");

    await sessions.update(session.id, { authorNoteDepth: 0 });
    const next = await send("그렇군요.");
    expect(next.at(-1)).toEqual({ role: "system", content: "서연는 오늘 피곤하다." });
  });

  it("names {{user}} after the chat's persona and describes them after the scenario", async () => {
    const { user, session, send } = await roleplayChat();
    const [persona] = await db.insert(personas).values({ userId: user.id, name: "하루", description: "{{user}}는 단골 손님이다." }).returning();
    await db.update(chatSessions).set({ personaId: persona!.id }).where(eq(chatSessions.id, session.id));
    const sent = await send("안녕하세요!");
    expect(sent[0]!.content).toContain("## 하루\n하루는 단골 손님이다.");
    expect(sent[1]).toEqual({ role: "assistant", content: "어서 오세요, 하루님!" });
    expect(sent[0]!.content).not.toContain("계정이름");
  });

  it("ignores another user's persona set on the chat", async () => {
    const { session, send } = await roleplayChat();
    const stranger = await createUser(db, "남");
    const [persona] = await db.insert(personas).values({ userId: stranger.id, name: "남의 페르소나", description: "비밀" }).returning();
    await db.update(chatSessions).set({ personaId: persona!.id }).where(eq(chatSessions.id, session.id));
    const sent = await send("안녕하세요!");
    expect(sent[0]!.content).not.toContain("비밀");
    expect(sent[1]!.content).toBe("어서 오세요, 계정이름님!");
  });

  it("keeps the personality and lorebook the chat started with once the character is made private", async () => {
    const owner = await createUser(db, "제작자");
    const characters = new CharacterModel(db, owner.id);
    const character = await characters.create(
      characterInputSchema.parse({
        name: "서연",
        persona: "서점 점원.",
        personality: "차분함",
        visibility: "public",
        lorebook: { entries: [{ id: "cat", keys: ["고양이"], content: CAT_LORE }] },
      }),
    );
    const user = await createUser(db, "손님");
    const session = await new SessionModel(db, user.id).create({ characterId: character.id });
    await characters.update(character.id, {
      visibility: "private",
      personality: "비밀 성격",
      lorebook: { scanDepth: 4, tokenBudget: 512, entries: [{ ...character.lorebook.entries[0]!, content: "비밀 설정" }] },
    });
    const chat = new ChatService(db, user);
    const { reply } = await chat.send({ sessionId: session.id, clientId: crypto.randomUUID(), text: "고양이 있어요?" });
    await drain(chat.follow(reply.id, 0));
    const system = replyRequests().at(-1)![0]!.content;
    expect(system).toContain("Personality: 차분함");
    expect(system).toContain(CAT_LORE);
    expect(system).not.toMatch(/비밀/);
  });

  it("shows in the inspector exactly what the next reply sends, and why each entry is active", async () => {
    const { user, session, sessions, send } = await roleplayChat();
    // Named already: no titling request runs beside the replies (the fault below must hit a reply).
    await sessions.rename(session.id, "서점 나들이");
    await sessions.update(session.id, { authorNote: "짧게 답할 것.", authorNoteDepth: 2 });
    await send("먼지라는 고양이가 있다면서요?");
    const inspected = await inspectPrompt(db, user, session.id);
    expect(inspected.lorebook.entries.map((e) => [e.id, e.active, e.reason, e.key])).toEqual([
      ["cat", true, "keyword", "고양이"],
      ["rain", true, "constant", null],
    ]);
    expect(inspected.messages[0]!.sections.map((s) => s.part)).toEqual(["intro", "world_info", "character", "rules"]);
    expect(inspected.totalTokens).toBeGreaterThan(0);
    expect(inspected.totalTokens).toBeLessThanOrEqual(inspected.promptBudget);

    // A reply that fails leaves the user's message last: the inspector then shows exactly the
    // request that was made for it, message by message.
    ollama.setBehaviour({ fault: "http500", faultCount: 1 });
    const sent = await send("고양이 이름이 뭐예요?");
    const shown = await inspectPrompt(db, user, session.id);
    expect(shown.messages.map(({ role, content }) => ({ role, content }))).toEqual(sent);
    expect(shown.messages.map((m) => m.part)).toEqual(["system", "history", "history", "author_note", "history", "history"]);

    const stranger = await createUser(db, "남");
    await expect(inspectPrompt(db, stranger, session.id)).rejects.toMatchObject({ code: "not_found" });
  });
});
