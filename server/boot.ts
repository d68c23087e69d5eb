import { env } from "@/lib/env.mjs";
import { getDb, setDatabaseUrl } from "./db";
import { startEmbeddedPostgres } from "./db/embedded";
import { migrateAndSeed } from "./db/migrate";
import { preloadModel } from "./llm/ollama";

function describe(error: unknown) {
  return error instanceof Error ? error.message : String(error);
}

function redact(url: string) {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}

/**
 * Loads the default model on the Ollama server in the background, with the options replies use,
 * so the first chat does not wait for a cold load. Ollama may be down or still starting: that
 * is only logged, and the first reply loads the model itself.
 */
export function preloadDefaultModel(): Promise<void> {
  const model = env().OLLAMA_MODEL;
  return preloadModel(model).then(
    () => console.log(`▸ ${model} loaded on Ollama`),
    (error: unknown) => console.warn(`▸ could not preload ${model} on Ollama (${describe(error)}); the first reply will load it`),
  );
}

/**
 * Runs once when the server process starts (instrumentation.ts): validates configuration,
 * starts or reaches Postgres, applies migrations and seeds the presets, then preloads the
 * default model without waiting for it. A database failure stops the process with a plain
 * message instead of serving pages that cannot work.
 */
export async function bootServer() {
  const config = env();
  let url = config.DATABASE_URL;
  try {
    if (!url) {
      const embedded = await startEmbeddedPostgres({
        dir: config.EMBEDDED_PG_DIR,
        port: config.EMBEDDED_PG_PORT,
        log: (line) => console.error(line),
      });
      url = embedded.url;
      console.log(`▸ embedded Postgres on 127.0.0.1:${config.EMBEDDED_PG_PORT}, data in ${config.EMBEDDED_PG_DIR}`);
    }
    await migrateAndSeed(url);
    setDatabaseUrl(url);
  } catch (error) {
    const where = url ? redact(url) : `the embedded server (${config.EMBEDDED_PG_DIR}, port ${config.EMBEDDED_PG_PORT})`;
    console.error(`\n✖ Avatar Forge cannot start: the database at ${where} is unavailable.\n  ${describe(error)}\n`);
    process.exit(1);
  }
  void preloadDefaultModel();
  // Avatar generation jobs: picks up jobs a previous run left (see server/avatars/jobs.ts).
  void import("./avatars/jobs").then(({ ensureAvatarEngine }) => ensureAvatarEngine(getDb()));
}
