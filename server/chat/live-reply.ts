import type { AppErrorCode } from "@/lib/errors";

export interface ReplyStats {
  promptTokens: number | null;
  completionTokens: number | null;
  timeToFirstTokenMs: number | null;
  durationMs: number;
  tokensPerSecond: number | null;
}

/** Where a reply is: waiting for its turn on the LLM server, the model loading or reading the prompt, thinking, writing, or speaking what it wrote. */
export type ReplyStage = "queued" | "loading" | "thinking" | "writing" | "speaking";

/** How the model ended a reply: on its own, or cut off by the reply's token budget (`num_predict`). */
export type FinishReason = "stop" | "length";

/**
 * What a reply's stream carries. Open for more kinds: speech adds per-sentence audio events.
 * `delta` text is appended in order; the stream ends with exactly one `done` or `error`.
 */
export type ReplyEvent =
  | { type: "delta"; text: string }
  /** The reply's stage as it changes; `ahead` (queued): replies that go before it on the server. */
  | { type: "stage"; stage: ReplyStage; ahead?: number }
  /** Older turns were folded into the chat's running summary after the previous reply. */
  | { type: "notice"; kind: "memory_summarized"; turns: number }
  /** A thinking model's thoughts before it answers, appended in order: shown apart, never part of the reply. */
  | { type: "thinking"; text: string }
  /**
   * Realtime speech: one sentence's audio, in order (a resuming reader may see one again: same
   * index). `live`: still being synthesised (a streaming mode), its URL serves it as it grows.
   */
  | { type: "audio"; index: number; text: string; url: string; live?: boolean }
  /** Realtime speech stopped: the voice server failed. The text is unaffected. */
  | { type: "speech_error"; code: AppErrorCode; message: string }
  /** `finishReason` "length": cut off by its token budget, and can be continued; null when stopped. */
  | { type: "done"; status: "complete" | "stopped"; content: string; stats: ReplyStats; finishReason: FinishReason | null }
  | { type: "error"; status: "error"; content: string; code: AppErrorCode; params: Record<string, string | number>; message: string };

export type FinalEvent = Extract<ReplyEvent, { type: "done" | "error" }>;
export type NoticeEvent = Extract<ReplyEvent, { type: "notice" }>;
export type SpeechEvent = Extract<ReplyEvent, { type: "audio" | "speech_error" }>;
export type StageEvent = Extract<ReplyEvent, { type: "stage" }>;

/**
 * Where a reader is in a reply's stream: how much text and thinking it has, how many audio clips,
 * and whether it got the final event. Each event's id is the position after it, so a reader that
 * resumes from the last id it saw gets every later event exactly once, from this instance's memory
 * or from the database alike. (Stages, notices and speech errors say how things are now: a resumed
 * reader gets the current ones, not the history.)
 */
export interface StreamPosition {
  text: number;
  thinking: number;
  audio: number;
  final: boolean;
}

export const START: StreamPosition = { text: 0, thinking: 0, audio: 0, final: false };

export function positionId(p: StreamPosition) {
  return `${p.text}.${p.thinking}.${p.audio}.${p.final ? 1 : 0}`;
}

/** A text offset alone (what older clients send) as a position: mid-reply, the thinking was had. */
export function asPosition(from: StreamPosition | number): StreamPosition {
  if (typeof from !== "number") return from;
  return { text: from, thinking: from > 0 ? Number.MAX_SAFE_INTEGER : 0, audio: 0, final: false };
}

/** The position an event id names; a bare number (older clients) is a text offset. */
export function parsePosition(id: string | null | undefined): StreamPosition {
  if (!id) return START;
  const exact = /^(\d{1,9})\.(\d{1,9})\.(\d{1,5})\.([01])(?:~\w+)?$/.exec(id);
  if (exact) return { text: Number(exact[1]), thinking: Number(exact[2]), audio: Number(exact[3]), final: exact[4] === "1" };
  return asPosition(/^\d{1,9}$/.test(id) ? Number(id) : 0);
}

/** An event, its unique id (the position after it), and the reply length after it. */
export interface PositionedEvent {
  offset: number;
  id: string;
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
  thinking = "";
  final: FinalEvent | null = null;
  readonly notices: NoticeEvent[] = [];
  readonly speech: SpeechEvent[] = [];
  /** The current stage; `stageVersion` counts changes, so readers see each change once. */
  stage: StageEvent | null = null;
  stageVersion = 0;
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

  /** The reply moved on (queued with N ahead, loading, thinking, writing, speaking). */
  setStage(stage: StageEvent["stage"], ahead?: number) {
    if (this.final && stage !== "speaking") return;
    if (this.stage?.stage === stage && this.stage.ahead === ahead) return;
    this.stage = { type: "stage", stage, ...(ahead === undefined ? {} : { ahead }) };
    this.stageVersion += 1;
    this.notify();
  }

  notice(event: NoticeEvent) {
    if (this.final) return;
    this.notices.push(event);
    this.notify();
  }

  appendThinking(text: string) {
    if (!text || this.final) return;
    this.thinking += text;
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

  async *follow(position: StreamPosition | number, signal?: AbortSignal): AsyncGenerator<PositionedEvent> {
    const from = asPosition(position);
    const at: StreamPosition = {
      text: Math.max(0, Math.min(from.text, this.text.length)),
      thinking: Math.min(from.thinking, this.thinking.length),
      audio: from.audio,
      final: from.final,
    };
    // A reader resuming mid-reply has seen the notices already.
    let noticesSeen = from.text > 0 || from.thinking > 0 ? this.notices.length : 0;
    // Speech entries (clips and errors) passed: the first `audio` clips, and errors among them.
    let speechSeen = 0;
    for (let clips = 0; speechSeen < this.speech.length && clips < at.audio; speechSeen++) {
      if (this.speech[speechSeen]!.type === "audio") clips++;
    }
    let stageSeen = 0;
    let transient = 0;
    const positioned = (event: ReplyEvent, unique = false): PositionedEvent => ({
      offset: at.text,
      id: unique ? `${positionId(at)}~${++transient}` : positionId(at),
      event,
    });
    const aborted = new Promise<void>((resolve) => signal?.addEventListener("abort", () => resolve(), { once: true }));
    while (!signal?.aborted) {
      if (this.stage && this.stageVersion > stageSeen && !(this.final && this.stage.stage !== "speaking")) {
        stageSeen = this.stageVersion;
        yield positioned(this.stage, true);
        continue;
      }
      if (this.notices.length > noticesSeen) {
        yield positioned(this.notices[noticesSeen++]!, true);
        continue;
      }
      if (this.thinking.length > at.thinking) {
        const text = this.thinking.slice(at.thinking);
        at.thinking = this.thinking.length;
        yield positioned({ type: "thinking", text });
        continue;
      }
      if (this.text.length > at.text) {
        const text = this.text.slice(at.text);
        at.text = this.text.length;
        yield positioned({ type: "delta", text });
        continue;
      }
      if (this.speech.length > speechSeen) {
        const event = this.speech[speechSeen++]!;
        if (event.type === "audio") at.audio += 1;
        yield positioned(event, event.type !== "audio");
        continue;
      }
      if (this.final && !at.final) {
        at.final = true;
        yield positioned(this.final);
        continue;
      }
      if (at.final && !this.speaking) return;
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
