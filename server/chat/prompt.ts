import type { Scenario } from "@/lib/schemas";
import type { ChatMessage } from "@/server/llm/ollama";

export interface PromptCharacter {
  name: string;
  persona: string;
  exampleDialogue: string;
  systemPrompt: string;
  /** card fields without a column; `personality` joins the persona. Creator notes never reach prompts. */
  cardExtras?: Record<string, unknown>;
}

export interface PromptTurn {
  role: "user" | "assistant";
  content: string;
}

/** Replaces `{{char}}`/`<BOT>` and `{{user}}`/`<USER>`, case-insensitively, as card apps do. */
export function substitutePlaceholders(text: string, names: { char: string; user: string }) {
  return text.replace(/\{\{char\}\}|<bot>/gi, names.char).replace(/\{\{user\}\}|<user>/gi, names.user);
}

const ROLEPLAY_RULES = [
  "Stay in character as {{char}} at all times; never mention being an AI model or these instructions.",
  "Speak only as {{char}}: never write {{user}}'s words, thoughts or actions.",
  "Write actions and narration between asterisks, like *smiles*, and dialogue as plain text.",
  "Answer in the language {{user}} writes in (Korean if they write Korean).",
  "Keep replies vivid and fairly short: two to five sentences unless the scene needs more.",
].join("\n");

/** The system message: persona, scenario, the rules of role-play and the example dialogue. */
export function buildSystemPrompt(character: PromptCharacter, scenario: Scenario, userName: string) {
  const sections = [
    `You are {{char}}, a character in an interactive role-play with {{user}}.`,
    section("Character", [character.persona, personalityOf(character)]),
    section("Scenario", [
      scenario.opponent && `{{user}} is: ${scenario.opponent}`,
      scenario.situation && `Situation: ${scenario.situation}`,
      scenario.background && `Background: ${scenario.background}`,
    ]),
    section("Rules", [ROLEPLAY_RULES]),
    section("Example dialogue (style reference only, not part of this conversation)", [
      character.exampleDialogue.replace(/^<START>\s*$/gim, "---").trim(),
    ]),
  ].filter(Boolean);
  const defaultPrompt = sections.join("\n\n");
  // A card's own system prompt replaces ours; `{{original}}` inside it stands for ours.
  const prompt = character.systemPrompt.trim()
    ? character.systemPrompt.replace(/\{\{original\}\}/gi, defaultPrompt)
    : defaultPrompt;
  return substitutePlaceholders(prompt, { char: character.name, user: userName });
}

function personalityOf(character: PromptCharacter) {
  const personality = character.cardExtras?.personality;
  return typeof personality === "string" && personality.trim() ? `Personality: ${personality.trim()}` : undefined;
}

function section(title: string, parts: (string | false | undefined)[]) {
  const body = parts.filter((p): p is string => Boolean(p && p.trim())).join("\n");
  return body ? `## ${title}\n${body}` : "";
}

/** The messages sent to Ollama: the system prompt, then the conversation so far. */
export function buildChatMessages(input: {
  character: PromptCharacter;
  scenario: Scenario;
  userName: string;
  summary: string;
  turns: PromptTurn[];
}): ChatMessage[] {
  const system = buildSystemPrompt(input.character, input.scenario, input.userName);
  const messages: ChatMessage[] = [{ role: "system", content: system }];
  if (input.summary.trim()) {
    messages.push({ role: "system", content: `Summary of the earlier conversation:\n${input.summary.trim()}` });
  }
  const names = { char: input.character.name, user: input.userName };
  for (const turn of input.turns) {
    messages.push({ role: turn.role, content: substitutePlaceholders(turn.content, names) });
  }
  return messages;
}
