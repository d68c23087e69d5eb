import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { CardImport } from "@/components/characters/card-import";
import { auth } from "@/server/auth";
import { getI18n } from "@/server/i18n";

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t("import.title") };
}

export default async function ImportPage() {
  const [{ t }, session] = await Promise.all([getI18n(), auth()]);
  if (!session?.user) redirect("/signin?callbackUrl=%2Fcharacters%2Fimport");
  return (
    <main className="mx-auto w-full max-w-2xl px-4 pt-6 pb-20 sm:px-6 sm:pt-10">
      <h1 className="text-2xl font-extrabold tracking-tight sm:text-3xl">{t("import.title")}</h1>
      <p className="mt-2 mb-6 text-sm leading-relaxed text-zinc-400">{t("import.body")}</p>
      <CardImport />
    </main>
  );
}
