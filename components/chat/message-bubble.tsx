"use client";

import Image from "next/image";
import { memo, useState } from "react";
import { LIMITS } from "@/lib/schemas";
import type { RouterOutputs } from "@/lib/trpc/react";
import { DEFAULT_PORTRAIT } from "../character-card";
import { BranchIcon, CheckIcon, ChevronLeftIcon, ChevronRightIcon, CopyIcon, DownloadIcon, EditIcon, RefreshIcon, SpeakerIcon, StopSquareIcon, TrashIcon } from "../icons";
import { useI18n } from "../i18n-provider";
import { ConfirmDialog } from "../confirm-dialog";
import { ICON_BUTTON_BOX, IconButton } from "../icon-button";
import { MessageTime } from "./message-time";
import { ViewerMarkdown } from "./viewer-names";

type StoredMessage = RouterOutputs["sessions"]["messages"]["messages"][number];
export type BubbleMessage = Pick<StoredMessage, "id" | "role" | "content" | "status"> &
  Partial<Pick<StoredMessage, "thinking" | "createdAt" | "finishReason" | "timeToFirstTokenMs" | "seenFirstTokenMs" | "tokensPerSecond" | "swipeIndex" | "swipeCount">> & {
    /** Where a reply being written is (waiting for the model, loading, thinking, speaking). */
    stage?: ReplyStageView | null;
  };

export interface ReplyStageView {
  stage: "queued" | "loading" | "thinking" | "writing" | "speaking";
  ahead?: number;
}

/** The stage of a reply in the reader's words; nothing while it is simply being written. */
function stageSentence(stage: ReplyStageView, t: ReturnType<typeof useI18n>["t"]) {
  switch (stage.stage) {
    case "queued":
      return stage.ahead ? t("chat.stage.queued", { count: stage.ahead }) : t("chat.stage.next");
    case "loading":
      return t("chat.stage.loading");
    case "thinking":
      return t("chat.thinkingNow");
    case "speaking":
      return t("chat.stage.speaking");
    default:
      return null;
  }
}

/** What can be done with a message; an action that is absent is not offered. */
export interface BubbleActions {
  copy?: () => void;
  /** Changes the message's text; the conversation after it stays as it is. */
  edit?: (text: string) => void;
  /**
   * A message of the user's said differently and answered again: `replace` removes the `later`
   * messages after it, `branch` keeps them and goes on in a new chat.
   */
  answerAgain?: { later: number; replace: (text: string) => void; branch: (text: string) => void };
  /** A new chat with the history up to this message. */
  branch?: () => void;
  delete?: () => void;
  regenerate?: () => void;
  swipe?: (direction: "previous" | "next") => void;
  /** Writes more of a reply that was cut off by its length or stopped. */
  continue?: () => void;
  /** Reads the message aloud in the character's voice, or stops it when it is playing. */
  speak?: { playing: boolean; toggle: () => void };
  /** Where the message's speech is downloaded as one file. */
  download?: string;
}

interface BubbleProps {
  message: BubbleMessage;
  character: { name: string; imageUrl: string | null };
  actions?: BubbleActions;
}

/**
 * What a bubble's actions offer, as a string: which are there, whether it is playing, where it
 * downloads. Their functions are rebuilt on every render of the chat but only call stable
 * mutations with the message's id, so two bubbles with the same offer draw the same.
 */
function offer(actions: BubbleActions | undefined) {
  return Object.entries(actions ?? {})
    .filter(([, action]) => action !== undefined)
    .map(([name, action]) =>
      name === "speak"
        ? `speak:${(action as BubbleActions["speak"])!.playing}`
        : name === "download"
          ? `download:${String(action)}`
          : name === "answerAgain"
            ? `answerAgain:${(action as BubbleActions["answerAgain"])!.later}`
            : name,
    )
    .join(",");
}

/**
 * One message. A reply streaming in redraws the chat on every token: the bubbles of the history
 * are drawn again only when their message, character or offered actions change.
 */
export const MessageBubble = memo(
  MessageBubbleView,
  (before, after) => before.message === after.message && before.character === after.character && offer(before.actions) === offer(after.actions),
);

function MessageBubbleView({ message, character, actions = {} }: BubbleProps) {
  const { t } = useI18n();
  const [editing, setEditing] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  /** New text waiting for the answer to "the later messages go: branch instead?" */
  const [rewriting, setRewriting] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const isUser = message.role === "user";
  const streaming = message.status === "streaming";
  // What the reader waited (Enter → first character on screen) where the browser measured it, else the server's figure.
  const firstTokenMs = message.seenFirstTokenMs ?? message.timeToFirstTokenMs;

  const toolbar = (
    <div className={`flex flex-wrap items-center gap-0.5 ${isUser ? "justify-end" : ""}`} data-testid="message-actions">
      {message.createdAt && <MessageTime value={message.createdAt} />}
      {actions.swipe && (
        <div className="mr-1 flex items-center gap-0.5 text-xs text-zinc-400" data-testid="swipes">
          <IconButton label={t("chat.previous")} onClick={() => actions.swipe?.("previous")} testId="swipe-previous">
            <ChevronLeftIcon />
          </IconButton>
          <span className="tabular-nums" data-testid="swipe-position">
            {(message.swipeIndex ?? 0) + 1}/{message.swipeCount}
          </span>
          <IconButton
            label={(message.swipeIndex ?? 0) + 1 >= (message.swipeCount ?? 1) ? t("chat.swipeGenerate") : t("chat.next")}
            onClick={() => actions.swipe?.("next")}
            testId="swipe-next"
          >
            <ChevronRightIcon />
          </IconButton>
        </div>
      )}
      {actions.speak && (
        <IconButton
          label={actions.speak.playing ? t("speech.stop") : t("speech.play")}
          onClick={actions.speak.toggle}
          testId="speak"
          pressed={actions.speak.playing}
        >
          {actions.speak.playing ? <StopSquareIcon /> : <SpeakerIcon />}
        </IconButton>
      )}
      {actions.download && (
        <a
          href={actions.download}
          download
          title={t("speech.download")}
          aria-label={t("speech.download")}
          className={`${ICON_BUTTON_BOX} text-zinc-500 hover:bg-white/10 hover:text-zinc-100`}
          data-testid="download-audio"
        >
          <DownloadIcon />
        </a>
      )}
      {actions.regenerate && (
        <IconButton label={t("chat.regenerate")} onClick={actions.regenerate} testId="regenerate">
          <RefreshIcon />
        </IconButton>
      )}
      {actions.copy && (
        <IconButton
          label={copied ? t("chat.copied") : t("chat.copy")}
          onClick={() => {
            actions.copy?.();
            setCopied(true);
            setTimeout(() => setCopied(false), 1_500);
          }}
          testId="copy"
        >
          {copied ? <CheckIcon /> : <CopyIcon />}
        </IconButton>
      )}
      {actions.edit && (
        <IconButton label={t("chat.edit")} onClick={() => setEditing(message.content)} testId="edit">
          <EditIcon />
        </IconButton>
      )}
      {actions.branch && (
        <IconButton label={t("chat.branch")} onClick={actions.branch} testId="branch">
          <BranchIcon />
        </IconButton>
      )}
      {actions.delete && (
        <IconButton label={t("chat.delete")} onClick={() => setConfirming(true)} testId="delete-message">
          <TrashIcon />
        </IconButton>
      )}
    </div>
  );

  const deleteDialog = confirming && (
    <ConfirmDialog
      title={t("chat.deleteTitle")}
      body={isUser ? t("chat.deleteUserBody") : t("chat.deleteBody")}
      confirmLabel={t("chat.delete")}
      onConfirm={() => {
        setConfirming(false);
        actions.delete?.();
      }}
      onCancel={() => setConfirming(false)}
    />
  );
  const answerAgain = actions.answerAgain;
  const rewriteDialog = rewriting !== null && answerAgain && (
    <ConfirmDialog
      title={t("chat.rewriteTitle")}
      body={t("chat.rewriteBody", { count: answerAgain.later })}
      confirmLabel={t("chat.rewriteReplace")}
      onConfirm={() => {
        answerAgain.replace(rewriting);
        setRewriting(null);
      }}
      onCancel={() => setRewriting(null)}
      alternative={{
        label: t("chat.rewriteBranch"),
        onSelect: () => {
          answerAgain.branch(rewriting);
          setRewriting(null);
        },
      }}
    />
  );
  const dialog = (
    <>
      {deleteDialog}
      {rewriteDialog}
    </>
  );
  const editForm = editing !== null && (
    <EditForm
      text={editing}
      onChange={setEditing}
      onCancel={() => setEditing(null)}
      onSave={(text) => {
        actions.edit?.(text);
        setEditing(null);
      }}
      onAnswerAgain={
        answerAgain
          ? (text) => {
              setEditing(null);
              // Nothing after it would go: no question to ask.
              if (answerAgain.later === 0) answerAgain.replace(text);
              else setRewriting(text);
            }
          : undefined
      }
    />
  );

  // A narrator's line (a SillyTavern chat's system message): part of the story, never sent to the model.
  if (message.role === "system") {
    return (
      <div className="group flex flex-col items-center gap-1" data-testid="message" data-role="system" data-message-id={message.id}>
        <p className="max-w-[85%] rounded-full border border-white/[0.06] px-4 py-1.5 text-center text-sm text-zinc-400 italic" data-testid="message-text">
          {message.content}
        </p>
        {actions.delete && (
          <div className="opacity-100 transition md:opacity-0 md:group-hover:opacity-100 md:focus-within:opacity-100">
            <IconButton label={t("chat.delete")} onClick={() => setConfirming(true)} testId="delete-message">
              <TrashIcon />
            </IconButton>
          </div>
        )}
        {dialog}
      </div>
    );
  }

  if (isUser) {
    return (
      <div className="group flex flex-col items-end" data-testid="message" data-role="user" data-message-id={message.id}>
        {editForm ? (
          editForm
        ) : (
          <div data-testid="message-text" className="max-w-[85%] rounded-2xl rounded-br-md bg-gradient-to-br from-brand-600 to-accent-500 px-4 py-2.5 text-[15px] leading-relaxed whitespace-pre-wrap text-white shadow-lg shadow-brand-900/20">
            {message.content}
          </div>
        )}
        {editing === null && <div className="opacity-100 transition md:opacity-0 md:group-hover:opacity-100 md:group-focus-within:opacity-100">{toolbar}</div>}
        {dialog}
      </div>
    );
  }

  return (
    <div className="group flex gap-3" data-testid="message" data-role="assistant" data-status={message.status} data-message-id={message.id}>
      <Image src={character.imageUrl ?? DEFAULT_PORTRAIT} alt="" width={36} height={36} className="mt-0.5 size-9 shrink-0 rounded-full object-cover" />
      <div className="min-w-0 max-w-[85%]">
        <p className="mb-1 text-xs font-medium text-zinc-500">{character.name}</p>
        {message.thinking && (
          // What a thinking model thought: folded away, apart from the reply.
          <details className="mb-1.5 rounded-xl border border-white/[0.06] bg-ink-900/60 px-3 py-1.5 text-sm text-zinc-400" data-testid="thinking">
            <summary className="cursor-pointer text-xs font-medium text-zinc-500 select-none">
              {streaming && !message.content ? t("chat.thinkingNow") : t("chat.thinking")}
            </summary>
            <p className="mt-1.5 whitespace-pre-line" data-testid="thinking-text">
              {message.thinking}
            </p>
          </details>
        )}
        {editForm || (
        <div className="rounded-2xl rounded-tl-md border border-white/[0.06] bg-ink-800 px-4 py-2.5 text-[15px] leading-relaxed break-words whitespace-pre-line text-zinc-100" data-testid="message-text">
          {message.content ? <ViewerMarkdown text={message.content} /> : null}
          {streaming && (
            <span className="ml-1 inline-flex gap-1 align-middle" aria-label={t("chat.typing", { name: character.name })} data-testid="typing">
              <span className="size-1.5 animate-blink rounded-full bg-zinc-400" />
              <span className="size-1.5 animate-blink rounded-full bg-zinc-400 [animation-delay:150ms]" />
              <span className="size-1.5 animate-blink rounded-full bg-zinc-400 [animation-delay:300ms]" />
            </span>
          )}
        </div>
        )}
        {streaming && message.stage && stageSentence(message.stage, t) && (
          <p className="mt-1 text-xs text-zinc-400" data-testid="reply-stage" data-stage={message.stage.stage}>
            {stageSentence(message.stage, t)}
          </p>
        )}
        <div className="flex flex-wrap items-center gap-x-2">
          {message.status === "stopped" && <p className="mt-1 text-xs text-amber-300/80" data-testid="stopped-mark">{t("chat.stopped")}</p>}
          {message.status === "complete" && message.finishReason === "length" && (
            <p className="mt-1 text-xs text-amber-300/80" data-testid="cut-off-mark">
              {t("chat.cutOff")}
            </p>
          )}
          {actions.continue && (
            <button type="button" className="mt-1 text-xs font-medium text-brand-300 hover:underline" onClick={actions.continue} data-testid="continue">
              {t("chat.continue")}
            </button>
          )}
          {(message.status === "complete" || message.status === "stopped") && firstTokenMs != null && (
            // A stopped reply has no rate from the model (it never said how long it took): its wait only.
            <p className="mt-1 text-[11px] text-zinc-600 tabular-nums" data-testid="reply-stats">
              {message.tokensPerSecond != null
                ? t("chat.stats", { ttft: `${firstTokenMs} ms`, tps: message.tokensPerSecond.toFixed(1) })
                : t("chat.statsFirstToken", { ttft: `${firstTokenMs} ms` })}
            </p>
          )}
          {!streaming && editing === null && (
            <div className={actions.swipe ? "" : "opacity-100 transition md:opacity-0 md:group-hover:opacity-100 md:group-focus-within:opacity-100"}>
              {toolbar}
            </div>
          )}
        </div>
      </div>
      {dialog}
    </div>
  );
}

/** A message's text being changed: saved as it is, or (for the user's) answered again. */
function EditForm({
  text,
  onChange,
  onCancel,
  onSave,
  onAnswerAgain,
}: {
  text: string;
  onChange: (text: string) => void;
  onCancel: () => void;
  onSave: (text: string) => void;
  onAnswerAgain?: (text: string) => void;
}) {
  const { t } = useI18n();
  const trimmed = text.trim();
  return (
    <form
      className="w-full min-w-[min(36rem,80vw)] max-w-full space-y-2"
      onSubmit={(event) => {
        event.preventDefault();
        if (trimmed) onSave(trimmed);
      }}
      onKeyDown={(event) => {
        if (event.key === "Escape") {
          event.stopPropagation();
          onCancel();
        }
      }}
    >
      <textarea
        autoFocus
        value={text}
        maxLength={LIMITS.message}
        onChange={(event) => onChange(event.target.value)}
        className="field min-h-24 resize-y"
        aria-label={t("chat.edit")}
        data-testid="edit-input"
      />
      <div className="flex flex-wrap justify-end gap-2">
        <button type="button" className="btn-ghost px-3 py-1.5" onClick={onCancel}>
          {t("common.cancel")}
        </button>
        {onAnswerAgain && (
          <button type="button" className="btn-ghost px-3 py-1.5" disabled={!trimmed} onClick={() => onAnswerAgain(trimmed)} data-testid="edit-answer-again">
            {t("chat.editSave")}
          </button>
        )}
        <button type="submit" className="btn-primary px-3 py-1.5" disabled={!trimmed} data-testid="edit-save">
          {t("chat.editSaveOnly")}
        </button>
      </div>
    </form>
  );
}
