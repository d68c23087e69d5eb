"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { describeError } from "@/lib/app-error";
import { useTRPC } from "@/lib/trpc/react";
import { useI18n } from "../i18n-provider";
import { DownloadIcon } from "../icons";

/** Whom the user plays in this chat: one of their personas, or their account's name. */
export function PersonaPicker({ sessionId, personaId }: { sessionId: string; personaId: string | null }) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const personas = useQuery(trpc.personas.list.queryOptions());
  const update = useMutation(
    trpc.sessions.update.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.sessions.get.queryKey({ id: sessionId }) }),
    }),
  );
  const list = personas.data ?? [];
  return (
    <div>
      <label className="label" htmlFor="chat-persona">
        {t("personas.chatLabel")}
      </label>
      <select
        id="chat-persona"
        className="field"
        value={personaId ?? ""}
        disabled={update.isPending}
        onChange={(event) => update.mutate({ id: sessionId, personaId: event.target.value || null })}
        data-testid="persona-select"
      >
        <option value="">{t("personas.accountName")}</option>
        {list.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </select>
      <p className="mt-1 text-xs text-zinc-500">{t("personas.chatHint")}</p>
      {update.error && <p className="mt-1 text-xs text-rose-400">{describeError(update.error, t)}</p>}
    </div>
  );
}

/** Downloads of the chat: SillyTavern JSONL (to import elsewhere, or here) and a Markdown transcript. */
export function ChatExport({ sessionId }: { sessionId: string }) {
  const { t } = useI18n();
  const href = (format: "jsonl" | "md") => `/api/sessions/${encodeURIComponent(sessionId)}/export?format=${format}`;
  return (
    <div>
      <p className="label">{t("portability.export")}</p>
      <div className="flex flex-col gap-2">
        <a className="btn-ghost justify-start" href={href("jsonl")} download data-testid="export-jsonl">
          <DownloadIcon /> {t("portability.exportJsonl")}
        </a>
        <a className="btn-ghost justify-start" href={href("md")} download data-testid="export-md">
          <DownloadIcon /> {t("portability.exportMd")}
        </a>
      </div>
    </div>
  );
}
