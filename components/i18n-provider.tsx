"use client";

import { createContext, useContext, useMemo, type ReactNode } from "react";
import { translator, type Locale, type Translate } from "@/lib/i18n";
import { DEFAULT_TIME_ZONE } from "@/lib/i18n/time";

/** `timeZone`: the reader's, as their browser told the server (lib/i18n/time.ts). */
const I18nContext = createContext<{ locale: Locale; t: Translate; timeZone: string } | null>(null);

export function I18nProvider({ locale, timeZone = DEFAULT_TIME_ZONE, children }: { locale: Locale; timeZone?: string; children: ReactNode }) {
  const value = useMemo(() => ({ locale, t: translator(locale), timeZone }), [locale, timeZone]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n() {
  const value = useContext(I18nContext);
  if (!value) throw new Error("useI18n must be used inside <I18nProvider>");
  return value;
}
