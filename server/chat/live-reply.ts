import type { AppErrorCode } from "@/lib/errors";

export interface ReplyStats {
  promptTokens: number | null;
  completionTokens: number | null;
  timeToFirstTokenMs: number | null;
  durationMs: number;
  tokensPerSecond: number | null;
}

/**
 * What a reply's stream carries. Open for more kinds: speech adds per-sentence audio events.
 * `delta` text is appended in order; the stream ends with exactly one `done` or `error`.
 */
export type ReplyEvent =
  | { type: "delta"; text: string }
  /** Older turns were folded into the chat's running summary before this reply. */
  | { type: "notice"; kind: "memory_summarized"; turns: number }
  /** Realtime speech: one sentence's audio, in order (a resuming reader may see one again: same index). */
  | { type: "audio"; index: number; text: string; url: string }
  /** Realtime speech stopped: the voice server failed. The text is unaffected. */
  | { type: "speech_error"; code: AppErrorCode; message: string }
  | { type: "done"; status: "complete" | "stopped"; content: string; stats: ReplyStats }
  | { type: "error"; status: "error"; content: string; code: AppErrorCode; params: Record<string, string | number>; message: string };

export type FinalEvent = Extract<ReplyEvent, { type: "done" | "error" }>;
export type NoticeEvent = Extract<ReplyEvent, { type: "notice" }>;
export type SpeechEvent = Extract<ReplyEvent, { type: "audio" | "speech_error" }>;

/** An event and the reply length after it: the resume point a reconnecting client sends back. */
export interface PositionedEvent {
  offset: number;
  event: ReplyEvent;
}

/**
 * The in-memory state of one reply being written. Readers follow it from any offset and get
 * the text they miss coalesced into one delta, so a slow reader never holds the writer back.
 * With realtime speech the stream stays open after the final event until the last sentence's
 * audio is out.
 */
export class LiveReply {
  text = "";
  final: FinalEvent | null = null;
  readonly notices: NoticeEvent[] = [];
  readonly speech: SpeechEvent[] = [];
  /** Sentences of this reply are still being synthesised. */
  speaking = false;
  private wake: () => void = () => {};
  private changed: Promise<void> = this.nextChange();

  constructor(
    readonly messageId: string,
    readonly sessionId: string,
  ) {}

  private nextChange() {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }

  private notify() {
    const wake = this.wake;
    this.changed = this.nextChange();
    wake();
  }

  append(text: string) {
    if (!text || this.final) return;
    this.text += text;
    this.notify();
  }

  notice(event: NoticeEvent) {
    if (this.final) return;
    this.notices.push(event);
    this.notify();
  }

  /** Realtime speech begins: readers stay until it ends. */
  startSpeaking() {
    this.speaking = true;
  }

  speak(event: SpeechEvent) {
    if (!this.speaking) return;
    this.speech.push(event);
    this.notify();
  }

  stopSpeaking() {
    if (!this.speaking) return;
    this.speaking = false;
    this.notify();
  }

  finish(event: FinalEvent) {
    if (this.final) return;
    this.final = event;
    this.notify();
  }

  async *follow(from: number, signal?: AbortSignal): AsyncGenerator<PositionedEvent> {
    let offset = Math.max(0, Math.min(from, this.text.length));
    // A reader resuming mid-reply has seen the notices already.
    let noticesSeen = from > 0 ? this.notices.length : 0;
    let speechSeen = 0;
    let finalSent = false;
    const aborted = new Promise<void>((resolve) => signal?.addEventListener("abort", () => resolve(), { once: true }));
    while (!signal?.aborted) {
      if (this.notices.length > noticesSeen) {
        yield { offset, event: this.notices[noticesSeen++]! };
        continue;
      }
      if (this.text.length > offset) {
        const text = this.text.slice(offset);
        offset = this.text.length;
        yield { offset, event: { type: "delta", text } };
        continue;
      }
      if (this.speech.length > speechSeen) {
        yield { offset, event: this.speech[speechSeen++]! };
        continue;
      }
      if (this.final && !finalSent) {
        finalSent = true;
        yield { offset, event: this.final };
        continue;
      }
      if (finalSent && !this.speaking) return;
      await Promise.race([this.changed, aborted]);
    }
  }

  /** Resolves once the reply is finished and its speech too. */
  async settled() {
    while (!this.final || this.speaking) await this.changed;
  }
}

const holder = globalThis as unknown as { afLiveReplies?: Map<string, LiveReply> };

/** Replies being written by this process, by assistant message id. */
export const liveReplies: Map<string, LiveReply> = (holder.afLiveReplies ??= new Map());
