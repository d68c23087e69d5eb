"use client";

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Image from "next/image";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useDeferredValue, useState } from "react";
import { describeError } from "@/lib/app-error";
import { LIMITS } from "@/lib/schemas";
import { useTRPC, type RouterOutputs } from "@/lib/trpc/react";
import { DEFAULT_PORTRAIT } from "../character-card";
import { BranchIcon, EditIcon, PlusIcon, TrashIcon } from "../icons";
import { nestBranches } from "./branches";
import { useI18n } from "../i18n-provider";
import { useNow } from "../hooks/use-now";
import { formatWhen } from "@/lib/i18n/time";
import { messageHref } from "./use-jump-to-message";
import { ConfirmDialog } from "../confirm-dialog";
import { IconButton } from "../icon-button";

type ChatItem = RouterOutputs["sessions"]["list"]["items"][number];

/** The user's chats: most recent first, searchable, with rename and delete. */
export function ChatSidebar({ className = "" }: { className?: string }) {
  const { t, locale, timeZone } = useI18n();
  const trpc = useTRPC();
  const pathname = usePathname();
  const activeId = pathname.startsWith("/chat/") ? pathname.split("/")[2] : undefined;
  // A search outlives opening one of its hits (?q= travels with the hit's link).
  const searchParams = useSearchParams();
  const [query, setQuery] = useState(() => searchParams.get("q") ?? "");
  const q = useDeferredValue(query.trim());

  const list = useInfiniteQuery(
    trpc.sessions.list.infiniteQueryOptions({ limit: 30 }, { getNextPageParam: (page) => page.nextCursor ?? undefined }),
  );
  const search = useQuery(trpc.sessions.search.queryOptions({ q, limit: 20 }, { enabled: q.length > 0 }));
  const chats = list.data?.pages.flatMap((page) => page.items) ?? [];
  const now = useNow();

  return (
    <aside className={`min-h-0 flex-col border-r border-white/[0.06] bg-ink-900/60 ${className}`} data-testid="chat-sidebar">
      <div className="flex items-center gap-2 p-3">
        <input
          type="search"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
          placeholder={t("chats.search")}
          aria-label={t("chats.search")}
          className="field py-2 text-sm"
          maxLength={100}
          data-testid="chat-search"
        />
        <Link href="/" className="btn-ghost shrink-0 px-3 py-2" title={t("chat.newChat")} aria-label={t("chat.newChat")}>
          <PlusIcon />
        </Link>
      </div>
      <div className="min-h-0 flex-1 overflow-y-auto px-2 pb-3">
        {q ? (
          <SearchResults results={search.data ?? []} loading={search.isLoading} query={q} />
        ) : (
          <>
            {chats.length === 0 && !list.isLoading && <p className="px-3 py-6 text-center text-sm text-zinc-500">{t("home.noRecent")}</p>}
            <ul className="space-y-0.5">
              {nestBranches(chats).map(({ chat, depth }) => (
                <ChatRow key={chat.id} chat={chat} depth={depth} active={chat.id === activeId} date={formatWhen(chat.lastMessageAt, locale, timeZone, now)} />
              ))}
            </ul>
            {list.hasNextPage && (
              <button type="button" className="mt-2 w-full rounded-lg py-2 text-sm text-zinc-400 hover:bg-white/5" onClick={() => void list.fetchNextPage()}>
                {t("chats.more")}
              </button>
            )}
          </>
        )}
      </div>
    </aside>
  );
}

function ChatRow({ chat, depth, active, date }: { chat: ChatItem; depth: number; active: boolean; date: string }) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const [renaming, setRenaming] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.sessions.list.pathKey() });
  const rename = useMutation(trpc.sessions.rename.mutationOptions({ onSuccess: () => (setRenaming(null), refresh()) }));
  const remove = useMutation(
    trpc.sessions.delete.mutationOptions({
      onSuccess: async () => {
        setConfirming(false);
        await refresh();
        if (active) router.push("/chat");
      },
    }),
  );
  const title = chat.title ?? t("chat.untitled", { name: chat.characterName });

  return (
    <li
      data-testid="chat-row"
      data-session-id={chat.id}
      data-parent-id={chat.parentId ?? undefined}
      // A branch sits under the chat it was made from, one step in per level.
      style={depth > 0 ? { paddingInlineStart: `${Math.min(depth, 3) * 0.875}rem` } : undefined}
    >
      {renaming !== null ? (
        <form
          className="flex gap-1.5 p-1.5"
          onSubmit={(event) => {
            event.preventDefault();
            if (renaming.trim()) rename.mutate({ id: chat.id, title: renaming });
          }}
        >
          <input
            autoFocus
            value={renaming}
            maxLength={LIMITS.title}
            onChange={(event) => setRenaming(event.target.value)}
            onKeyDown={(event) => event.key === "Escape" && setRenaming(null)}
            className="field py-1.5 text-sm"
            aria-label={t("chats.rename")}
            data-testid="rename-input"
          />
          <button type="submit" className="btn-primary px-3 py-1.5" disabled={rename.isPending}>
            {t("common.save")}
          </button>
        </form>
      ) : (
        <div className={`group flex items-center rounded-xl ${active ? "bg-white/[0.07]" : "hover:bg-white/[0.04]"}`}>
          <Link href={`/chat/${chat.id}`} className="flex min-w-0 flex-1 items-center gap-3 p-2.5" aria-current={active ? "page" : undefined}>
            <Image src={chat.characterImage ?? DEFAULT_PORTRAIT} alt="" width={40} height={40} className="size-10 shrink-0 rounded-full object-cover" />
            <div className="min-w-0 flex-1">
              <div className="flex items-baseline gap-2">
                {chat.parentId && (
                  <span className="shrink-0 self-center text-brand-300" title={t("chat.branchBadge")} data-testid="branch-mark">
                    <BranchIcon width={14} height={14} />
                    <span className="sr-only">{t("chat.branchBadge")}</span>
                  </span>
                )}
                <p className="truncate text-sm font-semibold" data-testid="chat-title">
                  {title}
                </p>
                <span className="ml-auto shrink-0 text-[11px] text-zinc-500">{date}</span>
              </div>
              <p className="truncate text-xs text-zinc-500">{chat.preview?.replace(/\*/g, "") ?? ""}</p>
            </div>
          </Link>
          <div className="flex shrink-0 pr-1 opacity-100 md:opacity-0 md:group-hover:opacity-100 md:group-focus-within:opacity-100">
            <IconButton label={t("chats.rename")} onClick={() => setRenaming(title)} testId="rename-chat">
              <EditIcon />
            </IconButton>
            <IconButton label={t("chats.delete")} onClick={() => setConfirming(true)} testId="delete-chat">
              <TrashIcon />
            </IconButton>
          </div>
        </div>
      )}
      {rename.error && <p className="px-3 text-xs text-rose-400">{describeError(rename.error, t)}</p>}
      {confirming && (
        <ConfirmDialog
          title={t("chats.deleteTitle")}
          body={t("chats.deleteBody", { title })}
          confirmLabel={t("chats.delete")}
          pending={remove.isPending}
          onConfirm={() => remove.mutate({ id: chat.id })}
          onCancel={() => setConfirming(false)}
        />
      )}
    </li>
  );
}

function SearchResults({ results, loading, query }: { results: RouterOutputs["sessions"]["search"]; loading: boolean; query: string }) {
  const { t } = useI18n();
  if (loading) return <p className="px-3 py-4 text-sm text-zinc-500">{t("chats.searching")}</p>;
  if (results.length === 0) return <p className="px-3 py-4 text-sm text-zinc-500">{t("chats.noResults", { q: query })}</p>;
  return (
    <ul className="space-y-0.5" data-testid="search-results">
      {results.map((hit) => (
        <li key={hit.messageId}>
          <Link href={messageHref(hit.sessionId, hit.messageId, query)} className="block rounded-xl p-2.5 hover:bg-white/[0.04]" data-testid="search-hit">
            <p className="truncate text-xs text-zinc-500">
              {hit.characterName} · {hit.sessionTitle ?? t("chat.untitled", { name: hit.characterName })}
            </p>
            <p className="line-clamp-2 text-sm text-zinc-200">
              <Highlight text={hit.content} query={query} />
            </p>
          </Link>
        </li>
      ))}
    </ul>
  );
}

function Highlight({ text, query }: { text: string; query: string }) {
  const at = text.toLowerCase().indexOf(query.toLowerCase());
  if (at < 0) return <>{text}</>;
  const start = Math.max(0, at - 30);
  return (
    <>
      {start > 0 && "…"}
      {text.slice(start, at)}
      <mark className="rounded bg-brand-500/30 px-0.5 text-white">{text.slice(at, at + query.length)}</mark>
      {text.slice(at + query.length)}
    </>
  );
}
