import type { Scenario } from "@/lib/schemas";
import type { ChatMessage } from "@/server/llm/ollama";

export interface PromptCharacter {
  name: string;
  persona: string;
  /** a short summary of temperament, after the persona (card `personality`) */
  personality: string;
  exampleDialogue: string;
  systemPrompt: string;
}

/** Who the user plays: `{{user}}` is their name, and the description joins the system prompt. */
export interface PromptPersona {
  name: string;
  description: string;
}

export interface PromptTurn {
  role: "user" | "assistant";
  content: string;
}

/** The parts of the system message, as the prompt inspector names them. */
export type SystemPart = "intro" | "world_info" | "character" | "scenario" | "persona" | "rules" | "examples" | "card_system_prompt";
/** What each message of the prompt is. */
export type MessagePart = "system" | "summary" | "author_note" | "history" | "continuation";

export interface PromptSection {
  part: SystemPart;
  text: string;
}

export interface PromptMessage extends ChatMessage {
  part: MessagePart;
  /** the system message's parts (their text joined makes up its content) */
  sections?: PromptSection[];
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

const SECTION_BREAK = "\n\n";

export interface SystemPromptExtras {
  /** the active lorebook entries' text, in order */
  worldInfo?: string[];
  persona?: PromptPersona | null;
}

/**
 * The system message in its parts. Ours: world info (before the character, as SillyTavern puts
 * it by default), the character, the scenario, the user's persona, the rules, the example
 * dialogue. A card's own system prompt replaces ours, and `{{original}}` inside it stands for
 * ours; without `{{original}}` the world info and the persona still go with it.
 */
export function systemPromptSections(character: PromptCharacter, scenario: Scenario, userName: string, extras: SystemPromptExtras = {}) {
  const names = { char: character.name, user: userName };
  const worldInfo = section("world_info", "World info", extras.worldInfo ?? []);
  const persona = section("persona", "{{user}}", [extras.persona?.description]);
  const ours = [
    { part: "intro", text: `You are {{char}}, a character in an interactive role-play with {{user}}.` } as const,
    worldInfo,
    section("character", "Character", [character.persona, character.personality.trim() && `Personality: ${character.personality.trim()}`]),
    section("scenario", "Scenario", [
      scenario.opponent && `{{user}} is: ${scenario.opponent}`,
      scenario.situation && `Situation: ${scenario.situation}`,
      scenario.background && `Background: ${scenario.background}`,
    ]),
    persona,
    section("rules", "Rules", [ROLEPLAY_RULES]),
    section("examples", "Example dialogue (style reference only, not part of this conversation)", [
      character.exampleDialogue.replace(/^<START>\s*$/gim, "---").trim(),
    ]),
  ].filter((s): s is PromptSection => s !== null);
  const defaultPrompt = ours.map((s) => s.text).join(SECTION_BREAK);

  let sections: PromptSection[] = ours;
  let content = defaultPrompt;
  const cardPrompt = character.systemPrompt;
  if (cardPrompt.trim()) {
    const original = /\{\{original\}\}/i.exec(cardPrompt);
    if (original) {
      const before = cardPrompt.slice(0, original.index);
      const after = cardPrompt.slice(original.index + original[0].length).replace(/\{\{original\}\}/gi, defaultPrompt);
      content = before + defaultPrompt + after;
      sections = [cardSection(before), ...ours, cardSection(after)].filter((s): s is PromptSection => s !== null);
    } else {
      const parts = [worldInfo, { part: "card_system_prompt", text: cardPrompt } as const, persona].filter((s): s is PromptSection => s !== null);
      content = parts.map((s) => s.text).join(SECTION_BREAK);
      sections = parts;
    }
  }
  return {
    content: substitutePlaceholders(content, names),
    sections: sections.map((s) => ({ part: s.part, text: substitutePlaceholders(s.text, names) })),
  };
}

/** The system message as text (see systemPromptSections). */
export function buildSystemPrompt(character: PromptCharacter, scenario: Scenario, userName: string, extras: SystemPromptExtras = {}) {
  return systemPromptSections(character, scenario, userName, extras).content;
}

function cardSection(text: string): PromptSection | null {
  return text.trim() ? { part: "card_system_prompt", text } : null;
}

function section(part: SystemPart, title: string, parts: (string | false | null | undefined)[]): PromptSection | null {
  const body = parts.filter((p): p is string => Boolean(p && p.trim())).join("\n");
  return body ? { part, text: `## ${title}\n${body}` } : null;
}

export interface AuthorNote {
  text: string;
  /** how many messages from the end of the conversation it goes (0: after the last one) */
  depth: number;
}

/**
 * The messages sent to Ollama: the system prompt, the running summary, then the conversation so
 * far, with the author's note `depth` messages from its end (SillyTavern's "in-chat @ depth").
 * A reply being continued goes last, as the assistant message the model carries on.
 */
export function buildChatMessages(input: {
  character: PromptCharacter;
  scenario: Scenario;
  userName: string;
  summary: string;
  turns: PromptTurn[];
  worldInfo?: string[];
  persona?: PromptPersona | null;
  authorNote?: AuthorNote;
  continueFrom?: string;
}): PromptMessage[] {
  const names = { char: input.character.name, user: input.userName };
  const system = systemPromptSections(input.character, input.scenario, input.userName, { worldInfo: input.worldInfo, persona: input.persona });
  const messages: PromptMessage[] = [{ role: "system", content: system.content, part: "system", sections: system.sections }];
  if (input.summary.trim()) {
    messages.push({ role: "system", content: summaryText(input.summary), part: "summary" });
  }
  const history: PromptMessage[] = input.turns.map((turn) => ({
    role: turn.role,
    content: substitutePlaceholders(turn.content, names),
    part: "history",
  }));
  const note = input.authorNote?.text.trim();
  if (note) {
    const at = Math.max(0, history.length - Math.max(0, input.authorNote!.depth));
    history.splice(at, 0, { role: "system", content: substitutePlaceholders(note, names), part: "author_note" });
  }
  messages.push(...history);
  if (input.continueFrom) messages.push({ role: "assistant", content: input.continueFrom, part: "continuation" });
  return messages;
}

export function summaryText(summary: string) {
  return `Summary of the earlier conversation:\n${summary.trim()}`;
}

/** Only what Ollama reads: the parts are for the prompt inspector. */
export function toChatMessages(messages: readonly PromptMessage[]): ChatMessage[] {
  return messages.map(({ role, content }) => ({ role, content }));
}
