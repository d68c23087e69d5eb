import { describe, expect, it } from "vitest";
import { lorebookSchema } from "@/lib/schemas";
import { estimateMessages } from "./budget";
import { composePrompt, type ComposeInput } from "./compose";

const base = (fields: Partial<ComposeInput> = {}): ComposeInput => ({
  session: {
    scenario: { opponent: "", situation: "", background: "" },
    summary: "",
    tokenScale: null,
    settings: { maxTokens: 256 },
    authorNote: "",
    authorNoteDepth: 4,
  },
  character: {
    name: "서연",
    persona: "{{char}}는 서점 점원이다.",
    personality: "",
    exampleDialogue: "",
    systemPrompt: "",
    lorebook: lorebookSchema.parse({ entries: [{ id: "cat", keys: ["고양이"], content: "회색 고양이가 산다." }] }),
  },
  persona: null,
  accountName: "계정",
  turns: [
    { role: "assistant", content: "어서 오세요, {{user}}님!" },
    { role: "user", content: "고양이 있어요?" },
  ],
  window: 4096,
  ...fields,
});

describe("composePrompt", () => {
  it("names {{user}} after the persona, else the account", () => {
    expect(composePrompt(base()).messages[1]!.content).toBe("어서 오세요, 계정님!");
    const withPersona = composePrompt(base({ persona: { name: "하루", description: "단골 손님." } }));
    expect(withPersona.userName).toBe("하루");
    expect(withPersona.messages[1]!.content).toBe("어서 오세요, 하루님!");
    expect(withPersona.system).toContain("## 하루\n단골 손님.");
  });

  it("puts the activated entries into the system prompt and reports them", () => {
    const composed = composePrompt(base());
    expect(composed.system).toContain("## World info\n회색 고양이가 산다.");
    expect(composed.lore.active.map((e) => e.id)).toEqual(["cat"]);
  });

  it("leaves out the oldest turns that don't fit beside everything else, keeping the newest", () => {
    const turns = Array.from({ length: 40 }, (_, i) => ({ role: i % 2 ? ("user" as const) : ("assistant" as const), content: "가".repeat(100) }));
    const composed = composePrompt(base({ turns, window: 2048, session: { ...base().session, authorNote: "짧게.", authorNoteDepth: 0 } }));
    expect(composed.omittedTurns).toBeGreaterThan(0);
    expect(composed.messages.filter((m) => m.part === "history")).toHaveLength(40 - composed.omittedTurns);
    expect(estimateMessages(composed.messages)).toBeLessThanOrEqual(composed.budget.prompt);
    expect(composed.messages.at(-1)!.part).toBe("author_note");
  });

  it("ends with the reply being continued", () => {
    const composed = composePrompt(base({ continueFrom: "네, 있어요. 이름은" }));
    expect(composed.messages.at(-1)).toMatchObject({ role: "assistant", content: "네, 있어요. 이름은", part: "continuation" });
  });
});
