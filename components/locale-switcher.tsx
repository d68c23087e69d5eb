"use client";

import { useTransition } from "react";
import { LOCALES } from "@/lib/i18n";
import { setLocaleAction } from "@/server/actions";
import { useI18n } from "./i18n-provider";

const LABELS = { ko: "한국어", en: "English" } as const;

export function LocaleSwitcher() {
  const { locale, t } = useI18n();
  const [pending, startTransition] = useTransition();
  return (
    <label className="relative">
      <span className="sr-only">{t("nav.language")}</span>
      <select
        value={locale}
        disabled={pending}
        data-testid="locale-switcher"
        onChange={(event) => {
          const next = event.target.value;
          startTransition(() => setLocaleAction(next));
        }}
        className="cursor-pointer appearance-none rounded-lg border border-white/10 bg-white/5 py-1.5 pr-2.5 pl-2.5 text-xs text-zinc-300 hover:bg-white/10"
      >
        {LOCALES.map((l) => (
          <option key={l} value={l} className="bg-ink-900">
            {LABELS[l]}
          </option>
        ))}
      </select>
    </label>
  );
}
