import { describe, expect, it } from "vitest";
import { buildChatMessages, buildSystemPrompt, substitutePlaceholders, systemPromptSections, toChatMessages } from "./prompt";

const character = {
  name: "헤르미온느",
  persona: "{{char}}는 호그와트의 우등생이다. {{user}}의 친구.",
  personality: "호기심 많고 고집 셈",
  exampleDialogue: "<START>\n{{user}}: 안녕\n{{char}}: 어머, 안녕!",
  systemPrompt: "",
};
const scenario = { opponent: "같은 반 친구", situation: "도서관", background: "호그와트" };

describe("placeholders", () => {
  it("replaces {{char}}/<BOT> and {{user}}/<USER> in any case", () => {
    expect(substitutePlaceholders("{{Char}} and <bot> meet {{USER}} / <User>", { char: "A", user: "B" })).toBe("A and A meet B / B");
  });
});

describe("system prompt", () => {
  it("holds the persona, the scenario, the rules and the example dialogue, with names filled in", () => {
    const prompt = buildSystemPrompt(character, scenario, "민지");
    expect(prompt).toContain("헤르미온느는 호그와트의 우등생이다. 민지의 친구.");
    expect(prompt).toContain("민지 is: 같은 반 친구");
    expect(prompt).toContain("Situation: 도서관");
    expect(prompt).toContain("Answer in the language 민지 writes in");
    expect(prompt).toContain("민지: 안녕\n헤르미온느: 어머, 안녕!");
    expect(prompt).toContain("Personality: 호기심 많고 고집 셈");
    expect(prompt).not.toMatch(/\{\{|<START>/);
  });

  it("lets a card's system prompt replace the default, keeping it where {{original}} stands", () => {
    const prompt = buildSystemPrompt({ ...character, systemPrompt: "Be terse. {{original}}" }, scenario, "민지");
    expect(prompt.startsWith("Be terse. You are 헤르미온느")).toBe(true);
    expect(buildSystemPrompt({ ...character, systemPrompt: "Only this." }, scenario, "민지")).toBe("Only this.");
  });

  it("skips empty scenario fields", () => {
    const prompt = buildSystemPrompt(character, { opponent: "", situation: "", background: "" }, "민지");
    expect(prompt).not.toContain("## Scenario");
  });

  it("puts world info before the character and the persona after the scenario", () => {
    const extras = { worldInfo: ["용은 북쪽 산에 산다.", "왕국은 전쟁 중이다."], persona: { name: "민지", description: "{{user}}는 떠돌이 기사다." } };
    const { content, sections } = systemPromptSections(character, scenario, "민지", extras);
    expect(sections.map((s) => s.part)).toEqual(["intro", "world_info", "character", "scenario", "persona", "rules", "examples"]);
    expect(content).toContain("## World info\n용은 북쪽 산에 산다.\n왕국은 전쟁 중이다.");
    expect(content).toContain("## 민지\n민지는 떠돌이 기사다.");
    expect(content.indexOf("## World info")).toBeLessThan(content.indexOf("## Character"));
    expect(content.indexOf("## Scenario")).toBeLessThan(content.indexOf("## 민지"));
    // the sections are the message, part by part
    expect(sections.map((s) => s.text).join("\n\n")).toBe(content);
  });

  it("keeps world info and the persona beside a card's own system prompt", () => {
    const extras = { worldInfo: ["용은 북쪽 산에 산다."], persona: { name: "민지", description: "떠돌이 기사." } };
    const { content, sections } = systemPromptSections({ ...character, systemPrompt: "Only this." }, scenario, "민지", extras);
    expect(sections.map((s) => s.part)).toEqual(["world_info", "card_system_prompt", "persona"]);
    expect(content).toBe("## World info\n용은 북쪽 산에 산다.\n\nOnly this.\n\n## 민지\n떠돌이 기사.");
  });

  it("splits a card prompt around {{original}} into its parts", () => {
    const { content, sections } = systemPromptSections({ ...character, systemPrompt: "Be terse. {{original}}\nAlways polite." }, scenario, "민지");
    expect(sections[0]).toEqual({ part: "card_system_prompt", text: "Be terse. " });
    expect(sections.at(-1)).toEqual({ part: "card_system_prompt", text: "\nAlways polite." });
    expect(content.endsWith("\nAlways polite.")).toBe(true);
  });
});

describe("chat messages", () => {
  const turns = [
    { role: "assistant" as const, content: "안녕, {{user}}!" },
    { role: "user" as const, content: "오늘 뭐 해?" },
    { role: "assistant" as const, content: "숙제." },
    { role: "user" as const, content: "같이 하자." },
  ];
  const base = { character, scenario, userName: "민지", summary: "", turns };

  it("sends the system prompt, then the summary, then the turns in order", () => {
    const messages = buildChatMessages({ ...base, summary: "둘은 숙제를 했다.", turns: turns.slice(0, 2) });
    expect(messages.map((m) => m.role)).toEqual(["system", "system", "assistant", "user"]);
    expect(messages.map((m) => m.part)).toEqual(["system", "summary", "history", "history"]);
    expect(messages[1]?.content).toContain("둘은 숙제를 했다.");
    expect(messages[2]?.content).toBe("안녕, 민지!");
  });

  it("puts the author's note `depth` messages from the end", () => {
    const at = (depth: number) => buildChatMessages({ ...base, authorNote: { text: "{{char}}는 졸리다.", depth } }).map((m) => m.part);
    expect(at(0)).toEqual(["system", "history", "history", "history", "history", "author_note"]);
    expect(at(1)).toEqual(["system", "history", "history", "history", "author_note", "history"]);
    expect(at(4)).toEqual(["system", "author_note", "history", "history", "history", "history"]);
    // deeper than the conversation: at its start, still after the summary
    expect(buildChatMessages({ ...base, summary: "요약", authorNote: { text: "노트", depth: 50 } }).map((m) => m.part).slice(0, 3)).toEqual([
      "system",
      "summary",
      "author_note",
    ]);
    const note = buildChatMessages({ ...base, authorNote: { text: "{{char}}는 졸리다.", depth: 0 } }).at(-1)!;
    expect(note).toMatchObject({ role: "system", content: "헤르미온느는 졸리다." });
  });

  it("leaves an empty author's note out", () => {
    expect(buildChatMessages({ ...base, authorNote: { text: "  ", depth: 0 } }).some((m) => m.part === "author_note")).toBe(false);
  });

  it("ends with the reply being continued, after the author's note", () => {
    const messages = buildChatMessages({ ...base, authorNote: { text: "노트", depth: 0 }, continueFrom: "그래, 먼저" });
    expect(messages.slice(-2).map((m) => [m.part, m.role])).toEqual([
      ["author_note", "system"],
      ["continuation", "assistant"],
    ]);
  });

  it("sends Ollama only roles and text", () => {
    const sent = toChatMessages(buildChatMessages(base));
    expect(Object.keys(sent[0]!).sort()).toEqual(["content", "role"]);
  });
});
