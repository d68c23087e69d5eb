"use client";

import { skipToken, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import Image from "next/image";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type ReactNode } from "react";
import { describeError } from "@/lib/app-error";
import { LIMITS } from "@/lib/schemas";
import { spokenText } from "@/lib/speech/sentences";
import { useTRPC, useTRPCClient, type RouterOutputs } from "@/lib/trpc/react";
import type { ReplyEvent } from "@/server/chat/live-reply";
import { DEFAULT_PORTRAIT } from "../character-card";
import { AvatarView } from "../avatar/avatar-view";
import { useMediaQuery } from "../hooks/use-media-query";
import { useRememberedToggle } from "../hooks/use-remembered-toggle";
import { ArrowLeftIcon, AvatarIcon, SlidersIcon } from "../icons";
import { useI18n } from "../i18n-provider";
import { useSpeech } from "../speech/use-speech";
import { ChatMenu } from "./chat-menu";
import { SideSheet } from "../side-sheet";
import { ReplyAnnouncer } from "./reply-announcer";
import { useJumpToMessage } from "./use-jump-to-message";
import { CHAT_SETTINGS_TITLE, ChatSettings } from "./chat-settings";
import { MessageBubble, type ReplyStageView, type BubbleActions } from "./message-bubble";

type StoredMessage = RouterOutputs["sessions"]["messages"]["messages"][number];

interface LiveState {
  messageId: string;
  text: string;
  /** A thinking model's thoughts, shown apart from the text. */
  thinking: string;
  summarized: number | null;
  /** "send": the events come in the send's own response; "subscription": over `chat.reply`. */
  via: "send" | "subscription";
  /** Where a subscription starts (the text already shown), so nothing is repeated. */
  from: number;
  /** The id of the last event read from the send's stream: a subscription resumes exactly after it. */
  lastId?: string;
  /** Where the reply is: waiting for the model (and how many are ahead), loading, thinking, speaking. */
  stage?: ReplyStageView | null;
}

type ChatCharacter = RouterOutputs["sessions"]["get"]["character"];

interface Props {
  sessionId: string;
  historyLimit: number;
  character: Pick<ChatCharacter, "id" | "name" | "imageUrl" | "source" | "avatarUrl">;
}

/** A message on its way: its request, its text, and when Enter (or Send) was pressed. */
interface Sending {
  request: Promise<RouterOutputs["chat"]["send"]>;
  text: string;
  pressedAt: number;
}

export function ChatRoom({ sessionId, historyLimit, character: initialCharacter }: Props) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  // Prefetched by the page; fetched again when the title is generated or the settings change.
  const chat = useQuery(trpc.sessions.get.queryOptions({ id: sessionId }));
  // "snapshot": the owner no longer shares the character with this user; the chat goes on with it
  // as it was when the chat started, and its page (which they can't open) is not linked.
  const character = chat.data?.character ?? initialCharacter;
  const shared = character.source === "live";
  const title = chat.data?.session.title ?? null;
  // Speech in the character's voice: by itself as the reply is written ("realtime"), after it
  // ("delayed"), or from each reply's button; "off" turns it off, buttons included.
  // The voice is the server's choice (chat.speak), the same one realtime speech uses.
  const speech = useSpeech();
  const { stop: stopSpeech, stopAllBut: stopSpeechBut } = speech;
  const settings = chat.data?.session.settings;
  const speechOn = settings !== undefined && settings.ttsMode !== "off";
  const model = chat.data?.session.model ?? "";
  const historyOptions = trpc.sessions.messages.infiniteQueryOptions(
    { sessionId, limit: historyLimit },
    { getNextPageParam: (page) => page.nextCursor ?? undefined },
  );
  const history = useInfiniteQuery(historyOptions);
  // Pages come newest first; each page is in reading order.
  const stored: StoredMessage[] = [...(history.data?.pages ?? [])].reverse().flatMap((page) => page.messages);

  const [draft, setDraft] = useState("");
  const [pendingUser, setPendingUser] = useState<{ clientId: string; text: string } | null>(null);
  const [live, setLive] = useState<LiveState | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [settingsOpen, setSettingsOpen] = useState(false);
  /** Messages sent from this page so far (for tests and tools: a send was taken, whatever came of it). */
  const [sends, setSends] = useState(0);
  // The avatar beside the conversation (desktop) or above it (phone), on or off as last chosen.
  const [avatarShown, setAvatarShown] = useRememberedToggle("af-avatar-shown", true);
  const wide = useMediaQuery("(min-width: 1024px)");
  const avatar = avatarShown ? (character.avatarUrl ?? null) : null;
  const closeSettings = useCallback(() => setSettingsOpen(false), []);

  // After a reload mid-reply, pick the reply up where the server is.
  const unfinished = stored.findLast((m) => m.role === "assistant" && m.status === "streaming");
  const followId = live?.messageId ?? unfinished?.id ?? null;

  const refreshHistory = useCallback(
    () => queryClient.invalidateQueries({ queryKey: historyOptions.queryKey }),
    [queryClient, historyOptions.queryKey],
  );
  const untitled = chat.data !== undefined && title === null;
  const refreshSidebar = useCallback(() => {
    void queryClient.invalidateQueries({ queryKey: trpc.sessions.list.pathKey() });
    if (!untitled) return;
    // The LLM names the chat just after its first reply: look again shortly, and once more later
    // for a slow model.
    for (const delay of [2_500, 10_000]) {
      setTimeout(() => {
        const known = queryClient.getQueryData(trpc.sessions.get.queryKey({ id: sessionId }));
        if (known?.session.title) return;
        void queryClient.invalidateQueries({ queryKey: trpc.sessions.list.pathKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.sessions.get.queryKey({ id: sessionId }) });
      }, delay);
    }
  }, [queryClient, trpc, sessionId, untitled]);

  const follow = (messageId: string) => setLive({ messageId, text: "", thinking: "", summarized: null, via: "subscription", from: 0 });
  const fail = (error: unknown) => setActionError(describeError(error, t));

  /** One event of the reply `messageId`, from whichever connection carries it. */
  const apply = (messageId: string, event: ReplyEvent, via: LiveState["via"]) => {
    if (event.type === "audio") return speech.enqueue(messageId, event.index, event.url, event.live);
    if (event.type === "speech_error") return speech.fail(messageId, { message: event.message, data: { appCode: event.code } });
    if (event.type === "stage") {
      setLive((current) => (current?.messageId === messageId ? { ...current, stage: { stage: event.stage, ahead: event.ahead } } : current));
      return;
    }
    if (event.type === "delta" || event.type === "thinking" || event.type === "notice") {
      setLive((current) => {
        const base = current?.messageId === messageId ? current : { messageId, text: "", thinking: "", summarized: null, via: "subscription" as const, from: 0 };
        if (event.type === "notice") return { ...base, summarized: event.turns };
        return event.type === "delta" ? { ...base, text: base.text + event.text } : { ...base, thinking: base.thinking + event.text };
      });
      return;
    }
    // Over a resumed subscription the stream is left at this point: no more sentences will come.
    if (via === "subscription") speech.close(messageId);
    // Cancelled by whatever silences speech: leaving the chat, a new reply, Stop, playing something else.
    if (event.type === "done" && event.status === "complete" && settings?.ttsMode === "delayed" && spokenText(event.content)) {
      speech.speakReplyLater(messageId, settings.ttsDelayMs);
    }
    void refreshHistory().then(() => setLive(null));
    refreshSidebar();
  };

  /** Reads the events that came with the send; if that connection drops, the subscription takes over. */
  /** `pressedAt`: when the user sent the message (performance.now()), for the first-token figure they experienced. */
  const readStreamedReply = async (messageId: string, events: RouterOutputs["chat"]["send"]["events"], pressedAt: number | null = null) => {
    setLive({ messageId, text: "", thinking: "", summarized: null, via: "send", from: 0 });
    let finished = false;
    try {
      for await (const { event, id } of events) {
        finished ||= event.type === "done" || event.type === "error";
        apply(messageId, event, "send");
        if (pressedAt !== null && event.type === "delta" && event.text.trim()) {
          noteSeenFirstToken(messageId, pressedAt);
          pressedAt = null;
        }
        setLive((current) => (current?.messageId === messageId ? { ...current, lastId: id } : current));
      }
    } catch {
      // The connection dropped: below, the subscription continues from the text already shown.
    }
    // The stream ends after the reply's last sentence was spoken.
    speech.close(messageId);
    if (!finished) {
      // Without text yet, the subscription starts over, thinking included.
      setLive((current) =>
        current?.messageId === messageId ? { ...current, via: "subscription", from: current.text.length, thinking: current.text ? current.thinking : "" } : current,
      );
    }
  };

  const subscribed = followId !== null && live?.via !== "send";
  useSubscription(
    trpc.chat.reply.subscriptionOptions(
      subscribed && followId
        ? { messageId: followId, ...(live?.lastId ? { lastEventId: live.lastId } : live?.from ? { lastEventId: String(live.from) } : {}) }
        : skipToken,
      {
        onStarted: () =>
          setLive((current) =>
            followId && current?.messageId !== followId ? { messageId: followId, text: "", thinking: "", summarized: null, via: "subscription", from: 0 } : current,
          ),
        onData: ({ data: event }) => {
          if (followId) apply(followId, event, "subscription");
        },
      },
    ),
  );

  // A send's request is made in `submit` itself (see there); the mutation tracks it for the UI.
  const send = useMutation({
    mutationFn: (sending: Sending) => sending.request,
    onSuccess: async ({ reply, events }, sending) => {
      void readStreamedReply(reply.id, events, sending.pressedAt);
      await refreshHistory();
      setPendingUser(null);
    },
    onError: (error, sending) => {
      // Nothing the user wrote is lost: the text goes back into the composer.
      setPendingUser(null);
      setDraft((current) => current || sending.text);
      fail(error);
    },
  });
  /** Between Enter and the mutation taking over (one task): a second Enter is not a second send. */
  const submitting = useRef(false);
  const afterReplyStarted = {
    onMutate: stopSpeech,
    onSuccess: async (reply: { id: string }) => {
      follow(reply.id);
      await refreshHistory();
    },
    onError: fail,
  };
  const stop = useMutation(trpc.chat.stop.mutationOptions({ onError: fail }));
  /** Enter → first character painted, per reply this page saw begin (kept on the server too). */
  const [seenFirstToken, setSeenFirstToken] = useState<Record<string, number>>({});
  const reportSeen = useMutation(trpc.chat.seen.mutationOptions());
  /**
   * The reply's first character is in the document: once the frame that paints it is done (a task
   * queued from that frame's animation callback runs right after its paint), that is what the
   * reader waited.
   */
  const noteSeenFirstToken = (messageId: string, pressedAt: number) => {
    requestAnimationFrame(() => {
      const afterPaint = new MessageChannel();
      afterPaint.port1.onmessage = () => {
        const firstTokenMs = Math.min(600_000, Math.round(performance.now() - pressedAt));
        setSeenFirstToken((current) => ({ ...current, [messageId]: firstTokenMs }));
        reportSeen.mutate({ messageId, firstTokenMs });
      };
      afterPaint.port2.postMessage(null);
    });
  };
  const retry = useMutation(trpc.chat.retry.mutationOptions(afterReplyStarted));
  const regenerate = useMutation(trpc.chat.regenerate.mutationOptions(afterReplyStarted));
  // The same message grows: it is followed from the text it already has.
  const continueReply = useMutation(
    trpc.chat.continue.mutationOptions({
      onMutate: stopSpeech,
      onSuccess: async (reply) => {
        setLive({ messageId: reply.id, text: reply.content, thinking: reply.thinking ?? "", summarized: null, via: "subscription", from: reply.content.length });
        await refreshHistory();
      },
      onError: fail,
    }),
  );
  const edit = useMutation(
    trpc.chat.edit.mutationOptions({ onMutate: stopSpeech, onSuccess: ({ reply }) => afterReplyStarted.onSuccess(reply), onError: fail }),
  );
  const swipe = useMutation(trpc.chat.swipe.mutationOptions({ onSuccess: () => refreshHistory(), onError: fail }));
  const editText = useMutation(trpc.chat.editMessage.mutationOptions({ onSuccess: () => refreshHistory(), onError: fail }));
  const router = useRouter();
  // A branch is a chat of its own: the reader goes there (its reply, if any, is followed there).
  const branch = useMutation(
    trpc.chat.branch.mutationOptions({
      onMutate: stopSpeech,
      onSuccess: async ({ sessionId: branchId }) => {
        await queryClient.invalidateQueries({ queryKey: trpc.sessions.list.pathKey() });
        router.push(`/chat/${branchId}`);
      },
      onError: fail,
    }),
  );
  const remove = useMutation(trpc.chat.deleteMessage.mutationOptions({ onSuccess: () => refreshHistory(), onError: fail }));

  const busy =
    followId !== null || send.isPending || retry.isPending || regenerate.isPending || continueReply.isPending || edit.isPending || branch.isPending;

  // A new reply being written (sent, regenerated, edited) silences the old one; its own speech (a
  // fast reply may already be speaking, or waiting to be read, when this runs) goes on.
  useEffect(() => {
    if (followId) stopSpeechBut(followId);
  }, [followId, stopSpeechBut]);
  // Another chat (or none): nothing of this one plays on, nor starts later.
  useEffect(() => stopSpeech, [sessionId, stopSpeech]);
  const shownError = actionError ?? (speech.error ? describeError(speech.error.error, t) : null);

  const submit = () => {
    const text = draft.trim();
    if (!text || busy || submitting.current) return;
    submitting.current = true;
    const pressedAt = performance.now();
    const clientId = crypto.randomUUID();
    // The request leaves before anything is drawn: tRPC's batch link sends on a timer, queued here
    // ahead of the one below that shows the message — drawing first cost the reply 15–25 ms.
    const request = client.chat.send.mutate({ sessionId, clientId, text });
    request.catch(() => {}); // the mutation reports it
    setTimeout(() => {
      submitting.current = false;
      setActionError(null);
      stopSpeech();
      setPendingUser({ clientId, text });
      setSends((n) => n + 1);
      setDraft("");
      send.mutate({ request, pressedAt, text });
    }, 0);
  };

  // Follow the conversation as it grows, unless the reader scrolled up to read.
  const scroller = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  const unpin = useCallback(() => {
    pinned.current = false;
  }, []);
  // A search hit opens the chat at its message.
  useJumpToMessage({
    loadedIds: stored.map((m) => m.id),
    hasOlder: history.hasNextPage,
    loadingOlder: history.isFetchingNextPage,
    loadOlder: history.fetchNextPage,
    scrollerRef: scroller,
    unpin,
  });
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [stored.length, live?.text, pendingUser]);

  const visible = stored.filter((m) => !(followId && m.id === followId));
  const last = visible.at(-1);
  const lastUserIndex = visible.findLastIndex((m) => m.role === "user");

  const canSpeak = (message: StoredMessage) =>
    message.role === "assistant" && message.status !== "streaming" && speechOn && spokenText(message.content) !== "";
  const actionsFor = (message: StoredMessage, index: number): BubbleActions => {
    const isLast = index === visible.length - 1 && !followId;
    const settled = message.status !== "streaming";
    const canRegenerate = isLast && message.role === "assistant" && lastUserIndex >= 0 && lastUserIndex < index && !busy;
    const atLastAlternative = message.swipeIndex + 1 >= message.swipeCount;
    return {
      copy: message.content ? () => void navigator.clipboard?.writeText(message.content) : undefined,
      edit: settled && message.status !== "error" && !busy ? (text) => editText.mutate({ messageId: message.id, text }) : undefined,
      answerAgain:
        message.role === "user" && !busy
          ? {
              later: visible.length - 1 - index,
              replace: (text) => edit.mutate({ messageId: message.id, text }),
              branch: (text) => branch.mutate({ messageId: message.id, text }),
            }
          : undefined,
      branch: settled && !busy ? () => branch.mutate({ messageId: message.id }) : undefined,
      delete: !busy ? () => remove.mutate({ messageId: message.id }) : undefined,
      regenerate: canRegenerate ? () => regenerate.mutate({ messageId: message.id }) : undefined,
      // Past the last alternative, → writes a new one (as a regeneration does).
      swipe:
        isLast && !busy && (message.swipeCount > 1 || canRegenerate)
          ? (direction) =>
              direction === "next" && atLastAlternative && canRegenerate
                ? regenerate.mutate({ messageId: message.id })
                : swipe.mutate({ messageId: message.id, direction })
          : undefined,
      continue:
        isLast && message.role === "assistant" && !busy && (message.status === "stopped" || (message.status === "complete" && message.finishReason === "length"))
          ? () => continueReply.mutate({ messageId: message.id })
          : undefined,
      download: canSpeak(message) ? `/api/messages/${message.id}/audio` : undefined,
      speak:
        canSpeak(message)
          ? {
              playing: speech.playing === message.id,
              // A reply spoken as it was written replays its own sentences (the server knows them).
              toggle: () => (speech.playing === message.id ? speech.stop() : speech.speakReply(message.id)),
            }
          : undefined,
    };
  };

  return (
    <main className="flex min-h-0 min-w-0 flex-1 flex-col" data-testid="chat-room" data-owns-phone-screen="" data-busy={busy ? "true" : "false"} data-sends={sends}>
      <ReplyAnnouncer last={last} name={character.name} />
      <div className="flex items-center gap-3 border-b border-white/[0.06] px-3 py-2.5 sm:px-4">
        <Link href="/chat" className="grid size-11 place-items-center rounded-lg text-zinc-400 hover:bg-white/5 md:hidden" aria-label={t("nav.chats")}>
          <ArrowLeftIcon />
        </Link>
        <CharacterHeading href={shared ? `/characters/${character.id}` : null}>
          <Image src={character.imageUrl ?? DEFAULT_PORTRAIT} alt="" width={40} height={40} className="size-10 rounded-full object-cover ring-2 ring-brand-500/40" />
          <div className="min-w-0">
            <h1 className="truncate font-semibold" data-testid="chat-character">
              {character.name}
            </h1>
            <p className="truncate text-xs text-zinc-500" data-testid="chat-heading-title">
              {title ?? t("chat.untitled", { name: character.name })}
            </p>
          </div>
        </CharacterHeading>
        <button
          type="button"
          onClick={() => setSettingsOpen((open) => !open)}
          className="ml-auto flex items-center justify-center gap-2 rounded-full border border-white/10 px-3 py-1.5 text-xs text-zinc-300 hover:bg-white/5 max-md:min-h-11 max-md:min-w-11"
          aria-expanded={settingsOpen}
          data-testid="open-settings"
        >
          <span className="hidden max-w-40 truncate sm:inline">{model}</span>
          <SlidersIcon />
          <span className="sr-only">{t("settings.title")}</span>
        </button>
        {character.avatarUrl && (
          <button
            type="button"
            onClick={() => setAvatarShown(!avatarShown)}
            className="grid size-11 place-items-center rounded-lg text-zinc-400 hover:bg-white/5 hover:text-zinc-100"
            aria-pressed={avatarShown}
            aria-label={avatarShown ? t("avatar.hide") : t("avatar.show")}
            title={avatarShown ? t("avatar.hide") : t("avatar.show")}
            data-testid="toggle-avatar"
          >
            <AvatarIcon />
          </button>
        )}
        <ChatMenu sessionId={sessionId} characterId={shared ? character.id : null} busy={busy} onCleared={() => void refreshHistory()} onError={fail} />
      </div>

      {!shared && (
        <p className="border-b border-white/[0.06] bg-amber-500/5 px-4 py-2 text-center text-xs text-amber-200/80" role="note" data-testid="character-snapshot-note">
          {t("chat.characterSnapshot", { name: character.name })}
        </p>
      )}

      {avatar && !wide && <AvatarView url={avatar} poster={character.imageUrl ?? DEFAULT_PORTRAIT} name={character.name} orbit={false} className="mx-3 mt-2 h-[32vh] max-h-64 shrink-0" />}
      <div className="relative flex min-h-0 flex-1">
        {avatar && wide && (
          <div className="order-last w-72 shrink-0 border-l border-white/[0.06] p-3 xl:w-80">
            <AvatarView url={avatar} poster={character.imageUrl ?? DEFAULT_PORTRAIT} name={character.name} className="aspect-[3/4] w-full" />
          </div>
        )}
        {settingsOpen && (
          <SideSheet onClose={closeSettings} labelledBy={CHAT_SETTINGS_TITLE} testId="chat-settings-sheet">
            <ChatSettings sessionId={sessionId} onClose={closeSettings} />
          </SideSheet>
        )}
        <div
          ref={scroller}
          onScroll={(event) => {
            const el = event.currentTarget;
            pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
          }}
          className="min-w-0 flex-1 overflow-y-auto"
          data-testid="message-list"
        >
          <div className="mx-auto max-w-3xl space-y-3 px-3 py-6 sm:px-5">
            {history.hasNextPage && (
              <button type="button" className="mx-auto block rounded-full border border-white/10 px-4 py-1.5 text-xs text-zinc-400 hover:bg-white/5" onClick={() => void history.fetchNextPage()}>
                {t("chat.loadOlder")}
              </button>
            )}
            {visible.length === 0 && !pendingUser && !followId && <p className="pt-10 text-center text-sm text-zinc-500">{t("chat.empty")}</p>}
            {visible.map((message, index) => (
              <MessageBubble
                key={message.id}
                message={message.id in seenFirstToken ? { ...message, seenFirstTokenMs: seenFirstToken[message.id] } : message}
                character={character}
                actions={actionsFor(message, index)}
              />
            ))}
            {pendingUser && (
              <MessageBubble message={{ id: pendingUser.clientId, role: "user", content: pendingUser.text, status: "complete" }} character={character} />
            )}
            {live?.summarized != null && (
              <p className="text-center text-xs text-zinc-500" data-testid="memory-notice">
                {t("chat.summarized", { count: live.summarized })}
              </p>
            )}
            {followId && (
              <MessageBubble
                message={{
                  id: followId,
                  role: "assistant",
                  content: live?.messageId === followId ? live.text : (unfinished?.content ?? ""),
                  thinking: live?.messageId === followId ? live.thinking : (unfinished?.thinking ?? null),
                  stage: live?.messageId === followId ? live.stage : null,
                  status: "streaming",
                }}
                character={character}
              />
            )}
            {!busy && last?.role === "assistant" && last.status === "error" && (
              <div className="flex flex-wrap items-center gap-3 rounded-xl border border-rose-400/20 bg-rose-500/10 px-3.5 py-2.5 text-sm sm:ml-12" role="alert" data-testid="reply-error">
                <span className="text-rose-200">
                  {last.errorCode ? describeError({ data: { appCode: last.errorCode, appParams: last.errorParams } }, t) : t("chat.failed")}
                </span>
                <span className="text-rose-200/70">{t("chat.kept")}</span>
                <button type="button" className="btn-ghost ml-auto px-3 py-1.5" onClick={() => retry.mutate({ messageId: last.id })} data-testid="retry">
                  {t("chat.retry")}
                </button>
              </div>
            )}
          </div>
        </div>
      </div>

      <div className="border-t border-white/[0.06] bg-ink-950/90 px-3 pt-3 pb-[max(0.75rem,env(safe-area-inset-bottom))] sm:px-4">
        <div className="mx-auto max-w-3xl">
          {shownError && (
            <p className="mb-2 text-sm text-rose-400" role="alert" data-testid="send-error">
              {shownError}
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
              <button type="button" className="btn-ghost h-11 shrink-0" onClick={() => {
                  stopSpeech();
                  stop.mutate({ messageId: followId });
                }} disabled={stop.isPending} data-testid="stop">
                <span className="size-3 rounded-sm bg-current" aria-hidden />
                {t("chat.stop")}
              </button>
            ) : (
              <button type="submit" className="btn-primary h-11 shrink-0" disabled={!draft.trim() || busy} data-testid="send">
                {t("chat.send")}
              </button>
            )}
          </form>
          <p className="mt-1.5 hidden text-[11px] text-zinc-600 sm:block">{t("chat.enterHint")}</p>
        </div>
      </div>
    </main>
  );
}

/** The character's name and portrait, linked to its page when the user may open it. */
function CharacterHeading({ href, children }: { href: string | null; children: ReactNode }) {
  const className = "flex min-w-0 items-center gap-3";
  if (!href) return <div className={className}>{children}</div>;
  return (
    <Link href={href} className={className}>
      {children}
    </Link>
  );
}
