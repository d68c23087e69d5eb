import Link from "next/link";
import { getI18n } from "@/server/i18n";

export default async function NotFound() {
  const { t } = await getI18n();
  return (
    <main className="mx-auto w-full flex min-h-[60dvh] max-w-md flex-col items-center justify-center px-4 text-center">
      <h1 className="text-5xl font-black text-brand-400">404</h1>
      <p className="mt-3 text-zinc-300">{t("error.not_found")}</p>
      <Link href="/" className="btn-ghost mt-6">
        {t("character.back")}
      </Link>
    </main>
  );
}
