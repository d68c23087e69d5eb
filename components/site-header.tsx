import Image from "next/image";
import Link from "next/link";
import { auth } from "@/server/auth";
import { signOutAction } from "@/server/actions";
import { getI18n } from "@/server/i18n";
import { DemoBanner, HealthIndicator } from "./health-indicator";
import { LocaleSwitcher } from "./locale-switcher";

export async function SiteHeader() {
  const [{ t }, session] = await Promise.all([getI18n(), auth()]);
  const user = session?.user;
  return (
    <header className="sticky top-0 z-30 border-b border-white/[0.06] bg-ink-950/80 backdrop-blur-xl">
      <div className="mx-auto flex h-14 max-w-6xl items-center gap-3 px-4 sm:px-6">
        <Link href="/" className="flex items-center gap-2 font-bold tracking-tight" aria-label={t("app.name")}>
          <Image src="/brand/logo.svg" alt="" width={28} height={28} priority />
          <span className="hidden text-[17px] sm:inline">{t("app.name")}</span>
        </Link>
        <nav className="ml-2 flex items-center gap-1 text-sm text-zinc-400">
          <Link href="/" className="rounded-lg px-2.5 py-1.5 hover:bg-white/5 hover:text-zinc-100">
            {t("nav.characters")}
          </Link>
        </nav>
        <div className="ml-auto flex items-center gap-1.5 sm:gap-2">
          <HealthIndicator />
          <LocaleSwitcher />
          {user ? (
            <div className="flex items-center gap-2">
              <span
                className="grid size-8 place-items-center rounded-full bg-gradient-to-br from-brand-500 to-accent-500 text-sm font-bold"
                title={user.email ?? undefined}
                data-testid="user-avatar"
              >
                {(user.name ?? user.email ?? "?").slice(0, 1).toUpperCase()}
              </span>
              <form action={signOutAction}>
                <button type="submit" className="rounded-lg px-2 py-1.5 text-sm text-zinc-400 hover:bg-white/5 hover:text-zinc-100">
                  {t("nav.signOut")}
                </button>
              </form>
            </div>
          ) : (
            <Link href="/signin" className="btn-primary px-3.5 py-1.5">
              {t("nav.signIn")}
            </Link>
          )}
        </div>
      </div>
      <DemoBanner />
    </header>
  );
}
