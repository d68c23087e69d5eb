import type { Metadata } from "next";
import { CharacterForm } from "@/components/characters/character-form";
import { requireUser } from "@/server/auth";
import { getI18n } from "@/server/i18n";

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t("form.createTitle") };
}

export default async function NewCharacterPage() {
  const [{ t }] = await Promise.all([getI18n(), requireUser("/characters/new")]);
  return (
    <main className="mx-auto w-full max-w-4xl px-4 pt-6 pb-20 sm:px-6 sm:pt-10">
      <h1 className="text-2xl font-extrabold tracking-tight sm:text-3xl">{t("form.createTitle")}</h1>
      <p className="mt-2 text-sm text-zinc-400">{t("form.createBody")}</p>
      <CharacterForm />
    </main>
  );
}
