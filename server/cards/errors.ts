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
  // CharX (.charx zip) import (issue 12)
  "card_charx_too_large",
  "card_charx_damaged",
  "card_charx_encrypted",
  "card_charx_too_many_files",
  "card_charx_duplicate",
  "card_charx_bomb",
  "card_charx_no_card",
  "card_charx_missing_file",
  "card_charx_file_too_large",
  "card_charx_bad_path",
  // Cards as RisuAI makes them (issue 16)
  "card_field_too_many",
  "card_assets_too_many",
  "card_assets_too_large",
  "card_asset_not_image",
  "card_asset_missing",
] as const;
export type CardErrorReason = (typeof CARD_ERROR_REASONS)[number];

export function cardError(reason: CardErrorReason, message: string, params: Record<string, string | number> = {}): DomainError {
  return new DomainError("bad_input", message, { ...params, reason });
}
