"use client";

import { useI18n } from "@/components/i18n-provider";

export default function ErrorPage({ reset }: { error: Error; reset: () => void }) {
  const { t } = useI18n();
  return (
    <main className="mx-auto w-full flex min-h-[60dvh] max-w-md flex-col items-center justify-center px-4 text-center">
      <p className="text-zinc-300">{t("error.generic")}</p>
      <button type="button" onClick={reset} className="btn-ghost mt-6">
        {t("chat.retry")}
      </button>
    </main>
  );
}
