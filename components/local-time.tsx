import { formatDateTime } from "@/lib/i18n/time";

/** A moment in the reader's time zone and language, machine-readable for assistive tools. */
export function LocalTime({ value, locale, timeZone, className }: { value: Date | string; locale: string; timeZone: string; className?: string }) {
  const date = value instanceof Date ? value : new Date(value);
  return (
    <time dateTime={date.toISOString()} className={className}>
      {formatDateTime(date, locale, timeZone)}
    </time>
  );
}
