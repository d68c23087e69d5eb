import { and, eq } from "drizzle-orm";
import { speechChunks } from "@/lib/speech/chunks";
import { SentenceSplitter, spokenText } from "@/lib/speech/sentences";
import type { Database } from "@/server/db";
import { DEFAULT_VOICE_ID } from "@/server/db/presets";
import { characters, chatSessions, messages, voices, type SpokenClip } from "@/server/db/schema";
import { DomainError, notFound } from "@/server/errors";
import { chatCharacterColumns } from "@/server/sessions/chat-character";
import { audioKeyOf, cachedClips, speak } from "@/server/tts/speech";
import { joinWavs } from "@/server/tts/wav";
import type { LiveReply } from "./live-reply";

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
 * sentence is synthesised as soon as it is complete — one at a time, in order — so the character
 * starts speaking while the reply is still being written. Each clip goes out as an `audio` event
 * and is kept on the message for replay. A failing voice server ends the speech, not the reply.
 */
export class ReplySpeaker {
  private readonly splitter = new SentenceSplitter();
  private readonly clips: SpokenClip[] = [];
  private queue: Promise<void> = Promise.resolve();
  private said = 0;
  private cancelled = false;

  constructor(
    private readonly db: Database,
    private readonly voice: Voice,
    private readonly live: LiveReply,
    private readonly messageId: string,
  ) {
    live.startSpeaking();
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

  /** Stopped or failed: no more sentences (one being synthesised is dropped). */
  cancel() {
    this.cancelled = true;
    void this.queue.then(() => this.close(this.clips.length > 0));
  }

  private say(sentence: string) {
    const text = spokenText(sentence);
    if (!text) return;
    const index = this.said++;
    this.queue = this.queue.then(async () => {
      if (this.cancelled) return;
      try {
        const { url } = await speak(this.db, this.voice, text, "wav");
        if (this.cancelled) return;
        const clip = { index, text, url };
        this.clips.push(clip);
        this.live.speak({ type: "audio", ...clip });
      } catch (error) {
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
 * A whole reply as one WAV file, for download: its realtime sentences when it has them, otherwise
 * spoken now in its character's voice, cut the way the player cuts it (so what was played comes
 * from the cache). A sentence whose clip was evicted from the cache is spoken again from its
 * text. Only the owner of the chat gets it.
 */
export async function replyAudio(db: Database, userId: string, messageId: string) {
  const [row] = await db
    .select({
      message: messages,
      voiceId: chatCharacterColumns.voiceId,
      characterName: chatCharacterColumns.name,
    })
    .from(messages)
    .innerJoin(chatSessions, eq(chatSessions.id, messages.sessionId))
    .innerJoin(characters, eq(characters.id, chatSessions.characterId))
    .where(and(eq(messages.id, messageId), eq(chatSessions.userId, userId)))
    .limit(1);
  if (!row || row.message.role !== "assistant") throw notFound("Message");
  if (row.message.status === "streaming") throw new DomainError("reply_in_progress", "The reply is still being written.");
  const recorded = row.message.audio.map((clip) => ({ key: audioKeyOf(clip.url) as string | null, text: clip.text }));
  const pieces = recorded.length > 0 ? recorded : speechChunks(spokenText(row.message.content)).map((text) => ({ key: null, text }));
  const nothingToSay = () => new DomainError("bad_input", "This reply has nothing to say aloud.");
  if (pieces.length === 0) throw nothingToSay();
  const stored = await cachedClips(db, pieces.flatMap((piece) => (piece.key ? [piece.key] : [])));
  let voice: Voice | null | undefined;
  const files: Buffer[] = [];
  for (const piece of pieces) {
    let clip = piece.key ? stored.get(piece.key) : undefined;
    if (!clip) {
      voice ??= await speakingVoice(db, row.voiceId);
      if (!voice) throw nothingToSay();
      const { key } = await speak(db, voice, piece.text, "wav");
      clip = (await cachedClips(db, [key])).get(key);
    }
    if (!clip) throw new DomainError("tts_failed", "The reply's audio could not be kept long enough to join it; try again.");
    files.push(clip.bytes);
  }
  const joined = joinWavs(files);
  if (!joined) throw new DomainError("tts_failed", "The reply's audio could not be joined into one file.");
  return { bytes: joined, characterName: row.characterName, createdAt: row.message.createdAt };
}
