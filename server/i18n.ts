import { cookies, headers } from "next/headers";
import { cache } from "react";
import { getDefaults } from "@/server/account/data";
import { auth } from "@/server/auth";
import { getDb } from "@/server/db";
import { isLocale, LOCALE_COOKIE, resolveLocale, translator } from "@/lib/i18n";
import { resolveTimeZone, TIME_ZONE_COOKIE } from "@/lib/i18n/time";

/** The UI language saved in the signed-in user's defaults (Settings), if any. */
async function savedLocale(): Promise<string | undefined> {
  const session = await auth().catch(() => null);
  if (!session?.user?.id) return undefined;
  return (await getDefaults(getDb(), session.user.id).catch(() => ({ locale: undefined }))).locale;
}

/** The request's locale, translator and the reader's time zone (sent by the browser), for server components. */
export const getI18n = cache(async () => {
  const [cookieStore, heads] = await Promise.all([cookies(), headers()]);
  // The browser's choice (cookie) wins; on a browser without one, a signed-in user's saved language.
  const cookie = cookieStore.get(LOCALE_COOKIE)?.value;
  const locale = resolveLocale(isLocale(cookie) ? cookie : await savedLocale(), heads.get("accept-language"));
  const timeZone = resolveTimeZone(cookieStore.get(TIME_ZONE_COOKIE)?.value);
  return { locale, t: translator(locale), timeZone };
});
