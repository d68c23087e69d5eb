"use client";

import { keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect, useState, useTransition } from "react";
import { filtersFrom, galleryInput, SCOPES, type GalleryFilters, type Scope } from "@/lib/gallery";
import type { MessageKey } from "@/lib/i18n";
import { useTRPC } from "@/lib/trpc/react";
import { CharacterCard } from "../character-card";
import { useI18n } from "../i18n-provider";
import { onTabListKeyDown } from "../hooks/tab-keys";
import { categoryLabel } from "@/lib/i18n/labels";
import { PlusIcon } from "../icons";

const SCOPE_LABEL: Record<Scope, MessageKey> = {
  all: "gallery.scope.all",
  presets: "gallery.scope.presets",
  mine: "gallery.scope.mine",
  public: "gallery.scope.public",
};

export function Gallery({ signedIn }: { signedIn: boolean }) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const filters = filtersFrom(params);
  const [query, setQuery] = useState(filters.q);
  const [, startTransition] = useTransition();

  const setFilters = (patch: Partial<GalleryFilters>) => {
    const next = { ...filters, ...patch };
    const search = new URLSearchParams();
    if (next.scope !== "all") search.set("scope", next.scope);
    if (next.q) search.set("q", next.q);
    if (next.category) search.set("category", next.category);
    if (next.tag) search.set("tag", next.tag);
    const url = search.size ? `${pathname}?${search}` : pathname;
    startTransition(() => router.replace(url, { scroll: false }));
  };

  // Search as the person types, a moment after they pause.
  useEffect(() => {
    if (query.trim() === filters.q) return;
    const timer = setTimeout(() => setFilters({ q: query.trim() }), 300);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only the typed text restarts the timer
  }, [query]);

  const gallery = useInfiniteQuery(
    trpc.characters.gallery.infiniteQueryOptions(galleryInput(filters), {
      getNextPageParam: (page) => page.nextCursor ?? undefined,
      // The previous results stay on screen (dimmed) while a new filter loads.
      placeholderData: keepPreviousData,
    }),
  );
  const facets = useQuery(trpc.characters.facets.queryOptions());
  const items = gallery.data?.pages.flatMap((page) => page.items) ?? [];
  const scopes = SCOPES.filter((scope) => scope !== "mine" || signedIn);
  const filtered = Boolean(filters.q || filters.category || filters.tag);

  return (
    <section className="mt-10 scroll-mt-32" data-testid="gallery" data-state={gallery.isFetching ? "loading" : "ready"}>
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h2 className="text-lg font-bold sm:text-xl">{t("gallery.title")}</h2>
          <p className="mt-1 text-sm text-zinc-500">{t("gallery.subtitle")}</p>
        </div>
        {signedIn && (
          <div className="flex gap-2">
            <Link href="/characters/import" className="btn-ghost" data-testid="import-link">
              {t("gallery.import")}
            </Link>
            <Link href="/characters/new" className="btn-primary" data-testid="create-character">
              <PlusIcon />
              {t("gallery.create")}
            </Link>
          </div>
        )}
      </div>

      <div className="mt-5 flex flex-col gap-3 lg:flex-row lg:items-center">
        <div
          className="flex gap-1 overflow-x-auto rounded-xl border border-white/[0.07] bg-ink-900 p-1"
          role="tablist"
          aria-label={t("gallery.title")}
          onKeyDown={onTabListKeyDown}
        >
          {scopes.map((scope) => (
            <button
              key={scope}
              type="button"
              role="tab"
              aria-selected={filters.scope === scope}
              // One stop in the Tab order; the arrow keys move between the tabs.
              tabIndex={filters.scope === scope ? 0 : -1}
              onClick={() => setFilters({ scope })}
              className={`min-h-10 rounded-lg px-3.5 text-sm whitespace-nowrap transition ${
                filters.scope === scope ? "bg-white/10 font-semibold text-white" : "text-zinc-400 hover:text-zinc-100"
              }`}
              data-testid={`scope-${scope}`}
            >
              {t(SCOPE_LABEL[scope])}
            </button>
          ))}
        </div>
        <input
          type="search"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
          placeholder={t("gallery.search")}
          aria-label={t("gallery.search")}
          maxLength={100}
          className="field lg:ml-auto lg:max-w-xs"
          data-testid="gallery-search"
        />
      </div>

      {facets.data && (
        <div
          className="-mx-4 mt-3 flex gap-1.5 overflow-x-auto px-4 pb-1 [scrollbar-width:none] sm:mx-0 sm:flex-wrap sm:overflow-visible sm:px-0"
          data-testid="facets"
        >
          {facets.data.categories.map(({ value }) => (
            <Chip key={`c-${value}`} active={filters.category === value} onClick={() => setFilters({ category: filters.category === value ? "" : value })}>
              {categoryLabel(value, t)}
            </Chip>
          ))}
          <span className="mx-1 w-px shrink-0 self-stretch bg-white/10" aria-hidden />
          {facets.data.tags.slice(0, 16).map(({ value }) => (
            <Chip key={`t-${value}`} active={filters.tag === value} onClick={() => setFilters({ tag: filters.tag === value ? "" : value })}>
              #{value}
            </Chip>
          ))}
        </div>
      )}

      <div
        className={`mt-5 grid grid-cols-2 gap-3 transition-opacity sm:gap-5 md:grid-cols-3 lg:grid-cols-4 ${gallery.isPlaceholderData ? "opacity-50" : ""}`}
        aria-busy={gallery.isFetching}
        data-testid="character-grid"
      >
        {items.map((character) => (
          <CharacterCard key={character.id} character={character} presetLabel={t("character.preset")} categoryText={categoryLabel(character.category, t)} />
        ))}
      </div>
      {!gallery.isLoading && items.length === 0 && (
        <div className="card mt-5 px-6 py-12 text-center" data-testid="gallery-empty">
          {filtered ? (
            <>
              <p className="font-semibold">{t("gallery.noMatch")}</p>
              <button type="button" className="btn-ghost mt-4" onClick={() => (setQuery(""), setFilters({ q: "", category: "", tag: "" }))}>
                {t("gallery.clear")}
              </button>
            </>
          ) : filters.scope === "mine" ? (
            <>
              <p className="mx-auto max-w-sm text-[15px] leading-relaxed text-zinc-300">{t("gallery.emptyMine")}</p>
              <div className="mt-5 flex justify-center gap-2">
                <Link href="/characters/import" className="btn-ghost">
                  {t("gallery.import")}
                </Link>
                <Link href="/characters/new" className="btn-primary">
                  <PlusIcon />
                  {t("gallery.create")}
                </Link>
              </div>
            </>
          ) : (
            <p className="font-semibold">{t("gallery.empty")}</p>
          )}
        </div>
      )}
      {gallery.hasNextPage && (
        <div className="mt-6 text-center">
          <button type="button" className="btn-ghost" onClick={() => void gallery.fetchNextPage()} disabled={gallery.isFetchingNextPage} data-testid="load-more">
            {t("gallery.more")}
          </button>
        </div>
      )}
    </section>
  );
}

function Chip({ active, onClick, children }: { active: boolean; onClick: () => void; children: React.ReactNode }) {
  return (
    <button
      type="button"
      onClick={onClick}
      aria-pressed={active}
      className={`h-10 shrink-0 rounded-full border px-3.5 text-[13px] whitespace-nowrap transition sm:h-8 sm:px-3 sm:text-xs ${
        active ? "border-brand-400/60 bg-brand-500/20 text-brand-300" : "border-white/10 bg-white/5 text-zinc-300 hover:bg-white/10"
      }`}
    >
      {children}
    </button>
  );
}
