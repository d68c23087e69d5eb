import { DomainError } from "@/server/errors";

/** Every `params.reason` a card import fails with; the UI picks its sentence by it. */
export const CARD_ERROR_REASONS = [
  "card_not_card_file",
  "card_malformed_png",
  "card_no_chunk",
  "card_bad_base64",
  "card_bad_json",
  "card_unknown_spec",
  "card_field_too_long",
  "card_invalid",
  "card_too_large",
] as const;
export type CardErrorReason = (typeof CARD_ERROR_REASONS)[number];

export function cardError(reason: CardErrorReason, message: string, params: Record<string, string | number> = {}): DomainError {
  return new DomainError("bad_input", message, { ...params, reason });
}
