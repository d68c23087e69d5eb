import type { Metadata } from "next";
import Link from "next/link";
import { ChatSidebar } from "@/components/chat/chat-sidebar";
import { getI18n } from "@/server/i18n";

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t("nav.chats") };
}

export default async function ChatsPage() {
  const { t } = await getI18n();
  return (
    <main className="flex min-h-0 w-full flex-1">
      <h1 className="sr-only">{t("nav.chats")}</h1>
      <ChatSidebar className="flex w-full md:w-80" />
      <div className="hidden flex-1 flex-col items-center justify-center gap-4 p-8 text-center md:flex">
        <p className="text-lg font-semibold">{t("chats.pick")}</p>
        <p className="max-w-sm text-sm text-zinc-400">{t("chats.pickHint")}</p>
        <Link href="/" className="btn-primary">
          {t("chat.newChat")}
        </Link>
      </div>
    </main>
  );
}
