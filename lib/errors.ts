/** Error codes the server sends in `error.data.appCode`; the UI turns each into a sentence. */
export const APP_ERROR_CODES = [
  "not_found",
  "forbidden",
  "bad_input",
  "busy",
  "rate_limited",
  /** an expensive or storage-growing call over its per-account or global limit (params: action, retryAfterSeconds) */
  "limit_reached",
  "reply_in_progress",
  "llm_unreachable",
  "llm_model_missing",
  "llm_failed",
  "llm_timeout",
  /** the reply could not be read or written on the database (its message is kept) */
  "reply_failed",
  "tts_unavailable",
  /** GPT-SoVITS answered but could not speak the text (a bad reference path, an inference error) */
  "tts_failed",
] as const;
export type AppErrorCode = (typeof APP_ERROR_CODES)[number];

export function isAppErrorCode(value: unknown): value is AppErrorCode {
  return typeof value === "string" && (APP_ERROR_CODES as readonly string[]).includes(value);
}
