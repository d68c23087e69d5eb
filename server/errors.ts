import { TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import type { AppErrorCode } from "@/lib/errors";

const TRPC_CODE: Record<AppErrorCode, TRPC_ERROR_CODE_KEY> = {
  not_found: "NOT_FOUND",
  forbidden: "FORBIDDEN",
  bad_input: "BAD_REQUEST",
  busy: "TOO_MANY_REQUESTS",
  rate_limited: "TOO_MANY_REQUESTS",
  limit_reached: "TOO_MANY_REQUESTS",
  reply_in_progress: "CONFLICT",
  llm_unreachable: "SERVICE_UNAVAILABLE",
  llm_model_missing: "PRECONDITION_FAILED",
  llm_failed: "BAD_GATEWAY",
  llm_timeout: "TIMEOUT",
  reply_failed: "INTERNAL_SERVER_ERROR",
  tts_unavailable: "SERVICE_UNAVAILABLE",
  tts_failed: "BAD_GATEWAY",
  avatar_generation_off: "PRECONDITION_FAILED",
  avatar_no_portrait: "PRECONDITION_FAILED",
  avatar_unreachable: "SERVICE_UNAVAILABLE",
  avatar_failed: "BAD_GATEWAY",
  avatar_timeout: "TIMEOUT",
  avatar_invalid_model: "BAD_REQUEST",
  avatar_interrupted: "INTERNAL_SERVER_ERROR",
  avatar_too_many_jobs: "TOO_MANY_REQUESTS",
};

/**
 * The app's one error type. `code` says what went wrong for the UI (which shows a sentence in
 * the reader's language, see lib/errors.ts); `params` fill that sentence; `message` is the
 * English sentence for API users and logs.
 */
export class DomainError extends Error {
  constructor(
    readonly code: AppErrorCode,
    message: string,
    readonly params: Record<string, string | number> = {},
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export function toTRPCError(error: unknown): TRPCError {
  if (error instanceof TRPCError) return error;
  if (error instanceof DomainError) {
    return new TRPCError({ code: TRPC_CODE[error.code], message: error.message, cause: error });
  }
  return new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "Something went wrong on our side.", cause: error });
}

export const notFound = (what: string) => new DomainError("not_found", `${what} was not found.`, { what });
