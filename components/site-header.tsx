import Image from "next/image";
import Link from "next/link";
import { auth } from "@/server/auth";
import { getI18n } from "@/server/i18n";
import { DemoBanner, HealthIndicator } from "./health-indicator";
import { LocaleSwitcher } from "./locale-switcher";
import { UserMenu } from "./user-menu";

export async function SiteHeader() {
  const [{ t }, session] = await Promise.all([getI18n(), auth()]);
  const user = session?.user;
  return (
    <header className="sticky top-0 z-30 border-b border-white/[0.06] bg-ink-950/80 backdrop-blur-xl" data-site-header="">
      <div className="mx-auto flex h-14 max-w-6xl items-center gap-3 px-4 sm:px-6">
        <Link href="/" className="-ml-1.5 flex h-10 items-center gap-2 rounded-lg px-1.5 font-bold tracking-tight" aria-label={t("app.name")}>
          <Image src="/brand/logo.svg" alt="" width={28} height={28} priority />
          <span className="hidden text-[17px] sm:inline">{t("app.name")}</span>
        </Link>
        <nav className="ml-1 flex items-center gap-0.5 text-sm whitespace-nowrap text-zinc-400 sm:ml-2 sm:gap-1">
          <Link href="/" className="flex h-10 items-center rounded-lg px-2.5 hover:bg-white/5 hover:text-zinc-100">
            {t("nav.characters")}
          </Link>
          {user && (
            <Link href="/chat" className="flex h-10 items-center rounded-lg px-2.5 hover:bg-white/5 hover:text-zinc-100" data-testid="nav-chats">
              {t("nav.chats")}
            </Link>
          )}
          {user && (
            <Link href="/voices" className="hidden h-10 items-center rounded-lg px-2.5 hover:bg-white/5 hover:text-zinc-100 sm:flex" data-testid="nav-voices">
              {t("nav.voices")}
            </Link>
          )}
        </nav>
        <div className="ml-auto flex items-center gap-1.5 sm:gap-2">
          <HealthIndicator />
          {user ? (
            <UserMenu name={user.name ?? null} email={user.email ?? null} />
          ) : (
            <>
              <LocaleSwitcher />
              <Link href="/signin" className="btn-primary px-3.5 py-1.5 whitespace-nowrap">
                {t("nav.signIn")}
              </Link>
            </>
          )}
        </div>
      </div>
      <DemoBanner />
    </header>
  );
}
