import { DomainError } from "@/server/errors";

/** A `like` pattern for a substring: `%` and `_` typed by a person match themselves. */
export function containsPattern(text: string) {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Keyset cursor for lists ordered by (time desc, id desc): stable while rows are added. */
export function encodeCursor(at: Date, id: string) {
  return `${at.toISOString()}|${id}`;
}

export function decodeCursor(cursor: string) {
  const [at, id] = cursor.split("|");
  const date = new Date(at ?? "");
  if (!id || Number.isNaN(date.getTime())) throw new DomainError("bad_input", "The page cursor is not valid.");
  return { at: date, id };
}
