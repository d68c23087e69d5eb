import { describe, expect, it } from "vitest";
import { buildChatMessages, buildSystemPrompt, substitutePlaceholders } from "./prompt";

const character = {
  name: "헤르미온느",
  persona: "{{char}}는 호그와트의 우등생이다. {{user}}의 친구.",
  cardExtras: { personality: "호기심 많고 고집 셈" },
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
});

describe("chat messages", () => {
  it("sends the system prompt, then the summary, then the turns in order", () => {
    const messages = buildChatMessages({
      character,
      scenario,
      userName: "민지",
      summary: "둘은 숙제를 했다.",
      turns: [
        { role: "assistant", content: "안녕, {{user}}!" },
        { role: "user", content: "오늘 뭐 해?" },
      ],
    });
    expect(messages.map((m) => m.role)).toEqual(["system", "system", "assistant", "user"]);
    expect(messages[1]?.content).toContain("둘은 숙제를 했다.");
    expect(messages[2]?.content).toBe("안녕, 민지!");
  });
});
