/**
 * Dates in the reader's time zone and language. The browser tells the server its zone in a
 * cookie (components/time-zone-sync.tsx), so a server-rendered time and the browser's hydration
 * of it agree, and both are the reader's, not the server's.
 */

export const TIME_ZONE_COOKIE = "af-tz";
/** Until the browser has said (its very first request), times are shown in UTC on both sides. */
export const DEFAULT_TIME_ZONE = "UTC";

/** An IANA zone this runtime knows ("Asia/Seoul"); anything else is ignored. */
export function isTimeZone(value: unknown): value is string {
  if (typeof value !== "string" || value.length === 0 || value.length > 64 || !/^[A-Za-z0-9_+\-/]+$/.test(value)) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

export function resolveTimeZone(cookie: string | undefined): string {
  const decoded = cookie ? safeDecode(cookie) : undefined;
  return isTimeZone(decoded) ? decoded : DEFAULT_TIME_ZONE;
}

function safeDecode(value: string) {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

type DateLike = Date | string | number;
const toDate = (value: DateLike) => (value instanceof Date ? value : new Date(value));

/**
 * Formats with Intl, saying the Korean half of the day ourselves: some ICU builds (Node's among
 * them) write "PM 3:05" in Korean while browsers write "오후 3:05", and a server-rendered time
 * must read the same in the browser that hydrates it.
 */
function format(value: DateLike, locale: string, options: Intl.DateTimeFormatOptions) {
  const date = toDate(value);
  const parts = new Intl.DateTimeFormat(locale, options).formatToParts(date);
  // ICU versions differ in their spaces too (a narrow no-break space before "PM" or not).
  const join = (values: string[]) => values.join("").replace(/[\u00a0\u202f]/g, " ");
  if (!locale.startsWith("ko")) return join(parts.map((part) => part.value));
  const hour = Number(new Intl.DateTimeFormat("en", { hour: "numeric", hourCycle: "h23", timeZone: options.timeZone }).format(date));
  return join(parts.map((part) => (part.type === "dayPeriod" ? (hour < 12 ? "오전" : "오후") : part.value)));
}

/** "2026. 11. 24. 오후 3:05", "Nov 24, 2026, 3:05 PM". */
export function formatDateTime(value: DateLike, locale: string, timeZone: string) {
  return format(value, locale, { dateStyle: "medium", timeStyle: "short", timeZone });
}

/** "오후 3:05", "3:05 PM": a message's time. */
export function formatTime(value: DateLike, locale: string, timeZone: string) {
  return format(value, locale, { timeStyle: "short", timeZone });
}

/** The calendar day of `value` in `timeZone`, as "2026-11-24". */
function dayIn(value: Date, timeZone: string) {
  return new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone }).format(value);
}

/**
 * When something last happened, short: today as a relative time ("3분 전", "2 hr. ago"; "방금",
 * "now" under a minute), yesterday and before as a date ("11월 23일", "Nov 23"), another year with
 * its year. Without `now` (before the page has hydrated) today reads as its time of day.
 */
export function formatWhen(value: DateLike, locale: string, timeZone: string, now: number | null) {
  const date = toDate(value);
  const reference = new Date(now ?? date.getTime());
  if (dayIn(date, timeZone) === dayIn(reference, timeZone)) {
    if (now === null) return formatTime(date, locale, timeZone);
    const seconds = Math.round((date.getTime() - now) / 1000);
    const relative = new Intl.RelativeTimeFormat(locale, { numeric: "auto", style: "short" });
    if (Math.abs(seconds) < 60) return relative.format(0, "second");
    if (Math.abs(seconds) < 3600) return relative.format(Math.round(seconds / 60), "minute");
    return relative.format(Math.round(seconds / 3600), "hour");
  }
  const sameYear = dayIn(date, timeZone).slice(0, 4) === dayIn(reference, timeZone).slice(0, 4);
  return format(date, locale, { month: "short", day: "numeric", ...(sameYear ? {} : { year: "numeric" }), timeZone });
}
