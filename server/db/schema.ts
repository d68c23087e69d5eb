import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  boolean,
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import type { AdapterAccountType } from "next-auth/adapters";
import type { Lorebook, Scenario, SessionSettings, UserDefaults, VoiceParams } from "@/lib/schemas";

const id = () =>
  text("id")
    .primaryKey()
    .$defaultFn(() => crypto.randomUUID());
const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();
const updatedAt = () =>
  timestamp("updated_at", { withTimezone: true, mode: "date" })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => "bytea" });

// ---------------------------------------------------------------------------------------------
// Auth.js tables (shape required by @auth/drizzle-adapter)
// ---------------------------------------------------------------------------------------------
export const users = pgTable("users", {
  id: id(),
  name: text("name"),
  email: text("email").unique(),
  emailVerified: timestamp("email_verified", { withTimezone: true, mode: "date" }),
  image: text("image"),
  /** defaults for new chats and the UI language, set in Settings */
  defaults: jsonb("defaults").$type<UserDefaults>().notNull().default({}),
  createdAt: createdAt(),
});

export const accounts = pgTable(
  "accounts",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    type: text("type").$type<AdapterAccountType>().notNull(),
    provider: text("provider").notNull(),
    providerAccountId: text("provider_account_id").notNull(),
    refresh_token: text("refresh_token"),
    access_token: text("access_token"),
    expires_at: integer("expires_at"),
    token_type: text("token_type"),
    scope: text("scope"),
    id_token: text("id_token"),
    session_state: text("session_state"),
  },
  (t) => [primaryKey({ columns: [t.provider, t.providerAccountId] }), index("accounts_user_idx").on(t.userId)],
);

/**
 * Signed-in browser sessions. The session cookie is an Auth.js JWT that names one of these rows
 * (its `sid`); a cookie whose row is gone is signed out, on every instance at once. Sign-out
 * deletes the row, "sign out everywhere" all of the user's rows.
 */
export const authSessions = pgTable(
  "auth_sessions",
  {
    sessionToken: text("session_token").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    expires: timestamp("expires", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [index("auth_sessions_user_idx").on(t.userId)],
);

export const verificationTokens = pgTable(
  "verification_tokens",
  {
    identifier: text("identifier").notNull(),
    token: text("token").notNull(),
    expires: timestamp("expires", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.identifier, t.token] })],
);

// ---------------------------------------------------------------------------------------------
// Voices and characters
// ---------------------------------------------------------------------------------------------
export const visibility = pgEnum("visibility", ["private", "public"]);

/**
 * Personal API tokens: a script calls the API with `Authorization: Bearer <token>` as its owner.
 * Only a SHA-256 of the token is stored; the token itself is shown once, when it is created.
 */
export const apiTokens = pgTable(
  "api_tokens",
  {
    id: id(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull(),
    /** the token's first characters, so its owner can tell tokens apart */
    prefix: text("prefix").notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [uniqueIndex("api_tokens_hash_idx").on(t.tokenHash), index("api_tokens_user_idx").on(t.userId)],
);

export const voices = pgTable(
  "voices",
  {
    id: id(),
    /** null for the presets that ship with the app */
    ownerId: text("owner_id").references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    refAudioPath: text("ref_audio_path").notNull(),
    promptText: text("prompt_text").notNull().default(""),
    promptLang: text("prompt_lang").notNull(),
    auxRefAudioPaths: jsonb("aux_ref_audio_paths").$type<string[]>().notNull().default([]),
    params: jsonb("params").$type<VoiceParams>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("voices_owner_idx").on(t.ownerId)],
);

export const characters = pgTable(
  "characters",
  {
    id: id(),
    /** null for presets */
    ownerId: text("owner_id").references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    persona: text("persona").notNull().default(""),
    /** card `personality`: a short summary of temperament, put after the persona in the prompt */
    personality: text("personality").notNull().default(""),
    /** the public tagline shown on cards (our own field; a card's creator notes are separate) */
    description: text("description").notNull().default(""),
    /** card `creator_notes`: notes from the author for people using the character; never in a prompt */
    creatorNotes: text("creator_notes").notNull().default(""),
    /** the character's 3D body (an uploaded VRM/GLB or a generated GLB); null = none */
    avatarModelId: text("avatar_model_id").references((): AnyPgColumn => avatarModels.id, { onDelete: "set null" }),
    /** world info: entries that join the prompt when their keywords come up */
    lorebook: jsonb("lorebook").$type<Lorebook>().notNull().default({ scanDepth: 4, tokenBudget: 512, entries: [] }),
    greeting: text("greeting").notNull().default(""),
    alternateGreetings: jsonb("alternate_greetings").$type<string[]>().notNull().default([]),
    exampleDialogue: text("example_dialogue").notNull().default(""),
    scenario: jsonb("scenario").$type<Scenario>().notNull().default({ opponent: "", situation: "", background: "" }),
    systemPrompt: text("system_prompt").notNull().default(""),
    voiceId: text("voice_id").references(() => voices.id, { onDelete: "set null" }),
    category: text("category").notNull().default(""),
    tags: jsonb("tags").$type<string[]>().notNull().default([]),
    /** a path under /public for presets, or /api/images/<id> for uploads; null = default portrait */
    imageUrl: text("image_url"),
    visibility: visibility("visibility").notNull().default("private"),
    /** character-card `extensions` we don't interpret, kept for a faithful re-export */
    extensions: jsonb("extensions").$type<Record<string, unknown>>().notNull().default({}),
    /** card fields the app has no column for (creator, post_history_instructions, …) and the unused parts of a card's character_book, kept for re-export */
    cardExtras: jsonb("card_extras").$type<Record<string, unknown>>().notNull().default({}),
    /** what gallery search matches: name, description and tags, lower-cased */
    /** set when deleted: hidden everywhere, but chats that used it keep working */
    deletedAt: timestamp("deleted_at", { withTimezone: true, mode: "date" }),
    searchText: text("search_text")
      .notNull()
      .generatedAlwaysAs(sql`lower(name || ' ' || description || ' ' || (tags)::text)`),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("characters_owner_idx").on(t.ownerId),
    index("characters_visibility_idx").on(t.visibility),
    index("characters_recent_idx").on(t.createdAt.desc(), t.id.desc()),
    // A portrait is served to whoever may see a character that uses it.
    index("characters_image_url_idx").on(t.imageUrl),
    // Substring search (Korean included) with pg_trgm, created in migration 0001.
    index("characters_search_idx").using("gin", sql`${t.searchText} gin_trgm_ops`),
  ],
);

/**
 * The files a character card carries besides its portrait (RisuAI's CharX: emotion sprites,
 * backgrounds, user icons, `x-risu-asset`s, `x_meta/*.json` and `module.risum`), kept byte for
 * byte so an export writes them back where they were. `kind` "asset" is one named in the card's
 * `data.assets` (type, name, ext as written there); "x_meta" and "module" are carried unread.
 */
export const characterAssets = pgTable(
  "character_assets",
  {
    id: id(),
    characterId: text("character_id")
      .notNull()
      .references(() => characters.id, { onDelete: "cascade" }),
    kind: text("kind").$type<"asset" | "x_meta" | "module">().notNull(),
    /** the card's asset type: "emotion", "background", "user_icon", "x-risu-asset", "other", … (null for x_meta/module) */
    type: text("type"),
    /** the card's asset name (an emotion's name); "" for x_meta/module */
    name: text("name").notNull().default(""),
    ext: text("ext").notNull().default(""),
    /** where it sat in the archive (`assets/emotion/image/happy.png`, `x_meta/1.json`, `module.risum`) */
    path: text("path").notNull(),
    /** its place in `data.assets`, so an export keeps the card's order */
    position: integer("position").notNull().default(0),
    contentType: text("content_type").notNull(),
    byteSize: integer("byte_size").notNull(),
    sha256: text("sha256").notNull(),
    bytes: bytea("bytes").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("character_assets_character_idx").on(t.characterId, t.kind, t.position)],
);

export const images = pgTable("images", {
  id: id(),
  ownerId: text("owner_id").references(() => users.id, { onDelete: "cascade" }),
  contentType: text("content_type").notNull(),
  sha256: text("sha256").notNull(),
  bytes: bytea("bytes").notNull(),
  createdAt: createdAt(),
});

// ---------------------------------------------------------------------------------------------
// Chat sessions and messages
// ---------------------------------------------------------------------------------------------
/** Who the user plays in a chat: `{{user}}` becomes the persona's name, and its description joins the prompt. */
export const personas = pgTable(
  "personas",
  {
    id: id(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    /** /api/images/<id> of an uploaded portrait, or null */
    imageUrl: text("image_url"),
    /** the persona new chats start with (at most one per user) */
    isDefault: boolean("is_default").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("personas_user_idx").on(t.userId),
    uniqueIndex("personas_one_default_idx").on(t.userId).where(sql`${t.isDefault}`),
  ],
);

export const chatSessions = pgTable(
  "chat_sessions",
  {
    id: id(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    characterId: text("character_id")
      .notNull()
      .references(() => characters.id, { onDelete: "cascade" }),
    title: text("title"),
    /** "auto" once the LLM named the chat, "user" after a rename (never overwritten) */
    titleSource: text("title_source").$type<"auto" | "user">(),
    scenario: jsonb("scenario").$type<Scenario>().notNull(),
    model: text("model").notNull(),
    settings: jsonb("settings").$type<SessionSettings>().notNull(),
    /** the running summary of older turns, and the last message it covers */
    summary: text("summary").notNull().default(""),
    summaryThroughSeq: bigint("summary_through_seq", { mode: "number" }),
    /** failed attempts to fold older turns since the last success, and when to try again */
    summaryFailures: integer("summary_failures").notNull().default(0),
    summaryRetryAt: timestamp("summary_retry_at", { withTimezone: true, mode: "date" }),
    /** real prompt tokens (Ollama's prompt_eval_count) ÷ our estimate, learned per chat */
    tokenScale: real("token_scale"),
    /**
     * The character as it was when the chat started. The chat follows the live character while
     * its user may still see it; once the owner makes it private or deletes it, this is used.
     */
    characterSnapshot: jsonb("character_snapshot").$type<CharacterSnapshot>(),
    /** who the user plays here; null = the account's name */
    personaId: text("persona_id").references(() => personas.id, { onDelete: "set null" }),
    /** the author's note and how many messages from the end it goes */
    authorNote: text("author_note").notNull().default(""),
    authorNoteDepth: integer("author_note_depth").notNull().default(4),
    /** a branch: the chat it was made from, and the last message of that chat it shares */
    parentId: text("parent_id").references((): AnyPgColumn => chatSessions.id, { onDelete: "set null" }),
    branchedAtSeq: bigint("branched_at_seq", { mode: "number" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    lastMessageAt: timestamp("last_message_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    index("chat_sessions_user_recent_idx").on(t.userId, t.lastMessageAt.desc()),
    index("chat_sessions_parent_idx").on(t.parentId),
  ],
);

/** One spoken sentence of a reply: what was said and where its audio is. */
export interface SpokenClip {
  index: number;
  text: string;
  url: string;
}

export const messageRole = pgEnum("message_role", ["user", "assistant", "system"]);
export const messageStatus = pgEnum("message_status", ["complete", "streaming", "stopped", "error"]);

export const messages = pgTable(
  "messages",
  {
    id: id(),
    /** insertion order; the cursor for history pages */
    seq: bigint("seq", { mode: "number" }).generatedAlwaysAsIdentity().notNull(),
    sessionId: text("session_id")
      .notNull()
      .references(() => chatSessions.id, { onDelete: "cascade" }),
    role: messageRole("role").notNull(),
    content: text("content").notNull().default(""),
    status: messageStatus("status").notNull().default("complete"),
    /** why a reply failed or was cut short: a code (lib/errors.ts or "interrupted"), turned into a sentence when shown */
    errorCode: text("error_code"),
    /** the code's parameters (a model name, …): never remote text */
    errorParams: jsonb("error_params").$type<Record<string, string | number>>(),
    /** how the model ended the reply: "stop", or "length" when cut off by its token budget */
    finishReason: text("finish_reason"),
    /** what a thinking model thought before answering (shown collapsed; not part of the conversation) */
    thinking: text("thinking"),
    /** the browser's id for a send, so a retried send is not stored twice */
    clientId: text("client_id"),
    /**
     * Alternatives of one reply ("swipes") share a group: the id of the first of them. Only the
     * active one is part of the conversation.
     */
    swipeGroup: text("swipe_group"),
    active: boolean("active").notNull().default(true),
    model: text("model"),
    promptTokens: integer("prompt_tokens"),
    completionTokens: integer("completion_tokens"),
    timeToFirstTokenMs: integer("ttft_ms"),
    /** What the reader experienced: Enter pressed → the reply's first character painted, reported by the browser once. */
    seenFirstTokenMs: integer("seen_ttft_ms"),
    durationMs: integer("duration_ms"),
    tokensPerSecond: real("tokens_per_second"),
    /** the reply spoken sentence by sentence (realtime speech), in order, for replay */
    audio: jsonb("audio").$type<SpokenClip[]>().notNull().default([]),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("messages_session_seq_idx").on(t.sessionId, t.seq),
    index("messages_session_active_seq_idx").on(t.sessionId, t.active, t.seq),
    index("messages_swipe_group_idx").on(t.swipeGroup),
    // Replies of the last minute, for the per-user rate limit.
    index("messages_recent_replies_idx").on(t.createdAt).where(sql`${t.model} is not null`),
    // Substring search over one's own messages (Korean included). Not for a reply being written:
    // its partial saves would rewrite the trigrams of the whole text every time.
    index("messages_content_search_idx")
      .using("gin", sql`lower(${t.content}) gin_trgm_ops`)
      .where(sql`${t.status} <> 'streaming'`),
    // At most one reply is being written per chat, whatever instance writes it.
    uniqueIndex("messages_one_streaming_idx").on(t.sessionId).where(sql`${t.status} = 'streaming'`),
    uniqueIndex("messages_session_client_idx")
      .on(t.sessionId, t.clientId)
      .where(sql`${t.clientId} is not null`),
  ],
);

/**
 * The pool of MAX_CONCURRENT_GENERATIONS slots shared by every app instance. A slot is free when
 * it holds no message or its lease ran out (its instance crashed and stopped renewing it).
 */
export const generationSlots = pgTable(
  "generation_slots",
  {
    slot: integer("slot").primaryKey(),
    messageId: text("message_id"),
    instanceId: text("instance_id"),
    userId: text("user_id"),
    leaseUntil: timestamp("lease_until", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("generation_slots_message_idx").on(t.messageId)],
);

/**
 * Replies waiting for, or running on, an LLM server: the in-app queue shared by every instance.
 * A row waits with `server` null; it runs once a server has room (its OLLAMA_NUM_PARALLEL), taken
 * in a fair order (each user's first waiting reply before anyone's second, users served least
 * recently first). Rows of a crashed instance stop counting when their lease runs out.
 */
export const llmQueue = pgTable(
  "llm_queue",
  {
    messageId: text("message_id").primaryKey(),
    userId: text("user_id").notNull(),
    model: text("model").notNull(),
    /** the server running it; null while it waits */
    server: text("server"),
    instanceId: text("instance_id").notNull(),
    enqueuedAt: timestamp("enqueued_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }),
    /** set when the reply left its server: kept a while so the fair order knows who was served last */
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
    leaseUntil: timestamp("lease_until", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    index("llm_queue_server_idx").on(t.server).where(sql`${t.finishedAt} is null`),
    index("llm_queue_waiting_idx").on(t.enqueuedAt).where(sql`${t.server} is null`),
    index("llm_queue_user_idx").on(t.userId),
  ],
);

/**
 * Synthesised speech, content-addressed: the key is a SHA-256 of everything GPT-SoVITS was asked
 * (the voice's parameters, the text, the format). Shared by every user and app instance; a key's
 * bytes never change.
 */
export const audioClips = pgTable(
  "audio_clips",
  {
    key: text("key").primaryKey(),
    contentType: text("content_type").notNull(),
    bytes: bytea("bytes").notNull(),
    /** the clip's size, so the cache's total can be kept under AUDIO_CACHE_MAX_MB cheaply */
    sizeBytes: integer("size_bytes").notNull().default(0),
    createdAt: createdAt(),
    /** last served or asked for: the least recently used clips are evicted first */
    lastUsedAt: timestamp("last_used_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("audio_clips_lru_idx").on(t.lastUsedAt)],
);

/**
 * Each account's allowance of replies (CHAT_MESSAGES_PER_MINUTE), as a token bucket: up to that
 * many at once, refilled at that many a minute. One row per user, taken and updated in the same
 * statement as the send it admits, so concurrent sends — on any instance — can't all slip past
 * one count.
 */
export const replyQuotas = pgTable("reply_quotas", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  tokens: doublePrecision("tokens").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/**
 * Fixed-window counters for rate limits, shared by every app instance: one row per limit key
 * (e.g. `synthesize:user:<id>`) and window start. Old windows are deleted as new ones are used.
 */
export const rateLimits = pgTable(
  "rate_limits",
  {
    key: text("key").notNull(),
    windowStart: timestamp("window_start", { withTimezone: true, mode: "date" }).notNull(),
    count: integer("count").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.key, t.windowStart] }), index("rate_limits_window_idx").on(t.windowStart)],
);

/**
 * Server-side secrets generated once per database (never configured, never sent), shared by every
 * instance: e.g. the key that makes audio cache keys impossible to compute outside the server.
 */
export const appSecrets = pgTable("app_secrets", {
  name: text("name").primaryKey(),
  value: bytea("value").notNull(),
  createdAt: createdAt(),
});

/** What a chat keeps of its character (see chatSessions.characterSnapshot). */
export interface CharacterSnapshot {
  name: string;
  description: string;
  persona: string;
  /** (snapshots before migration 0017 have neither: chat-character.ts fills them in) */
  personality: string;
  lorebook: Lorebook;
  greeting: string;
  exampleDialogue: string;
  systemPrompt: string;
  scenario: Scenario;
  voiceId: string | null;
  cardExtras: Record<string, unknown>;
}

export type User = typeof users.$inferSelect;
export type ApiToken = typeof apiTokens.$inferSelect;
export type Voice = typeof voices.$inferSelect;
export type Character = typeof characters.$inferSelect;
export type ChatSession = typeof chatSessions.$inferSelect;
export type Message = typeof messages.$inferSelect;

// ---------------------------------------------------------------------------------------------
// Avatars: 3D bodies for characters
// ---------------------------------------------------------------------------------------------

/**
 * A 3D model: an uploaded VRM (0.x or 1.0) or GLB, or a GLB a generator made. Stored like
 * portraits (bytes in the database, content-addressed by sha256), validated before it is kept.
 */
export const avatarModels = pgTable(
  "avatar_models",
  {
    id: id(),
    ownerId: text("owner_id").references(() => users.id, { onDelete: "cascade" }),
    format: text("format").$type<"vrm" | "glb">().notNull(),
    /** "upload", or the generator that made it ("hunyuan3d", "trellis") */
    source: text("source").$type<"upload" | "hunyuan3d" | "trellis">().notNull(),
    /** "0" or "1" for VRM 0.x / 1.0; null for a plain GLB */
    vrmVersion: text("vrm_version").$type<"0" | "1">(),
    sha256: text("sha256").notNull(),
    byteSize: integer("byte_size").notNull(),
    triangles: integer("triangles").notNull(),
    bytes: bytea("bytes").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("avatar_models_owner_idx").on(t.ownerId)],
);

export const avatarJobStatus = pgEnum("avatar_job_status", ["queued", "running", "completed", "failed", "cancelled"]);

/**
 * One image-to-3D generation (the original API's job): queued in the app, one at a time per
 * generator server, fair between users; its progress, step and error are codes, shown in the
 * reader's language. Leased by the instance running it, so a job survives a restart.
 */
export const avatarJobs = pgTable(
  "avatar_jobs",
  {
    id: id(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    characterId: text("character_id")
      .notNull()
      .references(() => characters.id, { onDelete: "cascade" }),
    /** the image generated from (an upload, or the portrait's image at the time); presets give a path instead */
    imageId: text("image_id").references(() => images.id, { onDelete: "set null" }),
    imagePath: text("image_path"),
    status: avatarJobStatus("status").notNull().default("queued"),
    protocol: text("protocol").$type<"hunyuan3d" | "trellis">().notNull(),
    /** the generator server running it; null while queued */
    server: text("server"),
    /** the generator's own id (Hunyuan3D's uid) */
    remoteId: text("remote_id"),
    /** 0–1: the generator's own where it reports one, else estimated from elapsed time and capped */
    progress: real("progress").notNull().default(0),
    /** a code: "queued", "uploading", "generating", "texturing", "downloading", "validating" … */
    currentStep: text("current_step"),
    errorCode: text("error_code"),
    errorParams: jsonb("error_params").$type<Record<string, string | number>>(),
    /** the generator's parameters (seed, steps, …) as validated */
    options: jsonb("options").$type<Record<string, unknown>>().notNull().default({}),
    resultModelId: text("result_model_id").references(() => avatarModels.id, { onDelete: "set null" }),
    instanceId: text("instance_id"),
    leaseUntil: timestamp("lease_until", { withTimezone: true, mode: "date" }),
    /**
     * A cancelled or timed-out job whose work may still run on the generator (Hunyuan3D-2 cannot
     * stop a thread; TRELLIS until /ping says it is free): the server takes no other job before
     * this time, or before the driver sees the server free and clears it. A bound, so a dead
     * instance cannot hold a server for ever.
     */
    serverHeldUntil: timestamp("server_held_until", { withTimezone: true, mode: "date" }),
    /** set when the generator's mesh was simplified to fit the triangle limit */
    reduction: jsonb("reduction").$type<{ fromTriangles: number; toTriangles: number }>(),
    /** when the generator last answered about this job: silence past a limit fails it */
    lastHeardAt: timestamp("last_heard_at", { withTimezone: true, mode: "date" }),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("avatar_jobs_user_idx").on(t.userId, t.createdAt.desc()),
    index("avatar_jobs_character_idx").on(t.characterId, t.createdAt.desc()),
    index("avatar_jobs_open_idx").on(t.createdAt).where(sql`${t.status} in ('queued', 'running')`),
  ],
);
