import { z } from "zod";

/** Limits shared by forms and routers, so the browser and the server agree. */
export const LIMITS = {
  message: 8_000,
  title: 120,
  /** a card's scenario goes here whole: real ones run to thousands of characters */
  scenarioField: 20_000,
  apiTokenName: 60,
  /** characters one synthesis may speak (a reply is spoken sentence by sentence) */
  speechText: 1_000,
  apiTokensPerUser: 20,
} as const;

export const LANGUAGES = ["ko", "en", "ja", "zh", "yue", "auto", "auto_yue", "all_zh", "all_ja", "all_yue", "all_ko"] as const;

// ---------------------------------------------------------------------------------------------
// Text that may be stored: every string input goes through one of these.
// ---------------------------------------------------------------------------------------------

/**
 * Characters no stored text may hold: NUL (Postgres refuses it) and the other C0/C1 controls
 * except tab, newline and carriage return; lone UTF-16 surrogates (broken Unicode, which jsonb
 * refuses); the noncharacters U+FFFE/U+FFFF.
 */
export const FORBIDDEN_IN_TEXT =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Line breaks and tabs: fine in a persona, not in a name or a tag. */
const LINE_BREAKS = /[\t\n\r\u2028\u2029]/;
/** Bidirectional overrides and isolates: in a name they can make it read as something else. */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/;
/** What renders as nothing: spaces, format characters (zero-width…), Hangul fillers, blank braille. */
const INVISIBLE = /[\p{White_Space}\p{Cf}\u115F\u1160\u3164\uFFA0\u2800]/gu;

export const TEXT_MESSAGES = {
  forbidden: "This text contains characters that are not allowed (control characters or broken Unicode).",
  lineBreak: "This must be on one line.",
  bidi: "This contains invisible direction-changing characters, which are not allowed here.",
  invisible: "This must contain visible characters.",
} as const;

export const hasForbiddenCharacters = (text: string) => FORBIDDEN_IN_TEXT.test(text);
export const isVisibleText = (text: string) => text.replace(INVISIBLE, "").length > 0;

/** Free text (a persona, a message): trimmed, bounded, no control characters or broken Unicode. */
export const textSchema = (max: number, tooLong = `At most ${max} characters.`) =>
  z
    .string()
    .trim()
    .max(max, tooLong)
    .refine((v) => !hasForbiddenCharacters(v), TEXT_MESSAGES.forbidden);

/** One line (a tag, a search, a path): free text without line breaks or tabs. */
export const lineSchema = (max: number) => textSchema(max).refine((v) => !LINE_BREAKS.test(v), TEXT_MESSAGES.lineBreak);

/**
 * A name people see (a character, a voice, a chat title, a token label): one line, no direction
 * overrides, and not made only of invisible characters. `required` is the sentence for an empty one.
 */
export const nameSchema = (max: number, required: string, tooLong = `At most ${max} characters.`) =>
  textSchema(max, tooLong)
    .refine((v) => !LINE_BREAKS.test(v), TEXT_MESSAGES.lineBreak)
    .min(1, required)
    .refine((v) => !BIDI_CONTROLS.test(v), TEXT_MESSAGES.bidi)
    .refine((v) => v === "" || isVisibleText(v), TEXT_MESSAGES.invisible);

const trimmed = textSchema;

export const scenarioSchema = z.object({
  opponent: trimmed(LIMITS.scenarioField).default(""),
  situation: trimmed(LIMITS.scenarioField).default(""),
  background: trimmed(LIMITS.scenarioField).default(""),
});
export type Scenario = z.infer<typeof scenarioSchema>;

export const ttsModes = ["realtime", "delayed", "on_click", "off"] as const;
export type TtsMode = (typeof ttsModes)[number];

const sessionSettingsFields = z.object({
  temperature: z.number().min(0).max(2),
  maxTokens: z.number().int().min(16).max(8192),
  ttsMode: z.enum(ttsModes),
  ttsDelayMs: z.number().int().min(0).max(10_000),
  sovitsStreamingMode: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
  /** Let a thinking model (qwen3, deepseek-r1, gpt-oss…) think before it answers. */
  think: z.boolean(),
});

/** Some settings of a chat: what is not given stays as it was. */
export const sessionSettingsPatchSchema = sessionSettingsFields.partial();

export const sessionSettingsSchema = sessionSettingsFields.extend({
  temperature: sessionSettingsFields.shape.temperature.default(0.8),
  maxTokens: sessionSettingsFields.shape.maxTokens.default(1024),
  ttsMode: sessionSettingsFields.shape.ttsMode.default("on_click"),
  ttsDelayMs: sessionSettingsFields.shape.ttsDelayMs.default(0),
  sovitsStreamingMode: sessionSettingsFields.shape.sovitsStreamingMode.default(0),
  think: sessionSettingsFields.shape.think.default(false),
});
export type SessionSettings = z.infer<typeof sessionSettingsSchema>;
export const defaultSessionSettings: SessionSettings = sessionSettingsSchema.parse({});

/**
 * A user's defaults for new chats (Settings): what is not set follows the app's defaults. The UI
 * language is kept here too, so it follows the user to another browser.
 */
export const userDefaultsSchema = z.object({
  model: z.string().trim().min(1).max(200).optional(),
  temperature: sessionSettingsFields.shape.temperature.optional(),
  maxTokens: sessionSettingsFields.shape.maxTokens.optional(),
  ttsMode: sessionSettingsFields.shape.ttsMode.optional(),
  locale: z.enum(["ko", "en"]).optional(),
});
export type UserDefaults = z.infer<typeof userDefaultsSchema>;

export const PERSONA_LIMITS = { name: 80, description: 4_000, perUser: 50 } as const;

/** The author's note: a short instruction put into the conversation `depth` messages from its end. */
export const AUTHOR_NOTE_LIMITS = { text: 2_000, depth: 100 } as const;

export const voiceParamsSchema = z.object({
  speedFactor: z.number().min(0.5).max(2).optional(),
  topK: z.number().int().min(1).max(100).optional(),
  topP: z.number().min(0).max(1).optional(),
  temperature: z.number().min(0.01).max(2).optional(),
  textSplitMethod: z.enum(["cut0", "cut1", "cut2", "cut3", "cut4", "cut5"]).optional(),
});
export type VoiceParams = z.infer<typeof voiceParamsSchema>;

/** Row ids: UUIDs, or readable ids such as `preset-aria`. Anything else cannot name a row. */
export const idSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "This is not a valid id.");

/** An opaque page cursor handed out by a list (the server checks what is inside). */
export const pageCursorSchema = lineSchema(200).nullish();

/** A search typed by a person. */
export const searchQuerySchema = (max = 100) => lineSchema(max);

/** An Ollama model name (`qwen2.5:7b`, `library/llama3:8b-instruct-q4_0`). */
export const modelNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[\w.:/@+-]+$/, "This is not a model name.");

export const chatTitleSchema = nameSchema(120, "Give the chat a title.");

/** Text to speak: what GPT-SoVITS reads in one request. */
export const speechTextSchema = textSchema(LIMITS.speechText, `At most ${LIMITS.speechText} characters at once.`).min(1, "Nothing to say.");

/** A personal API token's label, e.g. the script that uses it. */
export const apiTokenNameSchema = nameSchema(LIMITS.apiTokenName, "Give the token a name.");

export const messageTextSchema = textSchema(LIMITS.message, `A message can be at most ${LIMITS.message} characters.`).min(
  1,
  "Write a message first.",
);

export const devSignInSchema = z.object({
  email: z.email("Enter a valid email address.").max(200),
  name: lineSchema(80)
    .refine((v) => !BIDI_CONTROLS.test(v), TEXT_MESSAGES.bidi)
    .optional()
    .default(""),
});

// ---------------------------------------------------------------------------------------------
// Characters and voices
// ---------------------------------------------------------------------------------------------

/**
 * Set from real cards (SillyTavern and RisuAI, see shared/protocols/character-card.md), not from a
 * typical form entry: descriptions and first messages of several thousand characters and some of
 * tens of thousands, dozens of alternate greetings, creator notes full of HTML. What reaches the
 * model is bounded by the prompt budget (server/chat/budget.ts), not here; these only keep one
 * character's size sane. A card over any of them is refused with the field named.
 */
export const CHARACTER_LIMITS = {
  name: 80,
  /** our tagline (an imported card's is cut from its creator notes) */
  description: 4_000,
  /** the card's `description` */
  persona: 100_000,
  personality: 20_000,
  creatorNotes: 50_000,
  /** the first message, and each alternate greeting */
  greeting: 50_000,
  alternateGreetings: 250,
  exampleDialogue: 100_000,
  systemPrompt: 20_000,
  category: 32,
  tags: 30,
  tag: 32,
  /** Uploaded portraits and card PNGs */
  imageBytes: 5 * 1024 * 1024,
  /** Width × height, against decompression bombs */
  imagePixels: 4096 * 4096,
  /** A whole card file (PNG with its chunks, or JSON) */
  cardBytes: 8 * 1024 * 1024,
} as const;

export const CATEGORIES = ["판타지", "일상", "추리", "SF", "힐링", "로맨스", "역사", "학습", "기타"] as const;

const tagSchema = nameSchema(CHARACTER_LIMITS.tag, "A tag cannot be empty.", `A tag can be at most ${CHARACTER_LIMITS.tag} characters.`)
  .transform((tag) => tag.replace(/^#/, ""));

/** Real lorebooks run to hundreds of entries; the token budget decides what reaches the prompt. */
export const LOREBOOK_LIMITS = {
  entries: 2_000,
  keys: 100,
  key: 200,
  name: 80,
  content: 50_000,
  /** every entry's content together */
  totalContent: 1_000_000,
  scanDepth: 100,
  tokenBudget: 8_192,
} as const;

/**
 * One world-info entry (SillyTavern's lorebook): its text joins the prompt when one of its keys
 * appears in the recent turns (or always, when constant).
 */
export const lorebookEntrySchema = z.object({
  id: idSchema,
  /** a label for the owner (SillyTavern's "comment"); never sent to the model */
  name: lineSchema(LOREBOOK_LIMITS.name).default(""),
  keys: z
    .array(nameSchema(LOREBOOK_LIMITS.key, "A keyword cannot be empty.", `A keyword can be at most ${LOREBOOK_LIMITS.key} characters.`))
    .max(LOREBOOK_LIMITS.keys, `At most ${LOREBOOK_LIMITS.keys} keywords per entry.`)
    .default([]),
  content: trimmed(LOREBOOK_LIMITS.content),
  enabled: z.boolean().default(true),
  /** in the prompt whatever was said */
  constant: z.boolean().default(false),
  caseSensitive: z.boolean().default(false),
  /** a key matches only as a whole word (a Korean key still matches before a particle) */
  wholeWords: z.boolean().default(false),
  /** higher goes first when the token budget cannot fit every active entry */
  order: z.number().int().min(0).max(10_000).default(100),
});
export type LorebookEntry = z.infer<typeof lorebookEntrySchema>;

export const lorebookSchema = z.object({
  /** how many of the latest messages are scanned for keys */
  scanDepth: z.number().int().min(1).max(LOREBOOK_LIMITS.scanDepth).default(4),
  /** the most tokens active entries may add to the prompt */
  tokenBudget: z.number().int().min(16).max(LOREBOOK_LIMITS.tokenBudget).default(512),
  entries: z
    .array(lorebookEntrySchema)
    .max(LOREBOOK_LIMITS.entries, `At most ${LOREBOOK_LIMITS.entries} lorebook entries.`)
    .refine((entries) => new Set(entries.map((e) => e.id)).size === entries.length, "Each lorebook entry needs its own id.")
    .superRefine((entries, ctx) => {
      const total = entries.reduce((sum, e) => sum + e.content.length, 0);
      if (total > LOREBOOK_LIMITS.totalContent) {
        ctx.addIssue({
          code: "too_big",
          origin: "string",
          maximum: LOREBOOK_LIMITS.totalContent,
          inclusive: true,
          input: total,
          message: `The lorebook's entries can hold at most ${LOREBOOK_LIMITS.totalContent} characters together.`,
        });
      }
    })
    .default([]),
});
export type Lorebook = z.infer<typeof lorebookSchema>;
export const emptyLorebook: Lorebook = { scanDepth: 4, tokenBudget: 512, entries: [] };

const characterFields = z.object({
  name: nameSchema(CHARACTER_LIMITS.name, "Give the character a name.", `A name can be at most ${CHARACTER_LIMITS.name} characters.`),
  description: trimmed(CHARACTER_LIMITS.description),
  persona: trimmed(CHARACTER_LIMITS.persona),
  /** a short summary of temperament, put after the persona in the prompt */
  personality: trimmed(CHARACTER_LIMITS.personality),
  /** notes from the author for people using the character; never in a prompt */
  creatorNotes: trimmed(CHARACTER_LIMITS.creatorNotes),
  lorebook: lorebookSchema,
  greeting: trimmed(CHARACTER_LIMITS.greeting),
  alternateGreetings: z
    .array(trimmed(CHARACTER_LIMITS.greeting).min(1))
    .max(CHARACTER_LIMITS.alternateGreetings, `At most ${CHARACTER_LIMITS.alternateGreetings} alternate greetings.`),
  exampleDialogue: trimmed(CHARACTER_LIMITS.exampleDialogue),
  scenario: scenarioSchema,
  systemPrompt: trimmed(CHARACTER_LIMITS.systemPrompt),
  voiceId: idSchema.nullable(),
  category: lineSchema(CHARACTER_LIMITS.category),
  tags: z
    .array(tagSchema)
    .max(CHARACTER_LIMITS.tags, `At most ${CHARACTER_LIMITS.tags} tags.`)
    .transform((tags) => [...new Set(tags)]),
  visibility: z.enum(["private", "public"]),
});

/** A change to some fields of a character: what is not given stays as it was. */
export const characterPatchSchema = characterFields.partial();

/** Everything a person can set on a character; what is not given gets its empty default. */
export const characterInputSchema = characterFields.extend({
  description: characterFields.shape.description.default(""),
  persona: characterFields.shape.persona.default(""),
  personality: characterFields.shape.personality.default(""),
  creatorNotes: characterFields.shape.creatorNotes.default(""),
  lorebook: characterFields.shape.lorebook.default(emptyLorebook),
  greeting: characterFields.shape.greeting.default(""),
  alternateGreetings: characterFields.shape.alternateGreetings.default([]),
  exampleDialogue: characterFields.shape.exampleDialogue.default(""),
  scenario: characterFields.shape.scenario.default({ opponent: "", situation: "", background: "" }),
  systemPrompt: characterFields.shape.systemPrompt.default(""),
  voiceId: characterFields.shape.voiceId.default(null),
  category: characterFields.shape.category.default(""),
  tags: characterFields.shape.tags.default([]),
  visibility: characterFields.shape.visibility.default("private"),
});
export type CharacterInput = z.infer<typeof characterInputSchema>;

export const VOICE_LIMITS = { name: 80, description: 500, path: 500, promptText: 1_000, auxPaths: 8 } as const;

const voiceFields = z.object({
  name: nameSchema(VOICE_LIMITS.name, "Give the voice a name."),
  description: trimmed(VOICE_LIMITS.description),
  refAudioPath: lineSchema(VOICE_LIMITS.path).min(1, "The reference audio path on the TTS server is required."),
  promptText: trimmed(VOICE_LIMITS.promptText),
  promptLang: z.enum(LANGUAGES),
  auxRefAudioPaths: z.array(lineSchema(VOICE_LIMITS.path).min(1)).max(VOICE_LIMITS.auxPaths),
  params: voiceParamsSchema,
});

export const voicePatchSchema = voiceFields.partial();

export const voiceInputSchema = voiceFields.extend({
  description: voiceFields.shape.description.default(""),
  promptText: voiceFields.shape.promptText.default(""),
  auxRefAudioPaths: voiceFields.shape.auxRefAudioPaths.default([]),
  params: voiceFields.shape.params.default({}),
});
export type VoiceInput = z.infer<typeof voiceInputSchema>;
