"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { isTimeZone, TIME_ZONE_COOKIE } from "@/lib/i18n/time";

/**
 * Tells the server the browser's time zone (a cookie read by server components), and redraws the
 * page once when the server guessed another: times are then the reader's on both sides, and the
 * hydrated page matches the server's HTML.
 */
export function TimeZoneSync({ serverTimeZone }: { serverTimeZone: string }) {
  const router = useRouter();
  useEffect(() => {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    // A zone the server would not accept would only redraw the page for nothing.
    if (!isTimeZone(zone) || zone === serverTimeZone) return;
    document.cookie = `${TIME_ZONE_COOKIE}=${encodeURIComponent(zone)}; path=/; max-age=31536000; samesite=lax`;
    router.refresh();
  }, [serverTimeZone, router]);
  return null;
}
