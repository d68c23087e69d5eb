import { z } from "zod";

/** Limits shared by forms and routers, so the browser and the server agree. */
export const LIMITS = {
  name: 80,
  shortText: 500,
  persona: 8_000,
  longText: 8_000,
  message: 8_000,
  title: 120,
  tags: 20,
  tag: 32,
  alternateGreetings: 10,
  scenarioField: 2_000,
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

export const sessionSettingsSchema = z.object({
  temperature: z.number().min(0).max(2).default(0.8),
  maxTokens: z.number().int().min(16).max(8192).default(1024),
  ttsMode: z.enum(ttsModes).default("on_click"),
  ttsDelayMs: z.number().int().min(0).max(10_000).default(0),
  sovitsStreamingMode: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]).default(0),
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

export const messageTextSchema = z
  .string()
  .trim()
  .min(1, "Write a message first.")
  .max(LIMITS.message, `A message can be at most ${LIMITS.message} characters.`);

export const devSignInSchema = z.object({
  email: z.email("Enter a valid email address.").max(200),
  name: z.string().trim().max(LIMITS.name).optional().default(""),
});
