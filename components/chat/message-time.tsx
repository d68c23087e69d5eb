"use client";

import { formatDateTime, formatTime } from "@/lib/i18n/time";
import { useI18n } from "../i18n-provider";

/** When a message was written: its time of day, the full date on hover and for assistive tools. */
export function MessageTime({ value }: { value: Date | string }) {
  const { locale, timeZone } = useI18n();
  const date = value instanceof Date ? value : new Date(value);
  return (
    <time dateTime={date.toISOString()} title={formatDateTime(date, locale, timeZone)} className="px-1 text-[11px] text-zinc-500 tabular-nums" data-testid="message-time">
      {formatTime(date, locale, timeZone)}
    </time>
  );
}
