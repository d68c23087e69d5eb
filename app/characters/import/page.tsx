import type { Metadata } from "next";
import { CardImport } from "@/components/characters/card-import";
import { requireUser } from "@/server/auth";
import { getI18n } from "@/server/i18n";

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t("import.title") };
}

export default async function ImportPage() {
  const [{ t }] = await Promise.all([getI18n(), requireUser("/characters/import")]);
  return (
    <main className="mx-auto w-full max-w-2xl px-4 pt-6 pb-20 sm:px-6 sm:pt-10">
      <h1 className="text-2xl font-extrabold tracking-tight sm:text-3xl">{t("import.title")}</h1>
      <p className="mt-2 mb-6 text-sm leading-relaxed text-zinc-400">{t("import.body")}</p>
      <CardImport />
      <section className="card mt-6 p-5" aria-labelledby="import-accepts">
        <h2 id="import-accepts" className="text-sm font-semibold text-zinc-300">
          {t("import.accepts")}
        </h2>
        <ul className="mt-3 space-y-2 text-sm leading-relaxed text-zinc-400">
          {(["import.acceptPng", "import.acceptJson", "import.acceptCharx"] as const).map((key) => (
            <li key={key} className="flex gap-2.5">
              <span className="mt-2 size-1.5 shrink-0 rounded-full bg-brand-400" aria-hidden />
              {t(key)}
            </li>
          ))}
        </ul>
        <p className="mt-4 border-t border-white/[0.06] pt-4 text-xs leading-relaxed text-zinc-500">{t("import.acceptAfter")}</p>
      </section>
    </main>
  );
}
