// What the benchmarks share: statistics and tables, clean-up, and the parts they start — the
// production build (`next start`), an embedded Postgres in a temp dir, the fakes each in a process
// of their own (as the real servers are), signed-in typed clients, and probes of a process's CPU
// and memory from /proc.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createTRPCClient, httpBatchStreamLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { isNull } from "drizzle-orm";
import { EventSource, type FetchLike } from "eventsource";
import superjson from "superjson";
import { freePort } from "../support/ports";
import type { AppRouter } from "@/server/api/root";
import { createDatabase } from "@/server/db/client";
import { startEmbeddedPostgres } from "@/server/db/embedded";
import { migrateAndSeed } from "@/server/db/migrate";
import { characters, users } from "@/server/db/schema";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const NEXT_BIN = path.join(ROOT, "node_modules/next/dist/bin/next");
export const AUTH_SECRET = "bench-secret-bench-secret-bench-secret-00";
// ---------------------------------------------------------------------------------------------
// Statistics and formatting

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : "n/a");
export const ratio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : "n/a");
export const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export const verdict = (ok: boolean) => (ok ? "meets target" : "misses target");

export function log(message: string) {
  console.log(`▸ ${message}`);
}

// ---------------------------------------------------------------------------------------------
// Clean-up: everything started registers how to undo it; undone in reverse order, always.

export const cleanups: { name: string; run: () => Promise<void> | void }[] = [];

export function onCleanup(name: string, run: () => Promise<void> | void) {
  cleanups.push({ name, run });
}

export async function cleanUp() {
  while (cleanups.length > 0) {
    const step = cleanups.pop()!;
    try {
      await step.run();
    } catch (error) {
      console.error(`clean-up of ${step.name} failed:`, error);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Setup: build, database, fake Ollama, app, user

export function ensureBuild() {
  const buildId = path.join(ROOT, ".next/BUILD_ID");
  if (!existsSync(buildId)) {
    log("no production build (.next/BUILD_ID): running next build");
    const build = spawnSync(process.execPath, [NEXT_BIN, "build"], { cwd: ROOT, stdio: "inherit" });
    if (build.status !== 0) throw new Error("next build failed");
  }
  // The figures belong to this build, which may be older than the sources.
  log(`production build ${readFileSync(buildId, "utf8").trim()} of ${statSync(buildId).mtime.toISOString()}`);
}

export async function startDatabase(tempDir: string) {
  const port = await freePort();
  const pg = await startEmbeddedPostgres({ dir: path.join(tempDir, "postgres"), port, log: (line) => console.error(line) });
  onCleanup("postgres", () => pg.stop());
  await migrateAndSeed(pg.url, path.join(ROOT, "drizzle"));
  const database = createDatabase(pg.url, { max: 4 });
  onCleanup("database pool", () => database.sql.end({ timeout: 5 }));
  return { url: pg.url, ...database };
}

/** The last lines the app printed, for errors and for the report. */
export class OutputTail {
  private lines: string[] = [];
  private partial = "";
  constructor(private readonly keep = 400) {}

  add(chunk: Buffer) {
    const parts = (this.partial + chunk.toString()).split("\n");
    this.partial = parts.pop() ?? "";
    this.lines.push(...parts);
    if (this.lines.length > this.keep) this.lines.splice(0, this.lines.length - this.keep);
  }

  text() {
    return [...this.lines, this.partial].join("\n");
  }

  matching(pattern: RegExp) {
    return this.lines.filter((line) => pattern.test(line));
  }
}

export async function waitForHealth(baseUrl: string, app: ChildProcess, output: OutputTail) {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (app.exitCode !== null) throw new Error(`the app exited (${app.exitCode}):\n${output.text()}`);
    try {
      if ((await fetch(`${baseUrl}/api/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`the app did not become healthy:\n${output.text()}`);
}

/** Kills the app's whole process group (next start and anything it forked). */
export async function stopApp(app: ChildProcess) {
  if (!app.pid || app.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => app.once("exit", () => resolve()));
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-app.pid!, signal);
    } catch {
      // already gone
    }
  };
  signalGroup("SIGTERM");
  const timedOut = await Promise.race([exited.then(() => false), sleep(5_000).then(() => true)]);
  if (timedOut) signalGroup("SIGKILL");
}

export async function startApp(options: {
  databaseUrl: string;
  ollamaUrl: string;
  tempDir: string;
  env?: Record<string, string>;
  /** Flags for node itself (`--cpu-prof`, which NODE_OPTIONS does not take). */
  nodeArgs?: string[];
  /** Another built checkout to run (e.g. a baseline commit's), instead of this one. */
  appDir?: string;
}) {
  const appDir = options.appDir ?? ROOT;
  const port = await freePort();
  // Next.js builds absolute URLs with "localhost": use that name, as the e2e setup does.
  const baseUrl = `http://localhost:${port}`;
  const output = new OutputTail();
  const app = spawn(process.execPath, [...(options.nodeArgs ?? []), path.join(appDir, "node_modules/next/dist/bin/next"), "start", "-p", String(port)], {
    cwd: appDir,
    // Its own process group, so clean-up reaches whatever it forks.
    detached: true,
    env: {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      DATABASE_URL: options.databaseUrl,
      // Unused with DATABASE_URL set, but never the developer's own data directory.
      EMBEDDED_PG_DIR: path.join(options.tempDir, "unused-postgres"),
      OLLAMA_HOST: options.ollamaUrl,
      AUTH_SECRET,
      AUTH_TRUST_HOST: "true",
      AUTH_DEV_LOGIN: "",
      // Limits out of the way: this measures the relay, not the admission control.
      MAX_CONCURRENT_GENERATIONS: "200",
      CHAT_MESSAGES_PER_MINUTE: "10000", // the largest value lib/env.mjs accepts
      // The relay is measured against a server that writes every stream at once (as the direct
      // client gets it), not the app's queue in front of a one-at-a-time server.
      OLLAMA_NUM_PARALLEL: "256",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  onCleanup("app", () => stopApp(app));
  app.stdout?.on("data", (chunk: Buffer) => output.add(chunk));
  app.stderr?.on("data", (chunk: Buffer) => output.add(chunk));
  await waitForHealth(baseUrl, app, output);
  return { app, port, baseUrl, output };
}

/**
 * The fake Ollama in a process of its own (`e2e/fakes/ollama.ts`), like a real Ollama server:
 * it must not share an event loop with the benchmark's clients. Driven by its control endpoints.
 */
export async function startFake(options: { reply: string; args: string[]; script?: "ollama" | "sovits" | "hunyuan3d" | "trellis" }) {
  const port = await freePort();
  const script = options.script ?? "ollama";
  const fake = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, `e2e/fakes/${script}.ts`), "--port", String(port), ...options.args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  onCleanup(`fake ${script}`, async () => {
    if (fake.exitCode !== null) return;
    const exited = new Promise((resolve) => fake.once("exit", resolve));
    fake.kill("SIGTERM");
    await exited;
  });
  await new Promise<void>((resolve, reject) => {
    fake.once("exit", (code) => reject(new Error(`the fake ${script} exited (${code})`)));
    fake.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("listening")) resolve();
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const control = async (pathname: string, body?: unknown) => {
    const response = await fetch(`${url}${pathname}`, body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`fake ${script} ${pathname}: HTTP ${response.status}`);
    return response.json() as Promise<unknown>;
  };
  if (script === "ollama") await control("/__control", { reply: options.reply });
  return {
    url,
    control,
    activeStreams: async () => ((await control("/__control/stats")) as { activeChatStreams: number }).activeChatStreams,
  };
}

export type FakeServer = Awaited<ReturnType<typeof startFake>>;

export type Db = Awaited<ReturnType<typeof startDatabase>>;

export async function createUser(database: Db) {
  const [user] = await database.db
    .insert(users)
    .values({ email: `bench-${randomUUID()}@example.com`, name: "벤치" })
    .returning();
  if (!user) throw new Error("could not create the user");
  return user;
}


export async function presetCharacterId(database: Db) {
  const [row] = await database.db.select({ id: characters.id }).from(characters).where(isNull(characters.ownerId)).limit(1);
  if (!row) throw new Error("no preset character was seeded");
  return row.id;
}

// ---------------------------------------------------------------------------------------------
// The typed client, with the browser's links (lib/trpc/react.tsx)

export function createAppClient(baseUrl: string, cookie: string) {
  const url = `${baseUrl}/api/trpc`;
  // Node has no EventSource: the `eventsource` package's takes a fetch, through which we add the
  // cookie that a browser would send by itself.
  const fetchWithCookie: FetchLike = (input, init) => fetch(input, { ...init, headers: { ...init.headers, cookie } });
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({ url, transformer: superjson, EventSource, eventSourceOptions: { fetch: fetchWithCookie } }),
        // One request per call, as each of the benchmark's "users" is a browser of its own (and the
        // server refuses batches over MAX_BATCH_SIZE).
        false: httpBatchStreamLink({ url, transformer: superjson, headers: { cookie }, maxItems: 1 }),
      }),
    ],
  });
}

export type AppClient = ReturnType<typeof createAppClient>;

// ---------------------------------------------------------------------------------------------
// The app's server process and its memory

/** Parent pid of every process, from /proc/<pid>/stat (field 4, after the parenthesised name). */
export function parentPids(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // exited meanwhile
    }
  }
  return parents;
}

export function descendantsOf(root: number): number[] {
  const parents = parentPids();
  const found = [root];
  for (let i = 0; i < found.length; i += 1) {
    for (const [pid, ppid] of parents) if (ppid === found[i]) found.push(pid);
  }
  return found;
}

/** Socket inodes listening on `port` (IPv4 and IPv6). */
export function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const portHex = port.toString(16).toUpperCase().padStart(4, "0");
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [local, state, inode] = [fields[1], fields[3], fields[9]];
      if (local?.endsWith(`:${portHex}`) && state === "0A" && inode) inodes.add(inode);
    }
  }
  return inodes;
}

export function ownsSocket(pid: number, inodes: Set<string>): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        return match !== null && inodes.has(match[1]!);
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/**
 * The process that actually serves the port: `next start` may run the server itself or in a
 * forked child, so look among the spawned process and its descendants.
 */
export function serverPid(appPid: number, port: number): number {
  const inodes = listeningInodes(port);
  return descendantsOf(appPid).find((pid) => ownsSocket(pid, inodes)) ?? appPid;
}

/** VmRSS and VmHWM (peak) of a process, in kB. */
export function memoryOf(pid: number): { rssKb: number; hwmKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rssKb: field("VmRSS"), hwmKb: field("VmHWM") };
}

/** Resets VmHWM to the current RSS (Linux clear_refs "5"); false where that isn't allowed. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** CPU time of a process, in clock ticks (utime + stime, fields 14 and 15 of /proc/<pid>/stat). */
export function cpuTicksOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** Busy and total clock ticks of the whole machine (all cores), from /proc/stat. */
export function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** USER_HZ: /proc reports CPU time in 1/100 s on Linux. */
export const TICKS_PER_SECOND = 100;

/**
 * Watches the app's server process while work runs through it: RSS sampled every 20 ms
 * (VmHWM may not be resettable), its CPU time, and how busy the whole machine was.
 */
export class ProcessProbe {
  peakKb = 0;
  private appTicks = 0;
  private wallMs = 0;
  private machineBusy = 0;
  private machineTotal = 0;

  constructor(readonly pid: number) {}

  async during<T>(work: () => Promise<T>): Promise<T> {
    const sample = () => {
      this.peakKb = Math.max(this.peakKb, memoryOf(this.pid).rssKb);
    };
    const [ticks, machine, start] = [cpuTicksOf(this.pid), machineTicks(), performance.now()];
    sample();
    const timer = setInterval(sample, 20);
    try {
      return await work();
    } finally {
      clearInterval(timer);
      sample();
      const after = machineTicks();
      this.appTicks += cpuTicksOf(this.pid) - ticks;
      this.wallMs += performance.now() - start;
      this.machineBusy += after.busy - machine.busy;
      this.machineTotal += after.total - machine.total;
    }
  }

  /** The app's CPU use in % of one core. */
  get appCpuPercent() {
    return ((this.appTicks / TICKS_PER_SECOND) * 1000 * 100) / this.wallMs;
  }

  /** How busy all cores together were, in %. */
  get machineBusyPercent() {
    return (this.machineBusy / this.machineTotal) * 100;
  }
}

/** Runs `work` with clean-up guaranteed, on failure and on Ctrl-C too; exit code 1 if it threw. */
export async function run(work: () => Promise<void>) {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: cleaning up`);
      void cleanUp().finally(() => process.exit(130));
    });
  }
  try {
    await work();
  } catch (error) {
    console.error("\n✖ the benchmark run failed:", error);
    process.exitCode = 1;
  } finally {
    await cleanUp();
  }
}
