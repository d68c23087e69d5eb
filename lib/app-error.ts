import { isAppErrorCode } from "./errors";
import type { MessageKey, Translate } from "./i18n";

interface ErrorLike {
  message?: string;
  data?: {
    appCode?: unknown;
    appParams?: unknown;
    code?: unknown;
    zodError?: { formErrors?: string[]; fieldErrors?: Record<string, string[] | undefined> } | null;
  } | null;
}

/** A sentence for the reader, in their language, for any error the API returned. */
export function describeError(error: unknown, t: Translate): string {
  const e = (error ?? {}) as ErrorLike;
  const code = e.data?.appCode;
  if (isAppErrorCode(code)) {
    const params = (e.data?.appParams ?? {}) as Record<string, string | number>;
    // A known reason (a card or image problem) has its own sentence.
    const reasonKey = `error.reason.${params.reason}` as MessageKey;
    if (typeof params.reason === "string" && t(reasonKey) !== reasonKey) return t(reasonKey, params);
    return t(`error.${code}` as MessageKey, params);
  }
  if (e.data?.code === "UNAUTHORIZED") return t("error.unauthorized");
  const zod = e.data?.zodError;
  if (zod) {
    const first = zod.formErrors?.[0] ?? Object.values(zod.fieldErrors ?? {}).flat()[0];
    if (first) return first;
  }
  return t("error.generic");
}
