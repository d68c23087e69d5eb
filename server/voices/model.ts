import { and, asc, eq, isNull, or, sql } from "drizzle-orm";
import type { VoiceInput } from "@/lib/schemas";
import type { Queryable } from "@/server/db";
import { DEFAULT_VOICE_ID } from "@/server/db/presets";
import { voices } from "@/server/db/schema";
import { DomainError, notFound } from "@/server/errors";
import { checkRefAudioPaths, refAudioDir } from "./ref-audio";

const PREVIEW_LINES = {
  ko: "안녕하세요. 오늘은 어떤 이야기를 들려드릴까요?",
  ja: "こんにちは。今日はどんなお話をしましょうか？",
  zh: "你好！今天想听什么故事呢？",
  en: "Hello! What story shall I tell you today?",
} as const;

/** What `voices.preview` says: a short greeting in the language of the voice's reference audio. */
export function previewLine(promptLang: string) {
  if (promptLang.endsWith("ko")) return PREVIEW_LINES.ko;
  if (promptLang.endsWith("ja")) return PREVIEW_LINES.ja;
  if (/zh|yue/.test(promptLang)) return PREVIEW_LINES.zh;
  return PREVIEW_LINES.en;
}

/** Voices one viewer can use: the presets and their own. Others' voices are not found. */
export class VoiceModel {
  constructor(
    private readonly db: Queryable,
    private readonly viewerId: string | null,
  ) {}

  private visible() {
    return this.viewerId ? or(isNull(voices.ownerId), eq(voices.ownerId, this.viewerId))! : isNull(voices.ownerId);
  }

  async list() {
    const rows = await this.db
      .select()
      .from(voices)
      .where(this.visible())
      // Presets first, then the viewer's own by name.
      .orderBy(sql`${voices.ownerId} is not null`, asc(voices.name));
    return { voices: rows, defaultVoiceId: DEFAULT_VOICE_ID, refAudioDir: refAudioDir() };
  }

  async get(id: string) {
    const [row] = await this.db
      .select()
      .from(voices)
      .where(and(eq(voices.id, id), this.visible()))
      .limit(1);
    if (!row) throw notFound("Voice");
    return row;
  }

  private requireViewer() {
    if (!this.viewerId) throw new DomainError("forbidden", "Sign in to manage voices.");
    return this.viewerId;
  }

  private async own(id: string) {
    const voice = await this.get(id);
    if (voice.ownerId === null) throw new DomainError("forbidden", "Preset voices cannot be changed.");
    return voice;
  }

  /** Its reference audio must be inside SOVITS_REF_AUDIO_DIR (see ref-audio.ts), else bad_input. */
  async create(input: VoiceInput) {
    const ownerId = this.requireViewer();
    const [row] = await this.db
      .insert(voices)
      .values({ ...checkRefAudioPaths(input), ownerId })
      .returning();
    return row!;
  }

  async update(id: string, patch: Partial<VoiceInput>) {
    const voice = await this.own(id);
    const [row] = await this.db.update(voices).set(checkRefAudioPaths(patch)).where(eq(voices.id, voice.id)).returning();
    return row!;
  }

  /** Characters that used the voice fall back to the default voice (the column is set null). */
  async delete(id: string) {
    const voice = await this.own(id);
    await this.db.delete(voices).where(eq(voices.id, voice.id));
    return { id: voice.id };
  }
}
