import { DomainError } from "@/server/errors";

/** A `like` pattern for a substring: `%` and `_` typed by a person match themselves. */
export function containsPattern(text: string) {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Keyset cursor for lists ordered by (time desc, id desc): stable while rows are added. */
export function encodeCursor(at: Date, id: string) {
  return `${at.toISOString()}|${id}`;
}

/** What encodeCursor writes: an ISO time of a row (years 1970–9999; Postgres has no year 0) and a row id. */
const CURSOR = /^((?:19[7-9]\d|[2-9]\d{3})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z)\|([A-Za-z0-9_-]{1,64})$/;

/** A cursor from encodeCursor; anything else (a made-up date, a stray character) is bad input. */
export function decodeCursor(cursor: string) {
  const match = CURSOR.exec(cursor);
  const date = new Date(match?.[1] ?? "");
  if (!match || Number.isNaN(date.getTime())) throw new DomainError("bad_input", "The page cursor is not valid.");
  return { at: date, id: match[2]! };
}
