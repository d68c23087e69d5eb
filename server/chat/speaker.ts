import "server-only";
import { and, eq, inArray } from "drizzle-orm";
import { sessionSettingsSchema } from "@/lib/schemas";
import { SentenceSplitter, splitSentences, spokenText } from "@/lib/speech/sentences";
import type { Database } from "@/server/db";
import { DEFAULT_VOICE_ID } from "@/server/db/presets";
import { audioClips, characters, chatSessions, messages, voices, type Message, type SpokenClip } from "@/server/db/schema";
import { DomainError, notFound } from "@/server/errors";
import { chatCharacterColumns } from "@/server/sessions/chat-character";
import type { StreamingMode } from "@/server/tts/sovits";
import { audioKeyOf, audioUrl, cachedClips, speak, speakLive } from "@/server/tts/speech";
import { joinWavs } from "@/server/tts/wav";
import type { LiveReply, SpeechEvent } from "./live-reply";

/*
 * Every kind of a reply's speech — realtime as it is written, delayed, on a button, the download —
 * takes its voice from one rule (`speakingVoice` of the chat's character as
 * server/sessions/chat-character.ts picks it) and its words from one pipeline (`spokenSentences`:
 * the sentence splitter, then `spokenText` of each sentence), so a sentence heard once is the
 * same clip, from the cache, whichever way it is heard again.
 */

/** What a voice says of a finished reply: its sentences as realtime speech cuts and cleans them, none empty. */
export function spokenSentences(content: string): string[] {
  return splitSentences(content).flatMap((sentence) => spokenText(sentence) || []);
}

/** The voice a character speaks with: its own (whoever owns it), or the app's default. */
export async function speakingVoice(db: Database, voiceId: string | null) {
  const ids = voiceId && voiceId !== DEFAULT_VOICE_ID ? [voiceId, DEFAULT_VOICE_ID] : [DEFAULT_VOICE_ID];
  for (const id of ids) {
    const [voice] = await db.select().from(voices).where(eq(voices.id, id)).limit(1);
    if (voice) return voice;
  }
  return null;
}

type Voice = NonNullable<Awaited<ReturnType<typeof speakingVoice>>>;

/**
 * Realtime speech for one reply: the text is cut into sentences as it streams in, and each
 * sentence joins GPT-SoVITS's queue as soon as it is complete, so the character starts speaking
 * while the reply is still being written. The clips go out in order as `audio` events and are
 * kept on the message for replay. Stopping drops the sentences still waiting in the queue (one
 * already sent is left to finish, into the cache); a failing voice server ends the speech, not
 * the reply.
 */
export class ReplySpeaker {
  private readonly splitter = new SentenceSplitter();
  private readonly clips: SpokenClip[] = [];
  /** The events go out in sentence order, whatever order the syntheses finish in. */
  private queue: Promise<void> = Promise.resolve();
  /** Drops this reply's sentences that are still waiting for their turn. */
  private readonly drop = new AbortController();
  /** Whose turn in the queue these sentences take: the chat's user. */
  private readonly owner: Promise<string>;
  private said = 0;
  private cancelled = false;

  constructor(
    private readonly db: Database,
    private readonly voice: Voice,
    private readonly live: LiveReply,
    private readonly messageId: string,
    private readonly streamingMode: StreamingMode = 0,
  ) {
    live.startSpeaking();
    this.owner = chatOwner(db, live.sessionId);
  }

  /** More of the reply's text. */
  push(text: string) {
    for (const sentence of this.splitter.push(text)) this.say(sentence);
  }

  /** The reply is complete: speak what is left, keep the clips on the message, and close. */
  finish() {
    for (const sentence of this.splitter.flush()) this.say(sentence);
    void this.queue.then(() => this.close(true));
  }

  /** Stopped, replaced or failed: no more sentences; those still waiting in the queue are never sent. */
  cancel() {
    this.cancelled = true;
    this.drop.abort();
    void this.queue.then(() => this.close(this.clips.length > 0));
  }

  private say(sentence: string) {
    const text = spokenText(sentence);
    if (!text || this.cancelled) return;
    const index = this.said++;
    const { signal } = this.drop;
    const streamingMode = this.streamingMode;
    const clip = this.owner.then((owner) => speakLive(this.db, this.voice, text, "wav", { owner, signal, streamingMode }));
    // A failure ends this reply's speech at once: its other sentences leave the queue unsent, and
    // those still awaited give the same error.
    const failed = (error: unknown) => this.drop.abort(error);
    clip.then(({ done }) => done.catch(failed), failed);
    this.queue = this.queue.then(async () => {
      if (this.cancelled) return;
      try {
        const { key, url, live, done } = await clip;
        if (this.cancelled) return;
        // A streamed clip is announced as soon as it can be heard; the next one only once it is complete.
        this.live.speak({ type: "audio", index, text, url, ...(live ? { live } : {}) });
        await done;
        this.clips.push({ index, text, url: audioUrl(key) });
      } catch (error) {
        if (this.cancelled) return;
        this.cancelled = true;
        const domain = error instanceof DomainError ? error : new DomainError("tts_failed", "The voice server could not speak this reply.");
        if (!(error instanceof DomainError)) console.error("[speech] a sentence failed", error);
        this.live.speak({ type: "speech_error", code: domain.code, message: domain.message });
      }
    });
  }

  private async close(save: boolean) {
    try {
      if (save) await this.db.update(messages).set({ audio: this.clips }).where(eq(messages.id, this.messageId));
    } catch (error) {
      console.error("[speech] could not keep a reply's audio", error);
    } finally {
      this.live.stopSpeaking();
    }
  }
}

/**
 * The user of a chat, whose turns in the queue its speech takes. Only fairness depends on it: if
 * it can't be read, the chat takes turns of its own.
 */
async function chatOwner(db: Database, sessionId: string) {
  try {
    const [chat] = await db.select({ userId: chatSessions.userId }).from(chatSessions).where(eq(chatSessions.id, sessionId)).limit(1);
    return chat?.userId ?? sessionId;
  } catch {
    return sessionId;
  }
}

/**
 * A finished reply of the user's own chats, with the voice id its character speaks with now (the
 * chat's character as the visibility rule picks it: live while its user may see it, else the
 * snapshot). Another user's reply is simply not found.
 */
async function ownedReply(db: Database, userId: string, messageId: string) {
  const [row] = await db
    .select({
      message: messages,
      voiceId: chatCharacterColumns.voiceId,
      characterName: chatCharacterColumns.name,
      settings: chatSessions.settings,
    })
    .from(messages)
    .innerJoin(chatSessions, eq(chatSessions.id, messages.sessionId))
    .innerJoin(characters, eq(characters.id, chatSessions.characterId))
    .where(and(eq(messages.id, messageId), eq(chatSessions.userId, userId)))
    .limit(1);
  if (!row || row.message.role !== "assistant") throw notFound("Message");
  if (row.message.status === "streaming") throw new DomainError("reply_in_progress", "The reply is still being written.");
  return { ...row, streamingMode: sessionSettingsSchema.safeParse(row.settings).data?.sovitsStreamingMode ?? 0 };
}

/** One sentence of a reply to say: its text, and the clip realtime speech made of it, if any. */
interface Piece {
  index: number;
  text: string;
  key: string | null;
}

/**
 * A reply's sentences (see spokenSentences). Those realtime speech already spoke keep their clip,
 * so a replay is what was heard; the rest (all of a reply written in silence, the end of one that
 * was stopped) are spoken from their text.
 */
function replyPieces(message: Message): Piece[] {
  const recorded = new Map(message.audio.map((clip) => [clip.index, clip]));
  const pieces = spokenSentences(message.content).map((text, index) => {
    const clip = recorded.get(index);
    return { index, text, key: clip?.text === text ? audioKeyOf(clip.url) : null };
  });
  if (pieces.length === 0) throw new DomainError("bad_input", "This reply has nothing to say aloud.");
  return pieces;
}

/**
 * A finished reply read aloud (the read-aloud button and delayed speech): its sentences in the
 * voice realtime speech would use, each yielded as an `audio` event as soon as its clip is ready,
 * in order, so playback starts after the first sentence; a failing voice server ends it with one
 * `speech_error`, as in realtime speech. All join GPT-SoVITS's queue at once, as `userId`'s
 * turns; ending the reading (`signal`, or closing the generator) drops those not yet sent. Only
 * sentences after `after` (a resumed reading's last index) are spoken.
 */
export async function* speakReply(
  db: Database,
  userId: string,
  messageId: string,
  options: { after?: number; signal?: AbortSignal } = {},
): AsyncGenerator<SpeechEvent> {
  const { message, voiceId, streamingMode } = await ownedReply(db, userId, messageId);
  const pieces = replyPieces(message).filter((piece) => piece.index > (options.after ?? -1));
  const voice = await speakingVoice(db, voiceId);
  if (!voice) throw new DomainError("tts_unavailable", "No voice is set up to speak this.");
  const drop = new AbortController();
  const stop = () => drop.abort();
  options.signal?.addEventListener("abort", stop, { once: true });
  try {
    const stored = await storedKeys(db, pieces.flatMap((piece) => (piece.key ? [piece.key] : [])));
    const clips = pieces.map(async ({ index, text, key }) => {
      if (key && stored.has(key)) return { index, text, url: audioUrl(key), live: false, done: Promise.resolve() };
      const clip = await speakLive(db, voice, text, "wav", { owner: userId, signal: drop.signal, streamingMode });
      return { index, text, url: clip.url, live: clip.live, done: clip.done };
    });
    // One failing ends the reading: the rest leave the queue unsent, and those awaited give its error.
    const failed = (error: unknown) => drop.abort(error);
    for (const clip of clips) clip.then(({ done }) => done.catch(failed), failed);
    for (const clip of clips) {
      try {
        const { done, live, ...spoken } = await clip;
        yield { type: "audio", ...spoken, ...(live ? { live } : {}) };
        // A streamed clip is announced as it starts; the next one only once it is complete.
        await done;
      } catch (error) {
        // Like realtime speech, a failing voice server is said once, as the reading's last event.
        if (error instanceof DomainError) {
          yield { type: "speech_error", code: error.code, message: error.message };
          return;
        }
        if (drop.signal.aborted) return; // the reader left
        throw error;
      }
    }
  } finally {
    options.signal?.removeEventListener("abort", stop);
    stop();
  }
}

/** Which of `keys` the audio cache still holds (without reading the audio). */
async function storedKeys(db: Database, keys: string[]) {
  if (keys.length === 0) return new Set<string>();
  const rows = await db.select({ key: audioClips.key }).from(audioClips).where(inArray(audioClips.key, keys));
  return new Set(rows.map((row) => row.key));
}

/**
 * A whole reply as one WAV file, for download: the same sentences in the same voice as reading it
 * aloud (the clips realtime speech made where it made them), so what was played comes from the
 * cache. A sentence whose clip was evicted is spoken again from its text. Only the owner of the
 * chat gets it.
 */
export async function replyAudio(db: Database, userId: string, messageId: string) {
  const row = await ownedReply(db, userId, messageId);
  const pieces = replyPieces(row.message);
  const stored = await cachedClips(db, pieces.flatMap((piece) => (piece.key ? [piece.key] : [])));
  let voice: Voice | null | undefined;
  const files: Buffer[] = [];
  for (const piece of pieces) {
    let clip = piece.key ? stored.get(piece.key) : undefined;
    if (!clip) {
      voice ??= await speakingVoice(db, row.voiceId);
      if (!voice) throw new DomainError("tts_unavailable", "No voice is set up to speak this.");
      const { key } = await speak(db, voice, piece.text, "wav", { owner: userId });
      clip = (await cachedClips(db, [key])).get(key);
    }
    if (!clip) throw new DomainError("tts_failed", "The reply's audio could not be kept long enough to join it; try again.");
    files.push(clip.bytes);
  }
  const joined = joinWavs(files);
  if (!joined) throw new DomainError("tts_failed", "The reply's audio could not be joined into one file.");
  return { bytes: joined, characterName: row.characterName, createdAt: row.message.createdAt };
}
