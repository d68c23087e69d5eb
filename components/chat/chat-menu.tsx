"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useTRPC } from "@/lib/trpc/react";
import { ConfirmDialog } from "../confirm-dialog";
import { usePopover } from "../hooks/use-popover";
import { useI18n } from "../i18n-provider";

/**
 * The chat header's "more" menu: a new chat with the same character, the chat as a file, and
 * clearing it (asked first).
 */
export function ChatMenu({
  sessionId,
  characterId,
  busy,
  onCleared,
  onError,
}: {
  sessionId: string;
  /** null when the user may no longer start chats with the character */
  characterId: string | null;
  busy: boolean;
  onCleared: () => void;
  onError: (error: unknown) => void;
}) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const { open, setOpen, ref } = usePopover();
  const [confirmingClear, setConfirmingClear] = useState(false);
  const refreshList = () => queryClient.invalidateQueries({ queryKey: trpc.sessions.list.pathKey() });
  const create = useMutation(
    trpc.sessions.create.mutationOptions({
      onSuccess: async ({ id }) => {
        await refreshList();
        router.push(`/chat/${id}`);
      },
      onError,
    }),
  );
  const clear = useMutation(
    trpc.sessions.clear.mutationOptions({
      onSuccess: async () => {
        setConfirmingClear(false);
        onCleared();
        await refreshList();
      },
      onError: (error) => {
        setConfirmingClear(false);
        onError(error);
      },
    }),
  );
  const item = "flex min-h-11 w-full items-center rounded-lg px-3 text-left text-sm text-zinc-200 hover:bg-white/5 disabled:opacity-40";

  return (
    <div className="relative" ref={ref}>
      <button
        type="button"
        onClick={() => setOpen((value) => !value)}
        aria-expanded={open}
        aria-haspopup="menu"
        aria-label={t("chat.more")}
        className="grid size-11 place-items-center rounded-lg text-zinc-400 hover:bg-white/5 hover:text-zinc-100"
        data-testid="chat-menu"
      >
        <svg viewBox="0 0 24 24" width="18" height="18" fill="currentColor" aria-hidden>
          <circle cx="5" cy="12" r="1.8" />
          <circle cx="12" cy="12" r="1.8" />
          <circle cx="19" cy="12" r="1.8" />
        </svg>
      </button>
      {open && (
        <div role="menu" className="card absolute right-0 z-30 mt-1 w-56 p-1.5 shadow-2xl shadow-black/50" data-testid="chat-menu-items">
          {characterId && (
            <button
              type="button"
              role="menuitem"
              className={item}
              disabled={create.isPending}
              onClick={() => {
                setOpen(false);
                create.mutate({ characterId });
              }}
              data-testid="chat-menu-new"
            >
              {t("chat.newChat")}
            </button>
          )}
          <a role="menuitem" className={item} href={`/api/sessions/${sessionId}/export?format=jsonl`} download onClick={() => setOpen(false)} data-testid="chat-menu-export-jsonl">
            {t("portability.exportJsonl")}
          </a>
          <a role="menuitem" className={item} href={`/api/sessions/${sessionId}/export?format=md`} download onClick={() => setOpen(false)} data-testid="chat-menu-export-md">
            {t("portability.exportMd")}
          </a>
          <button
            type="button"
            role="menuitem"
            className={`${item} text-rose-300`}
            disabled={busy}
            onClick={() => {
              setOpen(false);
              setConfirmingClear(true);
            }}
            data-testid="chat-menu-clear"
          >
            {t("chat.clear")}
          </button>
        </div>
      )}
      {confirmingClear && (
        <ConfirmDialog
          title={t("chat.clearTitle")}
          body={t("chat.clearBody")}
          confirmLabel={t("chat.clear")}
          pending={clear.isPending}
          onConfirm={() => clear.mutate({ id: sessionId })}
          onCancel={() => setConfirmingClear(false)}
        />
      )}
    </div>
  );
}
