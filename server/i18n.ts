import { cookies, headers } from "next/headers";
import { cache } from "react";
import { LOCALE_COOKIE, resolveLocale, translator } from "@/lib/i18n";

/** The request's locale and translator, for server components. */
export const getI18n = cache(async () => {
  const [cookieStore, heads] = await Promise.all([cookies(), headers()]);
  const locale = resolveLocale(cookieStore.get(LOCALE_COOKIE)?.value, heads.get("accept-language"));
  return { locale, t: translator(locale) };
});
