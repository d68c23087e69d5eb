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
  // Avatar generation (issue 12): also stored as a job's errorCode.
  /** AVATAR3D_URL is unset: this server generates no avatars */
  "avatar_generation_off",
  /** the character has no portrait and no image was given */
  "avatar_no_portrait",
  /** the 3D server could not be reached */
  "avatar_unreachable",
  /** the 3D server said the job failed (its own text is never shown) */
  "avatar_failed",
  /** the 3D server reported nothing for AVATAR3D_TIMEOUT_MS */
  "avatar_timeout",
  /** the result was not a complete, valid glTF binary within the limits */
  "avatar_invalid_model",
  /** the app instance running the job stopped, and the job could not be resumed */
  "avatar_interrupted",
  /** the account already has AVATAR_JOBS_PER_USER generations queued or running (params: max) */
  "avatar_too_many_jobs",
] as const;
export type AppErrorCode = (typeof APP_ERROR_CODES)[number];

export function isAppErrorCode(value: unknown): value is AppErrorCode {
  return typeof value === "string" && (APP_ERROR_CODES as readonly string[]).includes(value);
}
