// Where the app's CPU time goes: the production server run under `node --cpu-prof` while the
// benchmark drives three loads through it one after another — a trivial procedure
// (`sessions.get`, one query), sends whose replies are not read (`chat.send` up to its head), and
// whole streamed replies read to the end — then each phase's samples are cut out of the profile
// and summed by function and by package (self time).
//
//   npm run bench:profile            (the .cpuprofile is kept; open it in Chrome DevTools)
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { randomUUID } from "node:crypto";
import { signedInCookie } from "../support/session-cookie";
import {
  AUTH_SECRET,
  run,
  createAppClient,
  createUser,
  NEXT_BIN,
  log,
  onCleanup,
  presetCharacterId,
  ROOT,
  serverPid,
  startApp,
  startDatabase,
  startFake,
  table,
} from "./harness";

const TOKEN_DELAY_MS = 20;
const REPLY = Array.from({ length: 25 }, () => "*고개를 끄덕이며* 그렇군요, 정말 흥미로운").join(" ");
const USER_TEXT = "오늘 하루는 어땠어? 재미있는 이야기 좀 들려줘.";
const CALLS = 300;
const SENDS = 60;
const REPLIES = 40;
const TOP = 14;

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Monotonic microseconds, the clock V8 stamps its samples with. */
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/** Where a function's code lives: a package, Node itself, the app, or the runtime. */
function ownerOf(url: string): string {
  if (!url) return "(runtime: gc, program, idle)";
  if (url.startsWith("node:")) return "node (core)";
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + "node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  // The app's own code and what Next.js bundled with it, by source file where the build kept its name.
  const bundled = /\/\.next(?:-profile)?\/server\/(?:chunks|app)\//.test(url);
  if (bundled) return "app bundle (.next/server)";
  return url.replace(`file://${ROOT}/`, "");
}

/** Self time per function and per owner within the windows ([fromUs, toUs) each). */
function summarize(profile: CpuProfile, windows: readonly (readonly [number, number])[]) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const functions = new Map<string, number>();
  const owners = new Map<string, number>();
  let at = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (!windows.some(([from, to]) => at >= from && at < to)) continue;
    const node = byId.get(profile.samples[i]!)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") continue;
    const owner = ownerOf(url);
    const name = `${functionName || "(anonymous)"} ${owner}${url ? `:${lineNumber + 1}` : ""}`;
    functions.set(name, (functions.get(name) ?? 0) + delta);
    owners.set(owner, (owners.get(owner) ?? 0) + delta);
    total += delta;
  }
  const top = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  return { totalUs: total, functions: top(functions), owners: top(owners) };
}

/** A production build with readable server code, beside the real one (.next-profile; see next.config.mjs). */
function ensureProfileBuild() {
  const buildId = path.join(ROOT, ".next-profile/BUILD_ID");
  const sources = ["app", "components", "lib", "server"].map((dir) => path.join(ROOT, dir));
  const newest = Math.max(...sources.map(newestMtime));
  if (existsSync(buildId) && statSync(buildId).mtimeMs > newest) return;
  log("building a copy with readable server code (.next-profile)");
  const build = spawnSync(process.execPath, [NEXT_BIN, "build"], { cwd: ROOT, stdio: "inherit", env: { ...process.env, AF_PROFILE_BUILD: "1" } });
  if (build.status !== 0) throw new Error("next build failed");
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

async function main() {
  ensureProfileBuild();
  const tempDir = await mkdtemp(path.join(os.tmpdir(), "af-profile-"));
  await chmod(tempDir, 0o755);
  onCleanup("temp dir", () => rm(tempDir, { recursive: true, force: true }));
  const profileDir = await mkdtemp(path.join(os.tmpdir(), "af-cpuprof-"));

  const fake = await startFake({ reply: REPLY, args: ["--delay", String(TOKEN_DELAY_MS), "--parallel", "256", "--load-delay", "0"] });
  const database = await startDatabase(tempDir);
  const { app, port, baseUrl } = await startApp({
    databaseUrl: database.url,
    ollamaUrl: fake.url,
    tempDir,
    nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, "--cpu-prof-interval=200"],
    env: { AF_PROFILE_BUILD: "1" },
  });
  const pid = serverPid(app.pid!, port);
  log(`profiling the server (pid ${pid}) into ${profileDir}`);

  const user = await createUser(database);
  const client = createAppClient(baseUrl, (await signedInCookie(database.db, user, { secret: AUTH_SECRET })).cookie);
  const characterId = await presetCharacterId(database);
  const sessions: string[] = [];
  for (let i = 0; i < REPLIES; i += 1) sessions.push((await client.sessions.create.mutate({ characterId })).id);
  // Warm-up: the first calls compile and fill caches.
  for (let i = 0; i < 30; i += 1) await client.sessions.get.query({ id: sessions[0]! });

  const phases: { name: string; per: number; windows: [number, number][] }[] = [];
  const phase = async (name: string, per: number, work: (window: (from: number, to: number) => void) => Promise<void>) => {
    await sleep(300);
    const windows: [number, number][] = [];
    const from = nowUs();
    await work((a, b) => windows.push([a, b]));
    if (windows.length === 0) windows.push([from, nowUs()]);
    phases.push({ name, per, windows });
  };

  await phase(`sessions.get × ${CALLS}`, CALLS, async () => {
    for (let i = 0; i < CALLS; i += 1) await client.sessions.get.query({ id: sessions[i % sessions.length]! });
  });
  // A send up to its head (the reply's first event): each send's own window, its reply then
  // streaming outside it, finished before the next send.
  await phase(`chat.send up to the reply's start × ${SENDS}`, SENDS, async (window) => {
    for (let i = 0; i < SENDS; i += 1) {
      const from = nowUs();
      const { events } = await client.chat.send.mutate({ sessionId: sessions[i % sessions.length]!, clientId: randomUUID(), text: USER_TEXT });
      window(from, nowUs());
      for await (const { event } of events) if (event.type === "error") throw new Error(event.code);
      await sleep(100);
    }
  });
  await phase(`send + streamed 125-token reply × ${REPLIES}`, REPLIES, async () => {
    for (let i = 0; i < REPLIES; i += 1) {
      const { events } = await client.chat.send.mutate({ sessionId: sessions[i]!, clientId: randomUUID(), text: USER_TEXT });
      for await (const { event } of events) if (event.type === "error") throw new Error(event.code);
    }
  });

  log("stopping the server so it writes its profile");
  process.kill(-app.pid!, "SIGINT");
  await new Promise<void>((resolve) => (app.exitCode !== null ? resolve() : app.once("exit", () => resolve())));
  await sleep(500);
  const file = readdirSync(profileDir).find((name) => name.includes(`.${pid}.`) && name.endsWith(".cpuprofile"));
  if (!file) throw new Error(`no profile of pid ${pid} in ${profileDir}: ${readdirSync(profileDir).join(", ")}`);
  const profile = JSON.parse(readFileSync(path.join(profileDir, file), "utf8")) as CpuProfile;

  for (const { name, per, windows } of phases) {
    const { totalUs, functions, owners } = summarize(profile, windows);
    console.log(`\n## ${name}: ${(totalUs / 1000 / per).toFixed(2)} ms of server CPU each (${(totalUs / 1000).toFixed(0)} ms in all)`);
    const share = (us: number) => `${((us / totalUs) * 100).toFixed(1)}%`;
    const each = (us: number) => `${(us / 1000 / per).toFixed(3)} ms`;
    console.log(table(["by package", "share", "per call"], owners.map(([owner, us]) => [owner, share(us), each(us)])));
    console.log(table(["by function (self time)", "share", "per call"], functions.map(([fn, us]) => [fn.slice(0, 110), share(us), each(us)])));
  }
  console.log(`\nProfile: ${path.join(profileDir, file)}`);
}

await run(main);
