"use client";

import { skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import Image from "next/image";
import Link from "next/link";
import { useCallback, useLayoutEffect, useRef, useState } from "react";
import { describeError } from "@/lib/app-error";
import { LIMITS } from "@/lib/schemas";
import { useTRPC, type RouterOutputs } from "@/lib/trpc/react";
import { DEFAULT_PORTRAIT } from "../character-card";
import { useI18n } from "../i18n-provider";
import { MessageText } from "./message-text";

type StoredMessage = RouterOutputs["sessions"]["messages"]["messages"][number];

interface LiveReplyState {
  messageId: string;
  text: string;
}

interface Props {
  sessionId: string;
  title: string | null;
  model: string;
  historyLimit: number;
  character: { id: string; name: string; imageUrl: string | null };
}

export function ChatRoom({ sessionId, title, model, historyLimit, character }: Props) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const historyOptions = trpc.sessions.messages.queryOptions({ sessionId, limit: historyLimit });
  const history = useQuery(historyOptions);
  const stored = history.data?.messages ?? [];

  const [draft, setDraft] = useState("");
  const [pendingUser, setPendingUser] = useState<{ clientId: string; text: string } | null>(null);
  const [live, setLive] = useState<LiveReplyState | null>(null);
  const [sendError, setSendError] = useState<string | null>(null);

  // After a reload mid-reply, pick the reply up where the server is.
  const unfinished = stored.findLast((m) => m.role === "assistant" && m.status === "streaming");
  const followId = live?.messageId ?? unfinished?.id ?? null;

  const refreshHistory = useCallback(
    () => queryClient.invalidateQueries({ queryKey: historyOptions.queryKey }),
    [queryClient, historyOptions.queryKey],
  );

  useSubscription(
    trpc.chat.reply.subscriptionOptions(followId ? { messageId: followId } : skipToken, {
      onStarted: () => setLive((current) => (followId && current?.messageId !== followId ? { messageId: followId, text: "" } : current)),
      onData: ({ data: event }) => {
        if (!followId) return;
        if (event.type === "delta") {
          setLive((current) => ({
            messageId: followId,
            text: (current?.messageId === followId ? current.text : "") + event.text,
          }));
          return;
        }
        void refreshHistory().then(() => setLive(null));
      },
    }),
  );

  const send = useMutation(
    trpc.chat.send.mutationOptions({
      onSuccess: async ({ reply }) => {
        setLive({ messageId: reply.id, text: "" });
        await refreshHistory();
        setPendingUser(null);
      },
      onError: (error, input) => {
        // Nothing the user wrote is lost: the text goes back into the composer.
        setPendingUser(null);
        setDraft((current) => current || input.text);
        setSendError(describeError(error, t));
      },
    }),
  );
  const stop = useMutation(trpc.chat.stop.mutationOptions());
  const retry = useMutation(
    trpc.chat.retry.mutationOptions({
      onSuccess: async (reply) => {
        setLive({ messageId: reply.id, text: "" });
        await refreshHistory();
      },
      onError: (error) => setSendError(describeError(error, t)),
    }),
  );

  const replying = followId !== null || send.isPending;

  const submit = () => {
    const text = draft.trim();
    if (!text || replying) return;
    const clientId = crypto.randomUUID();
    setSendError(null);
    setPendingUser({ clientId, text });
    setDraft("");
    send.mutate({ sessionId, clientId, text });
  };

  // Follow the conversation as it grows, unless the reader scrolled up to read.
  const scroller = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [stored.length, live?.text, pendingUser]);

  const visible: StoredMessage[] = stored.filter((m) => !(live && m.id === live.messageId));
  const lastStored = stored.at(-1);
  const canRetry = !replying && lastStored?.role === "assistant" && (lastStored.status === "error" || lastStored.status === "stopped");

  return (
    <div className="mx-auto flex min-h-0 w-full max-w-3xl flex-1 flex-col" data-testid="chat-room" data-fullscreen-page="">
      <div className="flex items-center gap-3 border-b border-white/[0.06] px-4 py-3">
        <Link href={`/characters/${character.id}`} className="text-sm text-zinc-400 hover:text-zinc-100" aria-label={t("chat.back")}>
          ←
        </Link>
        <Image
          src={character.imageUrl ?? DEFAULT_PORTRAIT}
          alt=""
          width={40}
          height={40}
          className="size-10 rounded-full object-cover ring-2 ring-brand-500/40"
        />
        <div className="min-w-0">
          <p className="truncate font-semibold" data-testid="chat-character">
            {character.name}
          </p>
          <p className="truncate text-xs text-zinc-500">{title ?? t("chat.untitled", { name: character.name })}</p>
        </div>
        <span className="ml-auto hidden rounded-full border border-white/10 px-2.5 py-1 text-xs text-zinc-400 sm:inline" title={t("chat.model")}>
          {model}
        </span>
      </div>

      <div
        ref={scroller}
        onScroll={(event) => {
          const el = event.currentTarget;
          pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
        }}
        className="flex-1 space-y-5 overflow-y-auto px-4 py-6"
        data-testid="message-list"
      >
        {visible.length === 0 && !pendingUser && !live && <p className="pt-10 text-center text-sm text-zinc-500">{t("chat.empty")}</p>}
        {visible.map((message) => (
          <MessageBubble key={message.id} message={message} character={character} />
        ))}
        {pendingUser && (
          <MessageBubble
            message={{ id: pendingUser.clientId, role: "user", content: pendingUser.text, status: "complete" }}
            character={character}
          />
        )}
        {followId && (
          <MessageBubble
            message={{ id: followId, role: "assistant", content: live?.messageId === followId ? live.text : (unfinished?.content ?? ""), status: "streaming" }}
            character={character}
          />
        )}
        {canRetry && lastStored.status === "error" && (
          <div className="ml-12 flex flex-wrap items-center gap-3 rounded-xl border border-rose-400/20 bg-rose-500/10 px-3.5 py-2.5 text-sm" role="alert" data-testid="reply-error">
            <span className="text-rose-200">{lastStored.error ? lastStored.error : t("chat.failed")}</span>
            <span className="text-rose-200/70">{t("chat.kept")}</span>
            <button type="button" className="btn-ghost ml-auto px-3 py-1.5" onClick={() => retry.mutate({ messageId: lastStored.id })} data-testid="retry">
              {t("chat.retry")}
            </button>
          </div>
        )}
      </div>

      <div className="border-t border-white/[0.06] bg-ink-950/90 px-3 pt-3 pb-[max(0.75rem,env(safe-area-inset-bottom))] sm:px-4">
        {sendError && (
          <p className="mb-2 text-sm text-rose-400" role="alert" data-testid="send-error">
            {sendError}
          </p>
        )}
        <form
          className="flex items-end gap-2"
          onSubmit={(event) => {
            event.preventDefault();
            submit();
          }}
        >
          <textarea
            value={draft}
            onChange={(event) => setDraft(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
                event.preventDefault();
                submit();
              }
            }}
            rows={1}
            maxLength={LIMITS.message}
            placeholder={t("chat.placeholder", { name: character.name })}
            aria-label={t("chat.placeholder", { name: character.name })}
            className="field max-h-40 min-h-11 flex-1 resize-none [field-sizing:content]"
            data-testid="composer"
          />
          {followId ? (
            <button
              type="button"
              className="btn-ghost h-11 shrink-0"
              onClick={() => stop.mutate({ messageId: followId })}
              disabled={stop.isPending}
              data-testid="stop"
            >
              <span className="size-3 rounded-sm bg-current" aria-hidden />
              {t("chat.stop")}
            </button>
          ) : (
            <button type="submit" className="btn-primary h-11 shrink-0" disabled={!draft.trim() || replying} data-testid="send">
              {t("chat.send")}
            </button>
          )}
        </form>
        <p className="mt-1.5 hidden text-[11px] text-zinc-600 sm:block">{t("chat.enterHint")}</p>
      </div>
    </div>
  );
}

type BubbleMessage = Pick<StoredMessage, "id" | "role" | "content" | "status"> &
  Partial<Pick<StoredMessage, "timeToFirstTokenMs" | "tokensPerSecond">>;

function MessageBubble({ message, character }: { message: BubbleMessage; character: Props["character"] }) {
  const { t } = useI18n();
  if (message.role === "user") {
    return (
      <div className="flex justify-end" data-testid="message" data-role="user">
        <div className="max-w-[85%] rounded-2xl rounded-br-md bg-gradient-to-br from-brand-600 to-accent-500 px-4 py-2.5 text-[15px] leading-relaxed whitespace-pre-wrap text-white shadow-lg shadow-brand-900/20">
          {message.content}
        </div>
      </div>
    );
  }
  const streaming = message.status === "streaming";
  return (
    <div className="flex gap-3" data-testid="message" data-role="assistant" data-status={message.status} data-message-id={message.id}>
      <Image src={character.imageUrl ?? DEFAULT_PORTRAIT} alt="" width={36} height={36} className="mt-0.5 size-9 shrink-0 rounded-full object-cover" />
      <div className="min-w-0 max-w-[85%]">
        <p className="mb-1 text-xs font-medium text-zinc-500">{character.name}</p>
        <div className="rounded-2xl rounded-tl-md border border-white/[0.06] bg-ink-800 px-4 py-2.5 text-[15px] leading-relaxed whitespace-pre-wrap text-zinc-100">
          {message.content ? <MessageText text={message.content} /> : null}
          {streaming && (
            <span className="ml-1 inline-flex gap-1 align-middle" aria-label={t("chat.typing", { name: character.name })} data-testid="typing">
              <span className="size-1.5 animate-blink rounded-full bg-zinc-400" />
              <span className="size-1.5 animate-blink rounded-full bg-zinc-400 [animation-delay:150ms]" />
              <span className="size-1.5 animate-blink rounded-full bg-zinc-400 [animation-delay:300ms]" />
            </span>
          )}
        </div>
        {message.status === "stopped" && <p className="mt-1 text-xs text-amber-300/80">{t("chat.stopped")}</p>}
        {message.status === "complete" && message.timeToFirstTokenMs != null && message.tokensPerSecond != null && (
          <p className="mt-1 text-[11px] text-zinc-600 tabular-nums" data-testid="reply-stats">
            {t("chat.stats", { ttft: `${message.timeToFirstTokenMs} ms`, tps: message.tokensPerSecond.toFixed(1) })}
          </p>
        )}
      </div>
    </div>
  );
}
