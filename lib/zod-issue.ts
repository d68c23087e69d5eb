import type { ZodError } from "zod";
import { TEXT_MESSAGES } from "./schemas";
import type { MessageKey, Translate } from "./i18n";

/**
 * What the browser needs to say an input problem in the reader's language: the server's zod
 * messages are English sentences, so an issue leaves with its kind and limits, and the UI turns it
 * into a catalog sentence (`maxTokens` 8 → "16 이상이어야 해요").
 */
export interface ZodIssueData {
  /** `settings.maxTokens`, `scenario.situation`; "" for the whole input */
  path: string;
  code: string;
  /** what was measured: "number", "string", "array"… */
  origin?: string;
  minimum?: number;
  maximum?: number;
  /** an invalid_format issue's format: "email", "regex"… */
  format?: string;
  /** the schema's English sentence: a known one has its own catalog sentence */
  message: string;
}

/** Enough for a form to mark each field, not so many that a hostile input grows the response. */
const MAX_ISSUES = 20;

const asNumber = (value: unknown) => (typeof value === "number" || typeof value === "bigint" ? Number(value) : undefined);

export function zodIssues(error: ZodError): ZodIssueData[] {
  return error.issues.slice(0, MAX_ISSUES).map((issue) => {
    const raw = issue as unknown as Record<string, unknown>;
    return {
      path: issue.path.map(String).join("."),
      code: issue.code,
      origin: typeof raw.origin === "string" ? raw.origin : undefined,
      minimum: asNumber(raw.minimum),
      maximum: asNumber(raw.maximum),
      format: typeof raw.format === "string" ? raw.format : undefined,
      message: issue.message,
    };
  });
}

/** The schemas' own sentences (lib/schemas.ts) that say more than their kind and limit. */
const KNOWN_MESSAGES: Record<string, MessageKey> = {
  [TEXT_MESSAGES.forbidden]: "zod.forbidden",
  [TEXT_MESSAGES.lineBreak]: "zod.lineBreak",
  [TEXT_MESSAGES.bidi]: "zod.bidi",
  [TEXT_MESSAGES.invisible]: "zod.invisible",
  "Write a message first.": "zod.messageRequired",
  "Give the chat a title.": "zod.titleRequired",
  "Give the token a name.": "zod.tokenNameRequired",
  "Give the character a name.": "form.nameRequired",
  "Give the voice a name.": "zod.voiceNameRequired",
  "The reference audio path on the TTS server is required.": "zod.refAudioRequired",
  "Enter a valid email address.": "zod.email",
  "This is not a valid id.": "zod.invalid",
  "This is not a model name.": "zod.modelName",
  "Nothing to say.": "zod.required",
  "A tag cannot be empty.": "zod.required",
  "A keyword cannot be empty.": "zod.required",
  "The input is nested too deeply.": "zod.invalid",
  "The input has a key that is not allowed.": "zod.invalid",
};

/** The sentence for one issue, without the field's name. */
export function zodIssueSentence(issue: ZodIssueData, t: Translate): string {
  const known = KNOWN_MESSAGES[issue.message];
  if (known) return t(known);
  const { code, origin, minimum, maximum } = issue;
  if (code === "too_small" && minimum !== undefined) {
    if (origin === "string") return minimum <= 1 ? t("zod.required") : t("zod.string.min", { min: minimum });
    if (origin === "array" || origin === "set") return t("zod.array.min", { min: minimum });
    return t("zod.number.min", { min: minimum });
  }
  if (code === "too_big" && maximum !== undefined) {
    if (origin === "string") return t("zod.string.max", { max: maximum });
    if (origin === "array" || origin === "set") return t("zod.array.max", { max: maximum });
    return t("zod.number.max", { max: maximum });
  }
  if (code === "invalid_format" && issue.format === "email") return t("zod.email");
  if (code === "invalid_type" || code === "invalid_value" || code === "invalid_union") return t("zod.choice");
  return t("zod.invalid");
}
