"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { describeError } from "@/lib/app-error";
import { AUTHOR_NOTE_LIMITS } from "@/lib/schemas";
import { useTRPC } from "@/lib/trpc/react";
import { useI18n } from "../i18n-provider";
import { PromptInspector } from "./prompt-inspector";

/**
 * The chat's author's note (an instruction put a few messages from the end of the conversation)
 * and the prompt inspector, in the chat settings panel.
 */
export function RoleplaySettings({ sessionId, authorNote, authorNoteDepth }: { sessionId: string; authorNote: string; authorNoteDepth: number }) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [note, setNote] = useState<string | null>(null);
  const [depth, setDepth] = useState<string | null>(null);
  const [inspecting, setInspecting] = useState(false);
  const save = useMutation(
    trpc.sessions.update.mutationOptions({
      onSuccess: async () => {
        setNote(null);
        setDepth(null);
        await queryClient.invalidateQueries({ queryKey: trpc.sessions.get.queryKey({ id: sessionId }) });
        await queryClient.invalidateQueries({ queryKey: trpc.chat.prompt.queryKey({ sessionId }) });
      },
    }),
  );
  const shownNote = note ?? authorNote;
  const shownDepth = depth ?? String(authorNoteDepth);
  const depthValue = Math.min(AUTHOR_NOTE_LIMITS.depth, Math.max(0, Math.round(Number(shownDepth) || 0)));
  const changed = shownNote.trim() !== authorNote || depthValue !== authorNoteDepth;

  return (
    <>
    <div className="space-y-3 rounded-xl border border-white/[0.06] p-3" data-testid="author-note">
      <div>
        <label className="label" htmlFor="chat-author-note">
          {t("authorNote.title")}
        </label>
        <textarea
          id="chat-author-note"
          className="field text-sm"
          rows={3}
          value={shownNote}
          maxLength={AUTHOR_NOTE_LIMITS.text}
          placeholder={t("authorNote.placeholder")}
          onChange={(event) => setNote(event.target.value)}
          data-testid="author-note-text"
        />
        <p className="mt-1 text-xs text-zinc-500">{t("authorNote.hint")}</p>
      </div>
      <div className="flex items-end gap-2">
        <div className="min-w-0 flex-1">
          <label className="label" htmlFor="chat-author-note-depth">
            {t("authorNote.depth")}
          </label>
          <input
            id="chat-author-note-depth"
            type="number"
            inputMode="numeric"
            min={0}
            max={AUTHOR_NOTE_LIMITS.depth}
            className="field"
            value={shownDepth}
            onChange={(event) => setDepth(event.target.value)}
            data-testid="author-note-depth"
          />
        </div>
        <button
          type="button"
          className="btn-primary h-11 shrink-0 px-4"
          disabled={!changed || save.isPending}
          onClick={() => save.mutate({ id: sessionId, authorNote: shownNote, authorNoteDepth: depthValue })}
          data-testid="author-note-save"
        >
          {save.isPending ? t("form.saving") : t("authorNote.save")}
        </button>
      </div>
      <p className="text-xs text-zinc-500">{t("authorNote.depthHint")}</p>
      {save.error && <p className="text-sm text-rose-400">{describeError(save.error, t)}</p>}
    </div>
    <button type="button" className="btn-ghost min-h-10 w-full" onClick={() => setInspecting(true)} aria-haspopup="dialog" data-testid="open-prompt-inspector">
      {t("inspector.open")}
    </button>
    {inspecting && <PromptInspector sessionId={sessionId} onClose={() => setInspecting(false)} />}
    </>
  );
}
