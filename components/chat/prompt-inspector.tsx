"use client";

import { useQuery } from "@tanstack/react-query";
import { useRef } from "react";
import { createPortal } from "react-dom";
import { describeError } from "@/lib/app-error";
import type { MessageKey } from "@/lib/i18n";
import { useTRPC, type RouterOutputs } from "@/lib/trpc/react";
import { useDialogFocus } from "../hooks/use-dialog-focus";
import { useI18n } from "../i18n-provider";
import { CloseIcon } from "../icons";

type Inspected = RouterOutputs["chat"]["prompt"];
type InspectedMessage = Inspected["messages"][number];
type LoreEntry = Inspected["lorebook"]["entries"][number];

const PART_KEYS: Record<InspectedMessage["part"] | InspectedMessage["sections"][number]["part"], MessageKey> = {
  system: "inspector.part.system",
  summary: "inspector.part.summary",
  author_note: "inspector.part.author_note",
  history: "inspector.part.history",
  continuation: "inspector.part.continuation",
  intro: "inspector.part.intro",
  world_info: "inspector.part.world_info",
  character: "inspector.part.character",
  scenario: "inspector.part.scenario",
  persona: "inspector.part.persona",
  rules: "inspector.part.rules",
  examples: "inspector.part.examples",
  card_system_prompt: "inspector.part.card_system_prompt",
};

const REASON_KEYS: Record<LoreEntry["reason"], MessageKey> = {
  keyword: "inspector.lore.keyword",
  constant: "inspector.lore.constant",
  disabled: "inspector.lore.disabled",
  no_match: "inspector.lore.no_match",
  empty: "inspector.lore.empty",
  over_budget: "inspector.lore.over_budget",
};

/**
 * What the chat's next reply sends to the model, message by message and part by part, with
 * estimated tokens against the context window, and which lorebook entries are in it and why.
 * Built on the server by the same code as the reply itself.
 */
export function PromptInspector({ sessionId, onClose }: { sessionId: string; onClose: () => void }) {
  const { t, locale } = useI18n();
  const trpc = useTRPC();
  // Never from an earlier opening: the chat has moved on since. Refresh builds it again.
  const prompt = useQuery(trpc.chat.prompt.queryOptions({ sessionId }, { staleTime: 0, gcTime: 0, refetchOnMount: "always", refetchOnWindowFocus: false }));
  const dialogRef = useRef<HTMLDivElement>(null);
  const closeRef = useRef<HTMLButtonElement>(null);
  const number = new Intl.NumberFormat(locale);
  // The innermost dialog answers Esc: the settings panel under it stays open.
  useDialogFocus(dialogRef, { onClose, modal: true, initialFocus: closeRef });

  const data = prompt.data;
  const share = data ? Math.min(1, data.totalTokens / data.contextWindow) : 0;
  const overBudget = data ? data.totalTokens > data.promptBudget : false;

  return createPortal(
    <div className="fixed inset-0 z-50 flex items-stretch justify-center bg-black/60 backdrop-blur-sm sm:items-center sm:p-6" onMouseDown={onClose}>
      <div
        ref={dialogRef}
        role="dialog"
        aria-modal="true"
        aria-labelledby="prompt-inspector-title"
        className="flex max-h-full w-full max-w-3xl flex-col overflow-hidden border-white/10 bg-ink-900 shadow-2xl sm:rounded-2xl sm:border"
        onMouseDown={(event) => event.stopPropagation()}
        data-testid="prompt-inspector"
      >
        <header className="flex items-center gap-2 border-b border-white/[0.06] px-4 py-3">
          <h2 id="prompt-inspector-title" className="min-w-0 flex-1 truncate font-bold">
            {t("inspector.title")}
          </h2>
          <button type="button" className="btn-ghost h-9 px-3 text-sm" onClick={() => void prompt.refetch()} disabled={prompt.isFetching} data-testid="prompt-inspector-refresh">
            {t("inspector.refresh")}
          </button>
          <button ref={closeRef} type="button" onClick={onClose} className="grid size-9 place-items-center rounded-lg text-zinc-400 hover:bg-white/5" aria-label={t("common.close")}>
            <CloseIcon />
          </button>
        </header>

        <div className="min-h-0 flex-1 space-y-5 overflow-y-auto overscroll-contain p-4">
          {prompt.error && <p className="text-sm text-rose-400">{describeError(prompt.error, t)}</p>}
          {!data && !prompt.error && <p className="text-sm text-zinc-500">{t("inspector.loading")}</p>}
          {data && (
            <>
              <section aria-label={t("inspector.tokens")} data-testid="prompt-inspector-total">
                <div className="flex flex-wrap items-baseline justify-between gap-x-3 text-sm">
                  <span className="font-semibold">{t("inspector.tokens")}</span>
                  <span className={`tabular-nums ${overBudget ? "text-amber-300" : "text-zinc-300"}`}>
                    {t("inspector.tokensOf", { used: number.format(data.totalTokens), window: number.format(data.contextWindow) })}
                  </span>
                </div>
                <div className="mt-2 h-2 overflow-hidden rounded-full bg-white/5" aria-hidden>
                  <div className={`h-full rounded-full ${overBudget ? "bg-amber-400" : "bg-brand-500"}`} style={{ width: `${Math.max(1, share * 100)}%` }} />
                </div>
                <p className="mt-1.5 text-xs text-zinc-500">
                  {t("inspector.tokensHint", { model: data.model, budget: number.format(data.promptBudget) })}
                  {data.omittedTurns > 0 && ` ${t("inspector.omitted", { n: number.format(data.omittedTurns) })}`}
                </p>
              </section>

              <section>
                <h3 className="text-sm font-semibold">{t("inspector.lorebook")}</h3>
                {data.lorebook.entries.length === 0 ? (
                  <p className="mt-1 text-xs text-zinc-500">{t("inspector.noLorebook")}</p>
                ) : (
                  <>
                    <p className="mt-1 text-xs text-zinc-500">
                      {t("inspector.lorebookHint", { depth: data.lorebook.scanDepth, budget: number.format(data.lorebook.tokenBudget) })}
                    </p>
                    <ul className="mt-2 space-y-1.5" data-testid="prompt-inspector-lore">
                      {data.lorebook.entries.map((entry) => (
                        <li
                          key={entry.id}
                          className="flex flex-wrap items-center gap-x-2 gap-y-1 rounded-lg border border-white/[0.06] px-3 py-2 text-sm"
                          data-testid="lore-entry"
                          data-active={entry.active}
                        >
                          <span className={`size-2 shrink-0 rounded-full ${entry.active ? "bg-emerald-400" : "bg-zinc-600"}`} aria-hidden />
                          <span className="min-w-0 flex-1 truncate font-medium">{entry.name || entry.keys.join(", ") || t("inspector.unnamed")}</span>
                          <span className={`text-xs ${entry.active ? "text-emerald-300" : "text-zinc-500"}`} data-testid="lore-entry-status">
                            {t(entry.active ? "inspector.active" : "inspector.inactive")} · {t(REASON_KEYS[entry.reason], { key: entry.key ?? "" })}
                          </span>
                          <span className="text-xs tabular-nums text-zinc-500">{t("inspector.tokenCount", { n: number.format(entry.tokens) })}</span>
                        </li>
                      ))}
                    </ul>
                  </>
                )}
              </section>

              <section>
                <h3 className="text-sm font-semibold">{t("inspector.messages", { n: data.messages.length })}</h3>
                <ol className="mt-2 space-y-2" data-testid="prompt-inspector-messages">
                  {data.messages.map((message, index) => (
                    <li key={index}>
                      <MessageBlock message={message} />
                    </li>
                  ))}
                </ol>
              </section>
            </>
          )}
        </div>
      </div>
    </div>,
    document.body,
  );
}

const ROLE_STYLES: Record<string, string> = {
  system: "border-sky-400/20 bg-sky-400/[0.04]",
  user: "border-brand-400/25 bg-brand-500/[0.06]",
  assistant: "border-white/10 bg-white/[0.03]",
};

function MessageBlock({ message }: { message: InspectedMessage }) {
  const { t, locale } = useI18n();
  const number = new Intl.NumberFormat(locale);
  const parts = message.sections.length > 0 ? message.sections : null;
  // The history is long and familiar: closed by default; what the app adds is open.
  const open = message.part !== "history";
  return (
    <details className={`group rounded-xl border ${ROLE_STYLES[message.role] ?? ROLE_STYLES.assistant}`} open={open} data-testid="prompt-message" data-part={message.part}>
      <summary className="flex cursor-pointer list-none items-center gap-2 px-3 py-2 text-sm">
        <span className="shrink-0 rounded-md bg-white/5 px-1.5 py-0.5 font-mono text-[11px] text-zinc-400">{message.role}</span>
        <span className="min-w-0 flex-1 truncate font-medium">{t(PART_KEYS[message.part])}</span>
        <span className="shrink-0 text-xs tabular-nums text-zinc-500">{t("inspector.tokenCount", { n: number.format(message.tokens) })}</span>
      </summary>
      <div className="space-y-2 border-t border-white/[0.06] px-3 py-2">
        {parts ? (
          parts.map((section, index) => (
            <div key={index} data-testid="prompt-section" data-part={section.part}>
              <div className="flex items-center justify-between gap-2 text-xs text-zinc-400">
                <span className="font-semibold">{t(PART_KEYS[section.part])}</span>
                <span className="tabular-nums">{t("inspector.tokenCount", { n: number.format(section.tokens) })}</span>
              </div>
              <pre className="mt-1 max-h-72 overflow-auto whitespace-pre-wrap break-words rounded-lg bg-black/25 p-2 font-sans text-[13px] leading-relaxed text-zinc-200">{section.text}</pre>
            </div>
          ))
        ) : (
          <pre className="max-h-72 overflow-auto whitespace-pre-wrap break-words font-sans text-[13px] leading-relaxed text-zinc-200">{message.content}</pre>
        )}
      </div>
    </details>
  );
}
