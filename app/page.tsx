import Image from "next/image";
import Link from "next/link";
import { Suspense } from "react";
import { DEFAULT_PORTRAIT } from "@/components/character-card";
import { Gallery } from "@/components/characters/gallery";
import { filtersFrom, galleryInput } from "@/lib/gallery";
import { HydrateClient, prefetch, prefetchInfinite, serverCaller, trpc } from "@/lib/trpc/server";
import { auth } from "@/server/auth";
import { getI18n } from "@/server/i18n";
import { LocalTime } from "@/components/local-time";

export default async function HomePage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const [{ t, locale, timeZone }, session, caller, params] = await Promise.all([getI18n(), auth(), serverCaller(), searchParams]);
  const signedIn = Boolean(session?.user);
  const recent = signedIn ? (await caller.sessions.list({ limit: 8 })).items : [];
  const filters = filtersFrom({ get: (name) => (typeof params[name] === "string" ? (params[name] as string) : null) });
  // The first page of the gallery comes with the HTML: no blank grid while it loads.
  await Promise.all([
    prefetchInfinite(trpc.characters.gallery.infiniteQueryOptions(galleryInput(filters), { getNextPageParam: (page) => page.nextCursor ?? undefined })),
    prefetch(trpc.characters.facets.queryOptions()),
  ]);

  return (
    <main className="mx-auto w-full max-w-6xl px-4 pb-20 sm:px-6">
      <section className="relative mt-6 overflow-hidden rounded-3xl border border-white/[0.07] bg-gradient-to-br from-brand-600/25 via-ink-850 to-accent-500/15 px-6 py-10 sm:mt-10 sm:px-10 sm:py-14">
        <div className="pointer-events-none absolute -top-24 -right-16 size-72 rounded-full bg-accent-500/20 blur-3xl" />
        <div className="pointer-events-none absolute -bottom-28 left-1/3 size-72 rounded-full bg-brand-500/20 blur-3xl" />
        <div className="relative max-w-2xl">
          <h1 className="text-3xl leading-tight font-extrabold tracking-tight text-balance sm:text-5xl">{t("home.heroTitle")}</h1>
          <p className="mt-4 max-w-xl text-[15px] leading-relaxed text-zinc-300 sm:text-lg">{t("home.heroBody")}</p>
        </div>
      </section>

      {recent.length > 0 && (
        <section className="mt-10" data-testid="recent-chats">
          <div className="flex items-center justify-between">
            <h2 className="text-lg font-bold sm:text-xl">{t("home.recent")}</h2>
            <Link href="/chat" className="-mr-2 inline-flex h-10 items-center rounded-lg px-2 text-sm text-zinc-400 hover:text-zinc-100">
              {t("home.allChats")}
            </Link>
          </div>
          <div className="mt-4 flex gap-3 overflow-x-auto pb-2 [scrollbar-width:thin]">
            {recent.map((chat) => (
              <Link key={chat.id} href={`/chat/${chat.id}`} className="card flex w-64 shrink-0 items-center gap-3 p-3 transition hover:border-brand-400/40">
                <Image src={chat.characterImage ?? DEFAULT_PORTRAIT} alt="" width={44} height={44} className="size-11 rounded-full object-cover" />
                <div className="min-w-0">
                  <p className="truncate text-sm font-semibold">{chat.title ?? t("chat.untitled", { name: chat.characterName })}</p>
                  <p className="text-xs text-zinc-500">
                    <LocalTime value={chat.lastMessageAt} locale={locale} timeZone={timeZone} />
                  </p>
                </div>
              </Link>
            ))}
          </div>
        </section>
      )}

      <HydrateClient>
        <Suspense>
          <Gallery signedIn={signedIn} />
        </Suspense>
      </HydrateClient>

      <footer className="mt-16 border-t border-white/[0.06] pt-6 text-center text-xs text-zinc-500">{t("footer.note")}</footer>
    </main>
  );
}
