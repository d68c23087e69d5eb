import type { Lorebook, Scenario } from "@/lib/schemas";
import { budgetFor, estimateMessages, recentTurnsThatFit } from "./budget";
import { activateLorebook, type LoreActivation } from "./lorebook";
import { buildChatMessages, type PromptCharacter, type PromptMessage, type PromptPersona } from "./prompt";

/*
 * The one place a reply's prompt is put together from a chat: the engine sends what this returns,
 * and the prompt inspector shows it, so the two cannot drift apart.
 */

export interface ComposeInput {
  session: {
    scenario: Scenario;
    summary: string;
    tokenScale: number | null;
    settings: { maxTokens: number };
    authorNote: string;
    authorNoteDepth: number;
  };
  character: PromptCharacter & { lorebook: Lorebook };
  /** the chat's persona, if it has one: then `{{user}}` is the persona's name */
  persona: PromptPersona | null;
  /** the account's name, `{{user}}` without a persona */
  accountName: string;
  /** the conversation the summary does not cover, oldest first */
  turns: readonly { role: "user" | "assistant"; content: string }[];
  /** the model's context window */
  window: number;
  /** the text of a reply being continued */
  continueFrom?: string;
}

export interface ComposedPrompt {
  messages: PromptMessage[];
  /** the system message's text (memory folding budgets with it) */
  system: string;
  userName: string;
  lore: LoreActivation;
  /** estimated tokens of the whole prompt, uncorrected (the scale is learned against it) */
  estimate: number;
  budget: ReturnType<typeof budgetFor>;
  /** older turns left out because they did not fit */
  omittedTurns: number;
}

/** `{{user}}` for a chat without a persona: the account's name. */
export function accountNameOf(user: { name?: string | null }) {
  return user.name || "User";
}

/** `{{user}}`: the chat's persona, else the account's name. */
export function promptUserName(persona: PromptPersona | null, accountName: string) {
  return persona?.name.trim() || accountName;
}

/**
 * System prompt (with the lorebook entries the latest messages activate and the persona), the
 * running summary as it is, the author's note, then the recent turns that fit the model's
 * context window (the oldest that don't are left out).
 */
export function composePrompt(input: ComposeInput): ComposedPrompt {
  const { session, character } = input;
  const scale = session.tokenScale ?? 1;
  const userName = promptUserName(input.persona, input.accountName);
  const budget = budgetFor(input.window, session.settings.maxTokens);
  const lore = activateLorebook(character.lorebook, input.turns, scale);
  const common = {
    character,
    scenario: session.scenario,
    userName,
    summary: session.summary,
    worldInfo: lore.active.map((entry) => entry.content),
    persona: input.persona,
    authorNote: { text: session.authorNote, depth: session.authorNoteDepth },
    continueFrom: input.continueFrom,
  };
  // Everything but the turns, to learn what room the turns have.
  const fixed = buildChatMessages({ ...common, turns: [] });
  const available = budget.prompt - estimateMessages(fixed, scale);
  const recent = recentTurnsThatFit(input.turns, available, scale);
  const messages = buildChatMessages({ ...common, turns: recent });
  const system = messages[0]!.content;
  return {
    messages,
    system,
    userName,
    lore,
    estimate: estimateMessages(messages),
    budget,
    omittedTurns: input.turns.length - recent.length,
  };
}
