"use client";

import Link from "next/link";
import { signOutAction } from "@/server/actions";
import { usePopover } from "./hooks/use-popover";
import { useI18n } from "./i18n-provider";
import { LocaleSwitcher } from "./locale-switcher";

/** The avatar opens the account menu: who is signed in, the language, and sign-out. */
export function UserMenu({ name, email }: { name: string | null; email: string | null }) {
  const { t } = useI18n();
  const { open, setOpen, ref } = usePopover();

  return (
    <div className="relative" ref={ref}>
      <button
        type="button"
        onClick={() => setOpen((v) => !v)}
        aria-expanded={open}
        aria-label={t("nav.account")}
        className="grid size-10 place-items-center rounded-full bg-gradient-to-br from-brand-500 to-accent-500 text-sm font-bold"
        data-testid="user-avatar"
      >
        {(name ?? email ?? "?").slice(0, 1).toUpperCase()}
      </button>
      {open && (
        <div className="card absolute right-0 mt-2 w-64 p-3 shadow-2xl shadow-black/50" data-testid="user-menu">
          <p className="truncate text-sm font-semibold">{name}</p>
          <p className="truncate text-xs text-zinc-500">{email}</p>
          <div className="mt-3 flex items-center justify-between gap-2 border-t border-white/[0.06] pt-3 text-sm text-zinc-400">
            <span>{t("nav.language")}</span>
            <LocaleSwitcher />
          </div>
          <nav className="mt-3 border-t border-white/[0.06] pt-2">
            <Link href="/voices" className="block rounded-lg px-2 py-2 text-sm text-zinc-300 hover:bg-white/5 sm:hidden" onClick={() => setOpen(false)}>
              {t("nav.voices")}
            </Link>
            <Link href="/settings" className="block rounded-lg px-2 py-2 text-sm text-zinc-300 hover:bg-white/5" onClick={() => setOpen(false)} data-testid="nav-settings">
              {t("nav.settings")}
            </Link>
          </nav>
          <form action={signOutAction} className="mt-3 border-t border-white/[0.06] pt-3">
            <button type="submit" className="w-full rounded-lg px-2 py-2 text-left text-sm text-zinc-300 hover:bg-white/5">
              {t("nav.signOut")}
            </button>
          </form>
        </div>
      )}
    </div>
  );
}
