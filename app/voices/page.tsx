import type { Metadata } from "next";
import { VoiceManager } from "@/components/voices/voice-manager";
import { requireUser } from "@/server/auth";
import { getI18n } from "@/server/i18n";

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t("voices.title") };
}

export default async function VoicesPage() {
  const [{ t }] = await Promise.all([getI18n(), requireUser("/voices")]);
  return (
    <main className="mx-auto w-full max-w-4xl px-4 pt-6 pb-20 sm:px-6 sm:pt-10">
      <h1 className="text-2xl font-extrabold tracking-tight sm:text-3xl">{t("voices.title")}</h1>
      <p className="mt-2 text-sm leading-relaxed text-zinc-400">{t("voices.body")}</p>
      <VoiceManager />
    </main>
  );
}
