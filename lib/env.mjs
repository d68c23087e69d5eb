// @ts-check
// Server configuration, validated once with zod. Plain JavaScript so that next.config.mjs can
// import it and stop `next start` / `next dev` before anything else runs.
import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL such as http://127.0.0.1:11434" });

/** One http(s) URL, or several separated by commas (a pool of servers). */
const httpUrls = (/** @type {string} */ fallback) =>
  z
    .string()
    .default(fallback)
    .refine(
      (v) => v.split(",").every((url) => httpUrl.safeParse(url.trim()).success),
      `must be an http(s) URL such as ${fallback}, or several separated by commas`,
    );

const schema = z
  .object({
    NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
    DATABASE_URL: z
      .url({ protocol: /^postgres(ql)?$/, error: "must be a postgres:// URL" })
      .optional(),
    EMBEDDED_PG_DIR: z.string().min(1).default(".data/postgres"),
    EMBEDDED_PG_PORT: z.coerce.number().int().min(1024).max(65535).default(54329),
    /** One Ollama server, or several separated by commas (a pool: replies are spread over them). */
    OLLAMA_HOST: httpUrls("http://127.0.0.1:11434"),
    OLLAMA_MODEL: z.string().min(1).max(200).default("qwen2.5:7b"),
    OLLAMA_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
    OLLAMA_NUM_CTX: z.coerce.number().int().min(512).max(1_048_576).default(8192),
    OLLAMA_STREAM_IDLE_MS: z.coerce.number().int().min(100).max(3_600_000).default(120_000),
    /**
     * How long Ollama keeps a model loaded after its last call, sent on every call: a Go duration
     * ("30m", "2h"), or seconds as a plain number ("-1": keep it loaded).
     */
    OLLAMA_KEEP_ALIVE: z
      .string()
      .regex(/^-?\d+$|^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/, 'must be a duration such as "30m" or "2h", or seconds such as "600" or "-1"')
      .transform((v) => (/^-?\d+$/.test(v) ? Number(v) : v))
      .default("30m"),
    /** Time limit for titles, summaries and the start-up preload: they may wait behind replies and a model load. */
    OLLAMA_BACKGROUND_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(120_000),
    /** How long a generation slot lives without renewal: a crashed instance's slots return after this. */
    GENERATION_LEASE_MS: z.coerce.number().int().min(1_000).max(600_000).default(15_000),
    CHAT_MESSAGES_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(20),
    /** One GPT-SoVITS server, or several separated by commas (a pool: syntheses are spread over them). */
    SOVITS_URL: httpUrls("http://127.0.0.1:9880"),
    /** How long one synthesis may take (the first audio of a real server takes 1–3 s on a GPU). */
    SOVITS_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(60_000),
    /** Syntheses sent to GPT-SoVITS at once (api_v2 speaks one at a time); the rest wait in the app's queue. */
    SOVITS_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
    AUTH_SECRET: z.string().min(32, "must be at least 32 characters (openssl rand -base64 32)").optional(),
    AUTH_GOOGLE_ID: z.string().min(1).optional(),
    AUTH_GOOGLE_SECRET: z.string().min(1).optional(),
    AUTH_GOOGLE_ISSUER: httpUrl.optional(),
    AUTH_DEV_LOGIN: bool.optional(),
    MAX_CONCURRENT_GENERATIONS: z.coerce.number().int().min(1).max(10_000).default(20),
    /** Replies one Ollama server writes at once (its own OLLAMA_NUM_PARALLEL); the rest wait in the app's queue. */
    OLLAMA_NUM_PARALLEL: z.coerce.number().int().min(1).max(256).default(1),
    /** How long a reply may wait for its first token once it is the server's turn (cold loads take minutes). */
    OLLAMA_FIRST_TOKEN_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(300_000),
    /** The address `npm start` listens on: loopback unless told otherwise (see README, Security). */
    HOST: z.string().min(1).max(255).regex(/^[\w.:[\]-]+$/, "must be a host name or IP address such as 127.0.0.1 or 0.0.0.0").optional(),
    /** Reference audio of users' voices must be a file under this directory on the GPT-SoVITS host. */
    SOVITS_REF_AUDIO_DIR: z
      .string()
      .min(1)
      .max(300)
      .refine((v) => !/[\0\r\n]/.test(v) && !v.split(/[\\/]/).includes(".."), "must be a plain directory path without ..")
      .default("presets"),
    // Limits on expensive or storage-growing calls (per account unless said otherwise).
    SYNTHESIS_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(60),
    SYNTHESIS_GLOBAL_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
    UPLOADS_PER_HOUR: z.coerce.number().int().min(1).max(100_000).default(60),
    UPLOADS_GLOBAL_PER_HOUR: z.coerce.number().int().min(1).max(1_000_000).default(2_000),
    SEARCHES_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(60),
    API_TOKENS_PER_HOUR: z.coerce.number().int().min(1).max(10_000).default(10),
    SIGNUPS_PER_HOUR: z.coerce.number().int().min(1).max(1_000_000).default(100),
    /** "Export my data" downloads per account per hour (one at a time besides). */
    ACCOUNT_EXPORTS_PER_HOUR: z.coerce.number().int().min(1).max(10_000).default(10),
    /** Calls in one HTTP batch of the tRPC API (the browser batches at most 10). */
    MAX_BATCH_SIZE: z.coerce.number().int().min(10).max(100).default(10),
    /** The audio cache's size; the least recently used clips go first beyond it. */
    AUDIO_CACHE_MAX_MB: z.coerce.number().int().min(1).max(1_000_000).default(1024),
    // Avatars (3D): an image-to-3D server, self-hosted like Ollama (see README, Avatars).
    /** One Hunyuan3D-2 / TRELLIS server, or several separated by commas; unset = generation off. */
    AVATAR3D_URL: z
      .string()
      .refine((v) => v.split(",").every((url) => httpUrl.safeParse(url.trim()).success), "must be an http(s) URL such as http://127.0.0.1:8081, or several separated by commas")
      .optional(),
    /** Which protocol AVATAR3D_URL speaks: Hunyuan3D-2's api_server.py, or the StableProjectorz API of TRELLIS. */
    AVATAR3D_PROTOCOL: z.enum(["hunyuan3d", "trellis"]).default("hunyuan3d"),
    /** A generation fails when its server reports nothing new for this long (Hunyuan3D reports nothing until done). */
    AVATAR3D_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(900_000),
    /** A generation ends as unreachable when its server answers nothing at all (refused, reset, no answer) for this long. */
    AVATAR3D_UNREACHABLE_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
    /** The longest a cancelled or failed generation keeps its server while its work may still run there (Hunyuan3D cannot stop one). */
    AVATAR3D_HOLD_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(600_000),
    /** Ask Hunyuan3D for a texture: only when its server runs with --enable_tex (else it never completes). */
    AVATAR3D_TEXTURE: bool.optional(),
    /** Generations one account may have queued or running at once. */
    AVATAR_JOBS_PER_USER: z.coerce.number().int().min(1).max(100).default(2),
    /** Generations one account may request per hour, and all accounts together. */
    AVATAR_GENERATIONS_PER_HOUR: z.coerce.number().int().min(1).max(10_000).default(10),
    AVATAR_GENERATIONS_GLOBAL_PER_HOUR: z.coerce.number().int().min(1).max(1_000_000).default(200),
    /** Avatars (issue 12): an uploaded or generated VRM/GLB's size (at most the 30 MB upload limit) and triangle count. */
    AVATAR_MAX_MB: z.coerce.number().int().min(1).max(30).default(30),
    AVATAR_MAX_TRIANGLES: z.coerce.number().int().min(1_000).max(5_000_000).default(500_000),
  })
  .superRefine((v, ctx) => {
    if (Boolean(v.AUTH_GOOGLE_ID) !== Boolean(v.AUTH_GOOGLE_SECRET)) {
      ctx.addIssue({
        code: "custom",
        path: [v.AUTH_GOOGLE_ID ? "AUTH_GOOGLE_SECRET" : "AUTH_GOOGLE_ID"],
        message: "AUTH_GOOGLE_ID and AUTH_GOOGLE_SECRET must be set together",
      });
    }
    if (v.NODE_ENV === "production" && !v.AUTH_SECRET) {
      ctx.addIssue({ code: "custom", path: ["AUTH_SECRET"], message: "is required in production" });
    }
  });

/** @typedef {z.infer<typeof schema>} Env */

/**
 * Parses configuration from a plain record (process.env by default).
 * Empty strings count as unset, so `FOO=` in a .env file falls back to the default.
 * @param {Record<string, string | undefined>} source
 * @returns {Env}
 */
export function parseEnv(source = process.env) {
  /** @type {Record<string, string>} */
  const cleaned = {};
  for (const [key, value] of Object.entries(source)) {
    if (value !== undefined && value !== "") cleaned[key] = value;
  }
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = issue.path.join(".") || "(environment)";
      const given = cleaned[name] === undefined ? "unset" : `"${cleaned[name]}"`;
      return `  ${name} (${given}): ${issue.message}`;
    });
    throw new Error(`Invalid configuration:\n${lines.join("\n")}\nSee .env.example for every variable.`);
  }
  return result.data;
}

/**
 * Whether the development sign-in (no Google) is offered: always outside production,
 * in production only when AUTH_DEV_LOGIN=true is set explicitly.
 * @param {Env} e
 */
export function devLoginEnabled(e) {
  return e.AUTH_DEV_LOGIN ?? e.NODE_ENV !== "production";
}

/** @param {Env} e */
export function googleConfigured(e) {
  return Boolean(e.AUTH_GOOGLE_ID && e.AUTH_GOOGLE_SECRET);
}

/** @type {Env | undefined} */
let cached;

/** The validated configuration of this process (parsed on first use). */
export function env() {
  cached ??= parseEnv();
  return cached;
}
