import { env } from "@/lib/env.mjs";
import { setDatabaseUrl } from "./db";
import { startEmbeddedPostgres } from "./db/embedded";
import { migrateAndSeed } from "./db/migrate";

function describe(error: unknown) {
  return error instanceof Error ? error.message : String(error);
}

function redact(url: string) {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}

/**
 * Runs once when the server process starts (instrumentation.ts): validates configuration,
 * starts or reaches Postgres, applies migrations and seeds the presets. Any failure stops the
 * process with a plain message instead of serving pages that cannot work.
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
}
