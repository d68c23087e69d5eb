"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useRef, useState } from "react";
import { describeError } from "@/lib/app-error";
import { useTRPC } from "@/lib/trpc/react";
import { ErrorNote } from "../error-note";
import { useI18n } from "../i18n-provider";
import { UploadIcon } from "../icons";

const MAX_BYTES = 5 * 1024 * 1024;

/** Pick a SillyTavern chat file (.jsonl); it becomes a new chat with this character, opened at once. */
export function ImportChat({ characterId }: { characterId: string }) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const router = useRouter();
  const input = useRef<HTMLInputElement>(null);
  const [error, setError] = useState<string | null>(null);
  const importChat = useMutation(
    trpc.sessions.importChat.mutationOptions({
      onSuccess: (chat) => router.push(`/chat/${chat.id}`),
      onError: (e) => setError(describeError(e, t)),
    }),
  );

  const take = async (file: File | undefined) => {
    setError(null);
    if (!file) return;
    if (file.size > MAX_BYTES) return setError(t("error.reason.chat_file_too_large"));
    importChat.mutate({ characterId, jsonl: await file.text() });
  };

  return (
    <div className="mt-5 border-t border-white/[0.06] pt-4">
      <div className="flex flex-col gap-2 sm:flex-row sm:items-center sm:justify-between">
        <p className="text-xs leading-relaxed text-zinc-500">{t("portability.importHint")}</p>
        <button type="button" className="btn-ghost shrink-0" onClick={() => input.current?.click()} disabled={importChat.isPending} data-testid="import-chat">
          <UploadIcon /> {importChat.isPending ? t("portability.importing") : t("portability.import")}
        </button>
      </div>
      <input
        ref={input}
        type="file"
        accept=".jsonl,application/jsonl,application/json,text/plain"
        className="sr-only"
        tabIndex={-1}
        aria-hidden
        data-testid="import-chat-file"
        onChange={(e) => {
          void take(e.target.files?.[0]);
          e.target.value = "";
        }}
      />
      {error && <ErrorNote className="mt-3">{error}</ErrorNote>}
    </div>
  );
}
