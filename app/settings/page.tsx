import type { Metadata } from "next";
import { AccountData } from "@/components/settings/account-data";
import { ApiTokens } from "@/components/settings/api-tokens";
import { Defaults } from "@/components/settings/defaults";
import { Personas } from "@/components/settings/personas";
import { SignOutEverywhere } from "@/components/settings/sign-out-everywhere";
import { HydrateClient, prefetch, trpc } from "@/lib/trpc/server";
import { requireUser } from "@/server/auth";
import { getI18n } from "@/server/i18n";

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t("account.title") };
}

export default async function SettingsPage() {
  const [{ t }, user] = await Promise.all([getI18n(), requireUser("/settings")]);
  await Promise.all([prefetch(trpc.apiTokens.list.queryOptions()), prefetch(trpc.personas.list.queryOptions()), prefetch(trpc.account.defaults.queryOptions())]);
  return (
    <main className="mx-auto w-full max-w-3xl px-4 pt-6 pb-20 sm:px-6 sm:pt-10">
      <h1 className="text-2xl font-extrabold tracking-tight sm:text-3xl">{t("account.title")}</h1>
      <p className="mt-2 mb-6 text-sm leading-relaxed text-zinc-400">{t("account.body")}</p>
      <HydrateClient>
        <Personas />
        <Defaults />
        <div className="mt-6">
          <ApiTokens />
        </div>
      </HydrateClient>
      <SignOutEverywhere />
      <AccountData email={user.email ?? user.name ?? ""} />
    </main>
  );
}
