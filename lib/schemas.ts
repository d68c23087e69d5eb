import { z } from "zod";

/** Limits shared by forms and routers, so the browser and the server agree. */
export const LIMITS = {
  message: 8_000,
  title: 120,
  scenarioField: 4_000,
  apiTokenName: 60,
  /** characters one synthesis may speak (a reply is spoken sentence by sentence) */
  speechText: 1_000,
  apiTokensPerUser: 20,
} as const;

export const LANGUAGES = ["ko", "en", "ja", "zh", "yue", "auto", "auto_yue", "all_zh", "all_ja", "all_yue", "all_ko"] as const;

const trimmed = (max: number) => z.string().trim().max(max);

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
});

/** Some settings of a chat: what is not given stays as it was. */
export const sessionSettingsPatchSchema = sessionSettingsFields.partial();

export const sessionSettingsSchema = sessionSettingsFields.extend({
  temperature: sessionSettingsFields.shape.temperature.default(0.8),
  maxTokens: sessionSettingsFields.shape.maxTokens.default(1024),
  ttsMode: sessionSettingsFields.shape.ttsMode.default("on_click"),
  ttsDelayMs: sessionSettingsFields.shape.ttsDelayMs.default(0),
  sovitsStreamingMode: sessionSettingsFields.shape.sovitsStreamingMode.default(0),
});
export type SessionSettings = z.infer<typeof sessionSettingsSchema>;
export const defaultSessionSettings: SessionSettings = sessionSettingsSchema.parse({});

export const voiceParamsSchema = z.object({
  speedFactor: z.number().min(0.5).max(2).optional(),
  topK: z.number().int().min(1).max(100).optional(),
  topP: z.number().min(0).max(1).optional(),
  temperature: z.number().min(0.01).max(2).optional(),
  textSplitMethod: z.enum(["cut0", "cut1", "cut2", "cut3", "cut4", "cut5"]).optional(),
});
export type VoiceParams = z.infer<typeof voiceParamsSchema>;

export const idSchema = z.string().min(1).max(64);

/** Text to speak: what GPT-SoVITS reads in one request. */
export const speechTextSchema = z
  .string()
  .trim()
  .min(1, "Nothing to say.")
  .max(LIMITS.speechText, `At most ${LIMITS.speechText} characters at once.`);

/** A personal API token's label, e.g. the script that uses it. */
export const apiTokenNameSchema = z.string().trim().min(1).max(LIMITS.apiTokenName);

export const messageTextSchema = z
  .string()
  .trim()
  .min(1, "Write a message first.")
  .max(LIMITS.message, `A message can be at most ${LIMITS.message} characters.`);

export const devSignInSchema = z.object({
  email: z.email("Enter a valid email address.").max(200),
  name: z.string().trim().max(80).optional().default(""),
});

// ---------------------------------------------------------------------------------------------
// Characters and voices
// ---------------------------------------------------------------------------------------------

export const CHARACTER_LIMITS = {
  name: 80,
  description: 4_000,
  persona: 12_000,
  greeting: 4_000,
  alternateGreetings: 10,
  exampleDialogue: 8_000,
  systemPrompt: 4_000,
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

const tagSchema = z
  .string()
  .trim()
  .min(1)
  .max(CHARACTER_LIMITS.tag, `A tag can be at most ${CHARACTER_LIMITS.tag} characters.`)
  .transform((tag) => tag.replace(/^#/, ""));

const characterFields = z.object({
  name: z.string().trim().min(1, "Give the character a name.").max(CHARACTER_LIMITS.name, `A name can be at most ${CHARACTER_LIMITS.name} characters.`),
  description: trimmed(CHARACTER_LIMITS.description),
  persona: trimmed(CHARACTER_LIMITS.persona),
  greeting: trimmed(CHARACTER_LIMITS.greeting),
  alternateGreetings: z
    .array(trimmed(CHARACTER_LIMITS.greeting).min(1))
    .max(CHARACTER_LIMITS.alternateGreetings, `At most ${CHARACTER_LIMITS.alternateGreetings} alternate greetings.`),
  exampleDialogue: trimmed(CHARACTER_LIMITS.exampleDialogue),
  scenario: scenarioSchema,
  systemPrompt: trimmed(CHARACTER_LIMITS.systemPrompt),
  voiceId: idSchema.nullable(),
  category: trimmed(CHARACTER_LIMITS.category),
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
  name: z.string().trim().min(1, "Give the voice a name.").max(VOICE_LIMITS.name),
  description: trimmed(VOICE_LIMITS.description),
  refAudioPath: z
    .string()
    .trim()
    .min(1, "The reference audio path on the TTS server is required.")
    .max(VOICE_LIMITS.path)
    .refine((p) => !/[\0\r\n]/.test(p), "The path contains characters a file path cannot have."),
  promptText: trimmed(VOICE_LIMITS.promptText),
  promptLang: z.enum(LANGUAGES),
  auxRefAudioPaths: z.array(z.string().trim().min(1).max(VOICE_LIMITS.path)).max(VOICE_LIMITS.auxPaths),
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
