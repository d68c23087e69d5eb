import { describe, expect, it } from "vitest";
import { fromSillyTavernJsonl, humanizedDateTime, IMPORT_LIMITS, parseSillyTavernDate, PortabilityError, toMarkdown, toSillyTavernJsonl, type PortableChat } from "./portability";

/** A chat as SillyTavern itself saves it (fields and their order as in its chat files). */
const sillyTavernChat = [
  `{"user_name":"민수","character_name":"Seraphina","create_date":"2024-05-10@14h30m12s","chat_metadata":{"note_prompt":"","note_interval":1,"note_depth":4,"note_position":1,"tainted":true}}`,
  `{"name":"Seraphina","is_user":false,"is_system":false,"send_date":"May 10, 2024 2:30pm","mes":"*숲 속에서* 안녕, {{user}}. 괜찮아?","extra":{},"swipe_id":1,"swipes":["첫 인사","*숲 속에서* 안녕, {{user}}. 괜찮아?"],"swipe_info":[{"send_date":"May 10, 2024 2:30pm","extra":{}},{"send_date":"May 10, 2024 2:31pm","extra":{}}]}`,
  `{"name":"민수","is_user":true,"is_system":false,"send_date":"May 10, 2024 2:32pm","mes":"응, 고마워!","extra":{"isSmallSys":false},"force_avatar":"User Avatars/user.png"}`,
  `{"name":"System","is_user":false,"is_system":true,"send_date":"2024-05-10T14:33:00.000Z","mes":"(장면 전환)","extra":{"type":"narrator"}}`,
  `{"name":"Seraphina","is_user":false,"send_date":1715351640000,"mes":"다행이다.\\n\\n\\"천천히 쉬어.\\"","extra":{"api":"ollama","model":"qwen2.5"},"gen_started":"2024-05-10T14:34:00.000Z"}`,
].join("\r\n");

describe("SillyTavern JSONL import", () => {
  it("reads a chat in SillyTavern's own format: header, swipes, system lines, Korean, every date style", () => {
    const chat = fromSillyTavernJsonl(sillyTavernChat);
    expect(chat.userName).toBe("민수");
    expect(chat.characterName).toBe("Seraphina");
    expect(chat.createdAt.toISOString()).toBe("2024-05-10T14:30:12.000Z");
    expect(chat.messages.map((m) => m.role)).toEqual(["assistant", "user", "system", "assistant"]);
    expect(chat.messages[0]).toMatchObject({ content: "*숲 속에서* 안녕, {{user}}. 괜찮아?", swipes: ["첫 인사", "*숲 속에서* 안녕, {{user}}. 괜찮아?"], swipeId: 1 });
    expect(chat.messages[1]!.content).toBe("응, 고마워!");
    expect(chat.messages[2]!.content).toBe("(장면 전환)");
    expect(chat.messages[3]!.content).toBe('다행이다.\n\n"천천히 쉬어."');
    expect(chat.messages[3]!.createdAt.getTime()).toBe(1715351640000);
  });

  it("reads a file without a header line", () => {
    const chat = fromSillyTavernJsonl(`{"name":"A","is_user":true,"mes":"hi"}\n{"name":"B","is_user":false,"mes":"hello"}`);
    expect(chat.messages.map((m) => m.content)).toEqual(["hi", "hello"]);
  });

  const refused = (text: string) => {
    try {
      fromSillyTavernJsonl(text);
    } catch (error) {
      expect(error).toBeInstanceOf(PortabilityError);
      return (error as PortabilityError).message;
    }
    throw new Error("accepted");
  };

  it("refuses hostile or broken files with a sentence naming the line", () => {
    const header = `{"user_name":"u","character_name":"c","create_date":"2024-05-10@14h30m12s","chat_metadata":{}}`;
    expect(refused("")).toMatch(/empty/);
    expect(refused(header)).toMatch(/no messages/);
    expect(refused(`${header}\n{not json`)).toMatch(/Line 2 is not valid JSON/);
    expect(refused(`${header}\n{"is_user":"yes","mes":"x"}`)).toMatch(/Line 2 \(is_user\)/);
    expect(refused(`${header}\n{"is_user":true,"mes":"a\\u0000b"}`)).toMatch(/Line 2 \(mes\).*not allowed/);
    expect(refused(`${header}\n{"is_user":true,"mes":"\\ud800"}`)).toMatch(/not allowed/);
    expect(refused(`${header}\n{"is_user":true,"mes":"${"x".repeat(IMPORT_LIMITS.messageChars + 1)}"}`)).toMatch(/At most/);
    expect(refused(`${header}\n{"is_user":false,"mes":"x","swipes":${JSON.stringify(new Array(IMPORT_LIMITS.swipes + 1).fill("s"))}}`)).toMatch(/swipes/);
    expect(refused(`${header}\n[1,2]`)).toMatch(/Line 2/);
    const many = new Array(IMPORT_LIMITS.messages + 1).fill(`{"is_user":true,"mes":"x"}`).join("\n");
    expect(refused(`${header}\n${many}`)).toMatch(/at most 5000 messages/);
    expect(refused("x".repeat(IMPORT_LIMITS.bytes + 1))).toMatch(/larger than 5 MB/);
  });
});

describe("SillyTavern JSONL export", () => {
  const chat: PortableChat = {
    userName: "민수",
    characterName: "세라",
    title: "숲의 밤",
    createdAt: new Date("2024-05-10T14:30:12Z"),
    messages: [
      { role: "assistant", content: "둘째 인사", createdAt: new Date("2024-05-10T14:30:13Z"), swipes: ["첫 인사", "둘째 인사"], swipeId: 1 },
      { role: "user", content: "안녕 *웃는다*", createdAt: new Date("2024-05-10T14:31:00Z") },
      { role: "system", content: "메모", createdAt: new Date("2024-05-10T14:32:00Z") },
    ],
  };

  it("writes SillyTavern's field names: a header line, then one line per message with swipes", () => {
    const lines = toSillyTavernJsonl(chat).trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toEqual({ user_name: "민수", character_name: "세라", create_date: "2024-05-10@14h30m12s", chat_metadata: { title: "숲의 밤" } });
    expect(lines[1]).toEqual({ name: "세라", is_user: false, is_system: false, send_date: "2024-05-10T14:30:13.000Z", mes: "둘째 인사", swipes: ["첫 인사", "둘째 인사"], swipe_id: 1, extra: {} });
    expect(lines[2]).toMatchObject({ name: "민수", is_user: true, is_system: false, mes: "안녕 *웃는다*" });
    expect(lines[2]).not.toHaveProperty("swipes");
    expect(lines[3]).toMatchObject({ is_system: true, mes: "메모" });
  });

  it("round-trips through import unchanged", () => {
    const back = fromSillyTavernJsonl(toSillyTavernJsonl(chat));
    expect(back).toEqual(chat);
  });

  it("writes a readable Markdown transcript with names that can't restyle it", () => {
    const md = toMarkdown({ ...chat, characterName: "*세라*" }, { character: "캐릭터", date: "날짜" });
    expect(md).toContain("# 숲의 밤\n");
    expect(md).toContain("- 캐릭터: \\*세라\\*");
    expect(md).toContain("- 날짜: 2024-05-10 14:30 UTC");
    expect(md).toContain("**\\*세라\\***: 둘째 인사\n\n**민수**: 안녕 *웃는다*\n\n**System**: *메모*");
  });
});

describe("SillyTavern dates", () => {
  it("reads every style and writes humanizedDateTime", () => {
    expect(humanizedDateTime(new Date("2024-01-02T03:04:05Z"))).toBe("2024-01-02@03h04m05s");
    expect(parseSillyTavernDate("2024-1-2@3h4m5s")?.toISOString()).toBe("2024-01-02T03:04:05.000Z");
    expect(parseSillyTavernDate("2024-1-2 @3h 4m 5s 120ms")?.toISOString()).toBe("2024-01-02T03:04:05.120Z");
    expect(parseSillyTavernDate(0)?.getTime()).toBe(0);
    expect(parseSillyTavernDate("nonsense")).toBeNull();
    expect(parseSillyTavernDate(Number.POSITIVE_INFINITY)).toBeNull();
  });

  it("reads no date the database can't store: year 0, negative years, past 9999", () => {
    for (const odd of ["0000-01-01T00:00:00Z", "-000300-01-01T00:00:00Z", "+275760-09-13T00:00:00.000Z", "May 10, 20000 2:30pm", "May 10, 300000 2:30pm", -100000000000000, 8.6e15, -8.6e15, Number.NaN]) {
      expect(parseSillyTavernDate(odd), String(odd)).toBeNull();
    }
    expect(parseSillyTavernDate("0001-01-01T00:00:00Z")?.toISOString()).toBe("0001-01-01T00:00:00.000Z");
    expect(parseSillyTavernDate("9999-12-31T23:59:59Z")?.toISOString()).toBe("9999-12-31T23:59:59.000Z");
  });

  it("imports a file with odd dates, each message taking the date before it (the chat's, the first good one, or now)", () => {
    const now = new Date("2025-01-01T00:00:00Z");
    const line = (send_date: unknown, mes: string) => JSON.stringify({ name: "A", is_user: false, send_date, mes });
    const chat = fromSillyTavernJsonl(
      [
        `{"user_name":"u","character_name":"c","create_date":"+275760-09-13T00:00:00.000Z"}`,
        line(Number.MAX_VALUE, "1"),
        line("2024-05-10T14:30:00Z", "2"),
        line(-100000000000000, "3"),
        line("0000-01-01T00:00:00Z", "4"),
        line("2030-01-01T00:00:00Z", "5 (in the future)"),
        line("1969-12-31T23:59:59Z", "6 (before 1970)"),
        line("May 10, 300000 2:30pm", "7"),
        line("2024-05-10T14:35:00Z", "8"),
      ].join("\n"),
      now,
    );
    const first = "2024-05-10T14:30:00.000Z";
    expect(chat.createdAt.toISOString()).toBe(first);
    expect(chat.messages.map((m) => m.createdAt.toISOString())).toEqual([first, first, first, first, first, first, first, "2024-05-10T14:35:00.000Z"]);
    // Nothing usable anywhere: the time of import.
    expect(fromSillyTavernJsonl(line("-000300-01-01T00:00:00Z", "x"), now).messages[0]!.createdAt).toEqual(now);
    expect(fromSillyTavernJsonl(line("-000300-01-01T00:00:00Z", "x"), now).createdAt).toEqual(now);
  });
});
