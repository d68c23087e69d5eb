import { isAppErrorCode } from "./errors";
import type { MessageKey, Translate } from "./i18n";
import { zodIssueSentence, type ZodIssueData } from "./zod-issue";

interface ErrorLike {
  message?: string;
  data?: {
    appCode?: unknown;
    appParams?: unknown;
    code?: unknown;
    zodError?: { formErrors?: string[]; fieldErrors?: Record<string, string[] | undefined> } | null;
    /** the same problems by kind and limit, to be said in the reader's language */
    zodIssues?: ZodIssueData[] | null;
  } | null;
}

/** What the form calls a character field that an error names (`scenario.situation` → "상황"). */
const FIELD_LABELS: Record<string, MessageKey> = {
  name: "form.name",
  description: "form.description",
  persona: "form.persona",
  personality: "form.personality",
  creatorNotes: "form.creatorNotes",
  lorebook: "lorebook.title",
  greeting: "form.greeting",
  alternateGreetings: "form.alternateGreetings",
  exampleDialogue: "form.exampleDialogue",
  systemPrompt: "form.systemPrompt",
  category: "form.category",
  tags: "form.tags",
  scenario: "character.scenario",
  "scenario.opponent": "character.opponent",
  "scenario.situation": "character.situation",
  "scenario.background": "character.background",
  "settings.temperature": "settings.temperature",
  "settings.maxTokens": "settings.maxTokens",
  "settings.ttsDelayMs": "settings.ttsDelay",
  temperature: "settings.temperature",
  maxTokens: "settings.maxTokens",
};

function fieldLabel(field: string, t: Translate) {
  const key = FIELD_LABELS[field] ?? FIELD_LABELS[field.split(".")[0] ?? ""];
  return key ? t(key) : field;
}

/** A known reason (a card or image problem) has its own sentence; a detail not given is left out. */
function describeReason(params: Record<string, string | number>, t: Translate): string | null {
  const key = `error.reason.${params.reason}` as MessageKey;
  const text = t(key, typeof params.field === "string" && params.field ? { ...params, field: fieldLabel(params.field, t) } : params);
  if (text === key) return null;
  return text.replace(/\s*\(\{\w+\}\)/g, "");
}

/** "Too many uploads for now. Try again in 3 min." */
function describeLimit(params: Record<string, string | number>, t: Translate): string {
  const actionKey = `limit.action.${params.action}` as MessageKey;
  const action = t(actionKey) === actionKey ? t("limit.action.other") : t(actionKey);
  const seconds = Math.max(1, Number(params.retryAfterSeconds) || 60);
  const wait = seconds < 90 ? t("time.seconds", { n: seconds }) : t("time.minutes", { n: Math.ceil(seconds / 60) });
  return t("error.limit_reached", { action, wait });
}

/** A sentence for the reader, in their language, for any error the API returned. */
export function describeError(error: unknown, t: Translate): string {
  const e = (error ?? {}) as ErrorLike;
  const code = e.data?.appCode;
  if (isAppErrorCode(code)) {
    const params = (e.data?.appParams ?? {}) as Record<string, string | number>;
    if (code === "limit_reached") return describeLimit(params, t);
    const reason = typeof params.reason === "string" ? describeReason(params, t) : null;
    return reason ?? t(`error.${code}` as MessageKey, params);
  }
  if (e.data?.code === "UNAUTHORIZED") return t("error.unauthorized");
  const issue = e.data?.zodIssues?.[0];
  if (issue) {
    const sentence = zodIssueSentence(issue, t);
    const label = issue.path && (FIELD_LABELS[issue.path] ?? FIELD_LABELS[issue.path.split(".")[0] ?? ""]);
    return label ? t("zod.field", { field: t(label), sentence }) : sentence;
  }
  const zod = e.data?.zodError;
  if (zod) {
    const first = zod.formErrors?.[0] ?? Object.values(zod.fieldErrors ?? {}).flat()[0];
    if (first) return first;
  }
  return t("error.generic");
}

/**
 * A form's problems by its top-level field, in the reader's language: `{ name: ["이름을 입력해 주세요."] }`.
 */
export function fieldErrorsOf(error: unknown, t: Translate): Record<string, string[] | undefined> {
  const e = (error ?? {}) as ErrorLike;
  const issues = e.data?.zodIssues;
  if (!issues) return e.data?.zodError?.fieldErrors ?? {};
  const fields: Record<string, string[]> = {};
  for (const issue of issues) {
    const field = issue.path.split(".")[0];
    if (field) (fields[field] ??= []).push(zodIssueSentence(issue, t));
  }
  return fields;
}
