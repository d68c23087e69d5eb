// Avatar benchmark: what the 3D avatar costs.
//
//   npm run bench:avatar
//   AF_BENCH_BASELINE_DIR=/path/to/built/older/checkout npm run bench:avatar   (adds the comparison)
//
// Everything runs locally, each part in its own process as in production: fake Ollama, fake
// GPT-SoVITS (a pulsed tone), fake Hunyuan3D-2 (a slow job), an embedded Postgres in a temp dir,
// the production build (`next start`), and Chromium.
//
// 1. First-load JS, two ways: from the build output (the route's entry chunks in its client
//    reference manifest plus the root main files, raw and gzipped), and in Chromium (every script
//    a fresh page loads until the network is idle, its bytes on the wire and decoded, from the
//    Resource Timing entries). The 3D code (three.js and three-vrm) is told apart by content: a
//    chunk holding "VRMLoaderPlugin" (three-vrm) or "WebGLRenderer" (three.js). Pages without an
//    avatar must load none of it; with AF_BENCH_BASELINE_DIR (a built checkout of an older commit,
//    its own node_modules) the same pages are measured on that build and compared (target: within 5%).
// 2. Speech start → mouth opening, in Chromium: each clip's `playing` event (HTMLMediaElement.play
//    patched to listen on every element, as the player's elements are not in the document) and the
//    first change of the canvas's `data-mouth` (the VRM `aa` weight, set in the render loop's
//    animation frame) to a value above 0 after it, both with performance.now().
// 3. The server's memory while a generation job runs (fake Hunyuan3D-2, one job of JOB_MS): RSS
//    idle before, peak during (sampled every 20 ms), and after.
// 4. Hostile models (e2e/fixtures/hostile-models.ts: a million empty nodes, a million instances, a
//    16384² texture, …) uploaded over and over by two clients at once: the server's event-loop
//    delay (perf_hooks.monitorEventLoopDelay in the server process, loaded by
//    e2e/bench/event-loop-probe.mjs) and /api/health's latency, next to the same while idle.
//    Each upload must be refused with its reason. Target: event-loop p99 under 50 ms.
// 5. Simplifying a 600k-triangle textured mesh (a raw generated bust) with fitGeneratedModel, on
//    its worker thread as the jobs do: triangles before → after and the time, to the default limit
//    and to a lower one.
//
// AF_BENCH_AVATAR_PARTS=hostile,simplify runs only those parts (js, mouth, memory, hostile,
// simplify; all by default).
//
// Targets are informative; the script exits non-zero only when the run itself broke.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import vm from "node:vm";
import { gzipSync } from "node:zlib";
import { chromium, type Browser } from "@playwright/test";
import { asc, eq, isNull } from "drizzle-orm";
import { SAMPLE_RATE, synthesize } from "../fakes/sovits";
import { buildTexturedGeneratorGlb, buildVrm1 } from "../fixtures/avatars";
import { hostileModels } from "../fixtures/hostile-models";
import { portraitPng } from "../fixtures/images";
import { freePort } from "../support/ports";
import { signedInCookie } from "../support/session-cookie";
import {
  type AppClient,
  AUTH_SECRET,
  createAppClient,
  createUser,
  type Db,
  ensureBuild,
  log,
  mb,
  memoryOf,
  ms,
  onCleanup,
  percentile,
  ProcessProbe,
  ROOT,
  run,
  serverPid,
  startApp,
  startDatabase,
  startFake,
  stopApp,
  table,
  verdict,
} from "./harness";
import { fitGeneratedModel } from "@/server/avatars/gltf";
import { characters, voices } from "@/server/db/schema";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FRAME_MS = 1000 / 60;
const JOB_MS = 5_000;
/** Replies of six sentences each: one clip per sentence. */
const SPEECH_REPLIES = 2;
const SENTENCES = [
  "Good evening, it is lovely to see you again.",
  "The stars are bright over the harbour tonight.",
  "I baked a lemon cake for the two of us.",
  "Shall we walk down to the old lighthouse later?",
  "Bring a warm coat, the wind is cold by the sea.",
  "Tell me everything about your day first.",
];
const TARGETS = { firstLoadGrowth: 0.05, mouthFrames: 1, eventLoopP99Ms: 50 };
/** Each hostile model is uploaded this many times by each of HOSTILE_CLIENTS clients at once. */
const HOSTILE_ROUNDS = 3;
const HOSTILE_CLIENTS = 2;
const IDLE_MS = 5_000;
const SIMPLIFY_TRIANGLES = 600_000;
const PARTS = new Set((process.env.AF_BENCH_AVATAR_PARTS ?? "js,mouth,memory,hostile,simplify").split(",").map((part) => part.trim()));

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
const pct = (value: number) => (Number.isFinite(value) ? `${value >= 0 ? "+" : ""}${(value * 100).toFixed(1)}%` : "n/a");

// ---------------------------------------------------------------------------------------------
// The 3D code, told apart by content

const threeDCache = new Map<string, boolean>();

/** Whether a built chunk (path under .next/) holds three.js or three-vrm. */
function isThreeD(appDir: string, chunk: string): boolean {
  const file = path.join(appDir, ".next", chunk);
  const cached = threeDCache.get(file);
  if (cached !== undefined) return cached;
  let found = false;
  try {
    const code = readFileSync(file, "utf8");
    found = code.includes("VRMLoaderPlugin") || code.includes("WebGLRenderer");
  } catch {
    // not a file of this build
  }
  threeDCache.set(file, found);
  return found;
}

/** Every chunk of the build holding three.js or three-vrm, with its size. */
function threeDChunks(appDir: string) {
  const dir = path.join(appDir, ".next/static/chunks");
  return readdirSync(dir)
    .filter((name) => name.endsWith(".js") && isThreeD(appDir, `static/chunks/${name}`))
    .map((name) => {
      const bytes = readFileSync(path.join(dir, name));
      const code = bytes.toString("utf8");
      const holds = [code.includes("WebGLRenderer") && "three.js", code.includes("VRMLoaderPlugin") && "three-vrm"].filter(Boolean).join(" + ");
      return { name, raw: bytes.length, gzip: gzipSync(bytes).length, holds };
    });
}

// ---------------------------------------------------------------------------------------------
// 1a. First-load JS from the build output

interface BuildFigure {
  route: string;
  files: number;
  raw: number;
  gzip: number;
  threeD: number;
}

/** The route's first-load JS as the build lists it: root main files + the layout's and page's entry chunks. */
function buildFirstLoad(appDir: string, route: string): BuildFigure | null {
  const key = `${route === "/" ? "" : route}/page`;
  const manifestFile = path.join(appDir, ".next/server/app", `${key.slice(1)}_client-reference-manifest.js`);
  if (!existsSync(manifestFile)) return null;
  const sandbox: { __RSC_MANIFEST?: Record<string, { entryJSFiles?: Record<string, string[]> }> } = {};
  vm.runInNewContext(readFileSync(manifestFile, "utf8"), sandbox);
  const entries = sandbox.__RSC_MANIFEST?.[key]?.entryJSFiles ?? {};
  const buildManifest = JSON.parse(readFileSync(path.join(appDir, ".next/build-manifest.json"), "utf8")) as { rootMainFiles?: string[] };
  const files = new Set([...(buildManifest.rootMainFiles ?? []), ...Object.values(entries).flat()]);
  let raw = 0;
  let gzip = 0;
  let threeD = 0;
  for (const file of files) {
    const bytes = readFileSync(path.join(appDir, ".next", file));
    raw += bytes.length;
    gzip += gzipSync(bytes).length;
    if (isThreeD(appDir, file)) threeD += 1;
  }
  return { route, files: files.size, raw, gzip, threeD };
}

// ---------------------------------------------------------------------------------------------
// 1b. First-load JS in Chromium

async function launch(): Promise<Browser> {
  const ensured = spawnSync("bash", [path.join(ROOT, "e2e/ensure-chromium.sh")], { stdio: "inherit" });
  if (ensured.status !== 0) throw new Error("Chromium is not available");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required"],
  });
  onCleanup("chromium", () => browser.close());
  return browser;
}

async function newPage(browser: Browser, baseUrl: string, cookie: string) {
  const [name, ...rest] = cookie.split("=");
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addCookies([{ name: name!, value: rest.join("="), url: baseUrl }]);
  return { context, page: await context.newPage() };
}

interface PageFigure {
  label: string;
  scripts: number;
  transfer: number;
  decoded: number;
  threeDScripts: number;
  threeDTransfer: number;
  threeDDecoded: number;
  avatarLoaded: string | null;
}

const SCRIPTS_LOADED = `performance.getEntriesByType("resource")
  .filter((e) => new URL(e.name).pathname.endsWith(".js"))
  .map((e) => ({ pathname: new URL(e.name).pathname, transfer: e.encodedBodySize, decoded: e.decodedBodySize }))`;

/** A fresh browser context (empty cache) opens `pathname`; every script loaded until the network is idle. */
async function pageFirstLoad(options: { browser: Browser; baseUrl: string; cookie: string; appDir: string; label: string; pathname: string; avatar: boolean; problems: string[] }): Promise<PageFigure> {
  const { context, page } = await newPage(options.browser, options.baseUrl, options.cookie);
  try {
    const response = await page.goto(`${options.baseUrl}${options.pathname}`, { waitUntil: "networkidle" });
    if (!response?.ok()) options.problems.push(`${options.label}: HTTP ${response?.status()}`);
    let avatarLoaded: string | null = null;
    if (options.avatar) {
      const canvas = page.locator('[data-testid="avatar-canvas"][data-loaded]');
      try {
        await canvas.waitFor({ timeout: 30_000 });
        avatarLoaded = await canvas.getAttribute("data-loaded");
        await page.waitForLoadState("networkidle");
      } catch {
        options.problems.push(`${options.label}: the avatar never loaded`);
      }
    }
    const scripts = (await page.evaluate(SCRIPTS_LOADED)) as { pathname: string; transfer: number; decoded: number }[];
    const figure: PageFigure = { label: options.label, scripts: 0, transfer: 0, decoded: 0, threeDScripts: 0, threeDTransfer: 0, threeDDecoded: 0, avatarLoaded };
    for (const script of new Map(scripts.map((s) => [s.pathname, s])).values()) {
      figure.scripts += 1;
      figure.transfer += script.transfer;
      figure.decoded += script.decoded;
      if (script.pathname.startsWith("/_next/") && isThreeD(options.appDir, script.pathname.slice("/_next/".length))) {
        figure.threeDScripts += 1;
        figure.threeDTransfer += script.transfer;
        figure.threeDDecoded += script.decoded;
      }
    }
    return figure;
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Speech start → mouth opening

/** Every clip's `playing` time, for elements in the document or not (the player's are not). */
const RECORD_PLAYS = `(() => {
  window.__plays = [];
  const seen = new WeakSet();
  const watch = (element) => {
    if (seen.has(element)) return;
    seen.add(element);
    // Once per clip: a clip that stalls and resumes fires "playing" again.
    element.addEventListener("playing", () => {
      window.__playing = element;
      window.__plays.push(performance.now());
    }, { once: true });
  };
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () { watch(this); return play.apply(this, arguments); };
  document.addEventListener("play", (event) => { if (event.target instanceof HTMLMediaElement) watch(event.target); }, { capture: true });
})()`;

/** Every time `data-mouth` crosses between 0 and above 0. */
const RECORD_MOUTH = `(() => {
  const canvas = document.querySelector('[data-testid="avatar-canvas"]');
  window.__mouth = [];
  let open = Number(canvas.dataset.mouth ?? 0) > 0;
  new MutationObserver(() => {
    const now = Number(canvas.dataset.mouth ?? 0) > 0;
    if (now !== open) window.__mouth.push({ at: performance.now(), open: now, clipTime: window.__playing ? window.__playing.currentTime * 1000 : null });
    open = now;
  }).observe(canvas, { attributes: true, attributeFilter: ["data-mouth"] });
})()`;

interface MouthFigures {
  latencies: number[];
  /** The playing clip's currentTime when the mouth opened (ms into the clip). */
  clipTimes: number[];
  clips: number;
  alreadyOpen: number;
  neverOpened: number;
}

async function speechToMouth(options: { browser: Browser; baseUrl: string; cookie: string; client: AppClient; characterId: string; problems: string[] }): Promise<MouthFigures> {
  const { context, page } = await newPage(options.browser, options.baseUrl, options.cookie);
  try {
    await page.addInitScript(RECORD_PLAYS);
    const session = await options.client.sessions.create.mutate({ characterId: options.characterId, settings: { ttsMode: "realtime", sovitsStreamingMode: 0 } });
    await options.client.sessions.rename.mutate({ id: session.id, title: "bench" });
    await page.goto(`${options.baseUrl}/chat/${session.id}`);
    await page.locator('[data-testid="avatar-canvas"][data-loaded="vrm"]').waitFor({ timeout: 30_000 });
    await page.evaluate(RECORD_MOUTH);
    const expected = SPEECH_REPLIES * SENTENCES.length;
    for (let i = 0; i < SPEECH_REPLIES; i += 1) {
      const composer = page.getByTestId("composer");
      await composer.fill(`Hello, how are you? (${i + 1})`);
      await composer.press("Enter");
      await page.getByTestId("typing").waitFor({ state: "detached", timeout: 60_000 });
      // The reply's clips play one after another: wait until its last one has started and spoken a little.
      const deadline = Date.now() + 60_000;
      while (((await page.evaluate("window.__plays.length")) as number) < (i + 1) * SENTENCES.length && Date.now() < deadline) await sleep(200);
      await sleep(800);
    }
    const plays = (await page.evaluate("window.__plays")) as number[];
    const mouth = (await page.evaluate("window.__mouth")) as { at: number; open: boolean; clipTime: number | null }[];
    if (plays.length < expected) options.problems.push(`speech: ${plays.length} of ${expected} clips played`);
    const figures: MouthFigures = { latencies: [], clipTimes: [], clips: plays.length, alreadyOpen: 0, neverOpened: 0 };
    for (const playAt of plays) {
      const before = mouth.filter((m) => m.at < playAt).at(-1);
      if (before?.open) {
        figures.alreadyOpen += 1;
        continue;
      }
      const opened = mouth.find((m) => m.open && m.at >= playAt);
      if (!opened) {
        figures.neverOpened += 1;
        continue;
      }
      figures.latencies.push(opened.at - playAt);
      if (opened.clipTime !== null) figures.clipTimes.push(opened.clipTime);
    }
    if (figures.neverOpened > 0) options.problems.push(`speech: the mouth never opened for ${figures.neverOpened} clip(s)`);
    return figures;
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Memory while a generation runs

interface MemoryFigures {
  idleKb: number;
  peakKb: number;
  afterKb: number;
  jobMs: number;
  status: string;
}

async function memoryDuringGeneration(options: { client: AppClient; characterId: string; pid: number; problems: string[] }): Promise<MemoryFigures> {
  const image = (await portraitPng(512)).toString("base64");
  // Settled: several samples a little apart, the last one taken.
  let idleKb = 0;
  for (let i = 0; i < 5; i += 1) {
    idleKb = memoryOf(options.pid).rssKb;
    await sleep(200);
  }
  const probe = new ProcessProbe(options.pid);
  const started = performance.now();
  const status = await probe.during(async () => {
    const { jobId } = await options.client.avatars.generate.mutate({ characterId: options.characterId, imageBase64: image });
    const deadline = Date.now() + JOB_MS + 60_000;
    for (;;) {
      const view = await options.client.avatars.get.query({ jobId });
      if (view.status !== "queued" && view.status !== "running") return view.status;
      if (Date.now() > deadline) return `${view.status} (gave up waiting)`;
      await sleep(100);
    }
  });
  const jobMs = performance.now() - started;
  if (status !== "completed") options.problems.push(`generation: the job ended "${status}"`);
  await sleep(1_000);
  return { idleKb, peakKb: probe.peakKb, afterKb: memoryOf(options.pid).rssKb, jobMs, status };
}

// ---------------------------------------------------------------------------------------------
// 4. Hostile models: the server's event loop and health while they are uploaded

interface LoopFigure {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

interface HostilePhase {
  loop: LoopFigure;
  health: number[];
}

interface HostileFigures {
  idle: HostilePhase;
  during: HostilePhase;
  uploads: Array<{ name: string; bytes: number; ms: number[]; refusedAs: string[]; expected: string }>;
  ms: number;
}

async function probe(port: number, action: "start" | "stop"): Promise<LoopFigure> {
  const response = await fetch(`http://127.0.0.1:${port}/${action}`, { method: "POST" });
  if (!response.ok) throw new Error(`event-loop probe /${action}: HTTP ${response.status}`);
  return (await response.json()) as LoopFigure;
}

/** /api/health, one request at a time (a pause of 20 ms between), until `done()`; each latency. */
async function pollHealth(baseUrl: string, done: () => boolean, problems: string[]): Promise<number[]> {
  const latencies: number[] = [];
  while (!done()) {
    const started = performance.now();
    const response = await fetch(`${baseUrl}/api/health`);
    await response.arrayBuffer();
    latencies.push(performance.now() - started);
    if (!response.ok) problems.push(`health answered ${response.status}`);
    await sleep(20);
  }
  return latencies;
}

async function hostileUploads(options: { client: AppClient; characterId: string; baseUrl: string; probePort: number; problems: string[] }): Promise<HostileFigures> {
  const models = await hostileModels();
  const encoded = models.map((model) => ({ ...model, base64: Buffer.from(model.bytes).toString("base64") }));
  // Warm-up: the worker thread's first start, and the route's first call.
  await options.client.avatars.upload.mutate({ characterId: options.characterId, dataBase64: Buffer.from(await buildVrm1()).toString("base64") });

  await probe(options.probePort, "start");
  const idleUntil = performance.now() + IDLE_MS;
  const idleHealth = await pollHealth(options.baseUrl, () => performance.now() > idleUntil, options.problems);
  const idle = { loop: await probe(options.probePort, "stop"), health: idleHealth };

  const uploads = encoded.map((model) => ({ name: model.name, bytes: model.bytes.length, ms: [] as number[], refusedAs: [] as string[], expected: model.reason }));
  let finished = false;
  const started = performance.now();
  await probe(options.probePort, "start");
  const health = pollHealth(options.baseUrl, () => finished, options.problems);
  await Promise.all(
    Array.from({ length: HOSTILE_CLIENTS }, async (_, client) => {
      for (let round = 0; round < HOSTILE_ROUNDS; round += 1) {
        // The two clients go through the list in opposite orders, so different files overlap.
        const order = client % 2 === 0 ? encoded.map((_, i) => i) : encoded.map((_, i) => encoded.length - 1 - i);
        for (const index of order) {
          const model = encoded[index]!;
          const at = performance.now();
          let reason = "accepted";
          try {
            await options.client.avatars.upload.mutate({ characterId: options.characterId, dataBase64: model.base64 });
          } catch (error) {
            const data = (error as { data?: { appParams?: { reason?: unknown }; httpStatus?: number; appCode?: unknown } }).data;
            reason = typeof data?.appParams?.reason === "string" ? data.appParams.reason : `HTTP ${data?.httpStatus ?? "?"} ${String(data?.appCode ?? "")}`;
          }
          uploads[index]!.ms.push(performance.now() - at);
          uploads[index]!.refusedAs.push(reason);
          if (reason !== model.reason) options.problems.push(`${model.name}: ${reason}, not ${model.reason}`);
        }
      }
    }),
  );
  finished = true;
  const duringHealth = await health;
  const during = { loop: await probe(options.probePort, "stop"), health: duringHealth };
  return { idle, during, uploads, ms: performance.now() - started };
}

// ---------------------------------------------------------------------------------------------
// 5. Simplifying a heavy generated mesh

interface SimplifyFigure {
  limit: number;
  before: number;
  after: number;
  bytesBefore: number;
  bytesAfter: number;
  runs: number[];
}

async function simplifyHeavyMesh(problems: string[]): Promise<SimplifyFigure[]> {
  const glb = await buildTexturedGeneratorGlb({ triangles: SIMPLIFY_TRIANGLES, textureSize: 1024 });
  const figures: SimplifyFigure[] = [];
  // The first call starts the bench's own worker thread: not counted.
  await fitGeneratedModel(await buildTexturedGeneratorGlb({ triangles: 4_000 }));
  for (const limit of [500_000, 100_000]) {
    const figure: SimplifyFigure = { limit, before: SIMPLIFY_TRIANGLES, after: 0, bytesBefore: glb.length, bytesAfter: 0, runs: [] };
    for (let run = 0; run < 3; run += 1) {
      const started = performance.now();
      const fitted = await fitGeneratedModel(glb, { maxTriangles: limit });
      figure.runs.push(performance.now() - started);
      figure.after = fitted.model.triangles;
      figure.bytesAfter = fitted.bytes.length;
      if (!fitted.reduction || fitted.model.triangles > limit) problems.push(`simplify to ${limit}: ${fitted.model.triangles} triangles`);
    }
    figures.push(figure);
  }
  return figures;
}

// ---------------------------------------------------------------------------------------------
// Report

function printBuild(current: BuildFigure[], baseline: BuildFigure[] | null) {
  console.log(`\n1a. First-load JS from the build output (root main files + the route's entry chunks, .next/server/app/<route>/page_client-reference-manifest.js)\n`);
  const rows = current.map((figure) => {
    const base = baseline?.find((b) => b.route === figure.route);
    return [
      figure.route,
      "",
      String(figure.files),
      kb(figure.raw),
      kb(figure.gzip),
      String(figure.threeD),
      ...(baseline ? [base ? kb(base.gzip) : "n/a", base ? pct(figure.gzip / base.gzip - 1) : "n/a"] : []),
    ];
  });
  console.log(table(["route", "", "files", "raw", "gzip", "3D chunks", ...(baseline ? ["baseline gzip", "change"] : [])], rows));
}

function printPages(current: PageFigure[], baseline: PageFigure[] | null) {
  console.log(`\n1b. First-load JS in Chromium (every script a fresh page loads until the network is idle; transfer = body bytes on the wire)\n`);
  if (current.every((figure) => figure.transfer === figure.decoded)) {
    console.log("   the app sends them uncompressed (next.config compress: false — a proxy or CDN compresses): see 1a's gzip column for the compressed size\n");
  }
  const rows = current.map((figure) => {
    const base = baseline?.find((b) => b.label === figure.label);
    return [
      figure.label,
      "",
      String(figure.scripts),
      kb(figure.transfer),
      kb(figure.decoded),
      figure.threeDScripts === 0 ? "none" : `${figure.threeDScripts}: ${kb(figure.threeDTransfer)} / ${kb(figure.threeDDecoded)}`,
      ...(baseline ? (base ? [kb(base.transfer), pct(figure.transfer / base.transfer - 1), pct(figure.decoded / base.decoded - 1)] : ["—", "", ""]) : []),
    ];
  });
  console.log(
    table(["page", "", "scripts", "transfer", "decoded", "3D scripts (transfer / decoded)", ...(baseline ? ["baseline transfer", "Δ transfer", "Δ decoded"] : [])], rows),
  );
  const without = current.filter((figure) => figure.label.includes("without"));
  const clean = without.every((figure) => figure.threeDScripts === 0);
  console.log(`\n   pages without an avatar ship no 3D code: ${clean ? "yes — none of them loaded a three.js / three-vrm chunk" : `NO — ${without.filter((f) => f.threeDScripts > 0).map((f) => f.label).join(", ")}`} → ${verdict(clean)}`);
  const withAvatar = current.filter((figure) => !figure.label.includes("without"));
  console.log(`   pages with an avatar load it: ${withAvatar.map((f) => `${f.label} → ${f.threeDScripts} 3D script(s), model ${f.avatarLoaded ?? "not loaded"}`).join("; ")}`);
  if (baseline) {
    const worst = Math.max(...without.map((figure) => {
      const base = baseline.find((b) => b.label === figure.label);
      return base ? figure.transfer / base.transfer - 1 : Number.NaN;
    }));
    console.log(`   largest change against the baseline, pages without an avatar (transfer): ${pct(worst)} (target ≤ ${pct(TARGETS.firstLoadGrowth)}) → ${verdict(worst <= TARGETS.firstLoadGrowth)}`);
  }
}

function printViewer(chunks: ReturnType<typeof threeDChunks>) {
  console.log(`\n1c. The viewer's 3D chunk(s) in the build (loaded only with an avatar, by next/dynamic)\n`);
  console.log(table(["chunk", "holds", "raw", "gzip"], chunks.map((c) => [c.name, c.holds, kb(c.raw), kb(c.gzip)])));
  const raw = chunks.reduce((a, c) => a + c.raw, 0);
  const gzip = chunks.reduce((a, c) => a + c.gzip, 0);
  console.log(`\n   in all: ${kb(raw)} raw, ${kb(gzip)} gzipped`);
}

/**
 * How far into a clip its own sound is loud enough to open the mouth at all: the first moment the
 * RMS of the analyser's window (1024 samples at 44.1 kHz, ~23 ms) ending there gives a level that
 * shows as 0.01 (components/speech/speech-level.ts: level = (rms − 0.01) × 5). The fake's tone starts
 * each syllable from silence, as speech does; this part of the delay is the audio's, not the app's.
 */
function signalOnsetMs(sentence: string): number {
  const pcm = synthesize(sentence).fragments[0]!.voice;
  const samples = pcm.length / 2;
  const window = Math.round((1024 / 44_100) * SAMPLE_RATE);
  let sum = 0;
  for (let i = 0; i < samples; i += 1) {
    const value = pcm.readInt16LE(i * 2) / 32768;
    sum += value * value;
    if (i >= window) {
      const old = pcm.readInt16LE((i - window) * 2) / 32768;
      sum -= old * old;
    }
    const rms = Math.sqrt(Math.max(0, sum) / window);
    if ((rms - 0.01) * 5 >= 0.005) return ((i + 1) / SAMPLE_RATE) * 1000;
  }
  return Number.NaN;
}

function printMouth(figures: MouthFigures) {
  const values = figures.latencies;
  const [p50, p99] = [percentile(values, 50), percentile(values, 99)];
  console.log(`\n2. Speech start → mouth opening, in Chromium (${figures.clips} clips; a clip's \`playing\` event → the first frame with data-mouth > 0)\n`);
  console.log(
    table(
      ["", "", "samples", "p50", "p99", "max"],
      [
        ["ms", "", String(values.length), ms(p50), ms(p99), ms(Math.max(...values))],
        ["frames (16.7 ms)", "", String(values.length), (p50 / FRAME_MS).toFixed(2), (p99 / FRAME_MS).toFixed(2), (Math.max(...values) / FRAME_MS).toFixed(2)],
      ],
    ),
  );
  const onsets = SENTENCES.map(signalOnsetMs);
  console.log(
    `\n   broken down: the clip's own sound first reaches the opening level ${ms(Math.min(...onsets))}–${ms(Math.max(...onsets))} ms into it (its attack, computed from the fake's waveform); ` +
      `the clip's currentTime when the mouth opened: p50 ${ms(percentile(figures.clipTimes, 50))} ms, p99 ${ms(percentile(figures.clipTimes, 99))} ms`,
  );
  console.log(`   so the app's own share (opening − the signal's onset): p50 ≈ ${ms(p50 - percentile(onsets, 50))} ms = ${((p50 - percentile(onsets, 50)) / FRAME_MS).toFixed(2)} frames`);
  console.log("   data-mouth is the `aa` weight of the frame being drawn (written after the frame's expression is set)");
  if (figures.alreadyOpen > 0) console.log(`   ${figures.alreadyOpen} clip(s) began while the mouth was still open from the one before: not counted`);
  console.log(`\n   p50 ${(p50 / FRAME_MS).toFixed(2)} frames (target ≤ ${TARGETS.mouthFrames} frame) → ${verdict(p50 <= TARGETS.mouthFrames * FRAME_MS)}; p99 → ${verdict(p99 <= TARGETS.mouthFrames * FRAME_MS)}`);
}

function printMemory(figures: MemoryFigures) {
  console.log(`\n3. The server's memory while a generation runs (fake Hunyuan3D-2, one job of ${JOB_MS / 1000} s from a 512 px portrait)\n`);
  console.log(
    table(
      ["", "", "RSS"],
      [
        ["idle, before", "", mb(figures.idleKb)],
        ["peak, during the job (every 20 ms)", "", mb(figures.peakKb)],
        ["after", "", mb(figures.afterKb)],
        ["peak − idle", "", mb(figures.peakKb - figures.idleKb)],
      ],
    ),
  );
  console.log(`\n   the job: ${figures.status} in ${(figures.jobMs / 1000).toFixed(1)} s (queued → completed, polled with avatars.get)`);
}

function printHostile(figures: HostileFigures) {
  const uploads = figures.uploads.reduce((n, u) => n + u.ms.length, 0);
  console.log(
    `\n4. Hostile models: ${uploads} uploads (${figures.uploads.length} files × ${HOSTILE_ROUNDS} rounds × ${HOSTILE_CLIENTS} clients at once, ${(figures.ms / 1000).toFixed(1)} s) — ` +
      `the server's event-loop delay (monitorEventLoopDelay in the server process, sampled every 1 ms: idle reads ~1 ms) and /api/health (one request at a time)\n`,
  );
  const row = (label: string, phase: HostilePhase) => [
    label,
    "",
    ms(phase.loop.p50),
    ms(phase.loop.p99),
    ms(phase.loop.max),
    String(phase.health.length),
    ms(percentile(phase.health, 50)),
    ms(percentile(phase.health, 99)),
    ms(Math.max(...phase.health)),
  ];
  console.log(
    table(
      ["", "", "loop p50", "loop p99", "loop max", "health calls", "health p50", "health p99", "health max"],
      [row(`idle (${IDLE_MS / 1000} s)`, figures.idle), row("during the hostile uploads", figures.during)],
    ),
  );
  console.log("");
  console.log(
    table(
      ["file", "", "size", "refused as", "upload p50 ms", "upload max ms"],
      figures.uploads.map((u) => {
        const reasons = [...new Set(u.refusedAs)];
        return [u.name, "", `${(u.bytes / 1024 / 1024).toFixed(1)} MB`, reasons.join(", ") + (reasons.length === 1 && reasons[0] === u.expected ? " ✓" : ` (expected ${u.expected})`), ms(percentile(u.ms, 50)), ms(Math.max(...u.ms))];
      }),
    ),
  );
  const p99 = figures.during.loop.p99;
  console.log(`\n   event-loop delay p99 during the uploads: ${ms(p99)} ms (target < ${TARGETS.eventLoopP99Ms} ms) → ${verdict(p99 < TARGETS.eventLoopP99Ms)}`);
}

function printSimplify(figures: SimplifyFigure[]) {
  console.log(`\n5. Simplifying a ${SIMPLIFY_TRIANGLES.toLocaleString("en")}-triangle textured mesh (fitGeneratedModel on its worker thread: validate, weld + simplify + prune + dedup, validate; 3 runs each)\n`);
  console.log(
    table(
      ["limit", "", "triangles", "file", "time p50", "runs"],
      figures.map((f) => [
        f.limit.toLocaleString("en"),
        "",
        `${f.before.toLocaleString("en")} → ${f.after.toLocaleString("en")}`,
        `${(f.bytesBefore / 1024 / 1024).toFixed(1)} → ${(f.bytesAfter / 1024 / 1024).toFixed(1)} MB`,
        `${ms(percentile(f.runs, 50))} ms`,
        f.runs.map((r) => r.toFixed(0)).join(", "),
      ]),
    ),
  );
}

// ---------------------------------------------------------------------------------------------

async function presetVoiceId(database: Db) {
  const rows = await database.db
    .select({ voiceId: characters.voiceId })
    .from(characters)
    .innerJoin(voices, eq(voices.id, characters.voiceId))
    .where(isNull(characters.ownerId))
    .orderBy(asc(characters.id));
  const voiceId = rows[0]?.voiceId;
  if (!voiceId) throw new Error("no preset character with a voice was seeded");
  return voiceId;
}

function buildOf(appDir: string) {
  const file = path.join(appDir, ".next/BUILD_ID");
  if (!existsSync(file)) throw new Error(`${appDir} has no production build (.next/BUILD_ID)`);
  return `${readFileSync(file, "utf8").trim()} of ${statSync(file).mtime.toISOString()}`;
}

async function main() {
  const started = performance.now();
  ensureBuild();
  const baselineDir = process.env.AF_BENCH_BASELINE_DIR ? path.resolve(process.env.AF_BENCH_BASELINE_DIR) : null;
  if (baselineDir) log(`baseline: ${baselineDir}, build ${buildOf(baselineDir)}`);
  const problems: string[] = [];

  const tempDir = await mkdtemp(path.join(os.tmpdir(), "af-bench-"));
  // Postgres runs as its own user when we are root: it must be able to enter the directory.
  await chmod(tempDir, 0o755);
  onCleanup("temp dir", () => rm(tempDir, { recursive: true, force: true }));
  const ollama = await startFake({ reply: SENTENCES.join(" "), args: ["--delay", "10"] });
  const tts = await startFake({ reply: "", script: "sovits", args: ["--latency", "50", "--per-audio-second", "20"] });
  const hunyuan = await startFake({ reply: "", script: "hunyuan3d", args: ["--job-ms", String(JOB_MS)] });
  log("starting Postgres and the app (next start)");
  const database = await startDatabase(tempDir);
  const appEnv = { SOVITS_URL: tts.url, AVATAR3D_URL: hunyuan.url, AVATAR3D_PROTOCOL: "hunyuan3d" };
  const probePort = await freePort();
  const { app, port, baseUrl, output } = await startApp({
    databaseUrl: database.url,
    ollamaUrl: ollama.url,
    tempDir,
    // The hostile uploads are many: the upload budget out of the way (the largest values lib/env.mjs accepts).
    env: { ...appEnv, AF_EVENT_LOOP_PROBE_PORT: String(probePort), UPLOADS_PER_HOUR: "100000", UPLOADS_GLOBAL_PER_HOUR: "1000000" },
    nodeArgs: ["--import", path.join(ROOT, "e2e/bench/event-loop-probe.mjs")],
  });
  log(`app on ${baseUrl}; fake Ollama ${ollama.url}; fake GPT-SoVITS ${tts.url}; fake Hunyuan3D-2 ${hunyuan.url} (${JOB_MS} ms per job)`);

  const user = await createUser(database);
  const cookie = (await signedInCookie(database.db, user, { secret: AUTH_SECRET })).cookie;
  const client = createAppClient(baseUrl, cookie);
  const voiceId = await presetVoiceId(database);
  const plain = await client.characters.create.mutate({ name: "벤치 없음", greeting: "안녕!", voiceId });
  const avatared = await client.characters.create.mutate({ name: "벤치 아바타", greeting: "안녕!", voiceId });
  await client.avatars.upload.mutate({ characterId: avatared.id, dataBase64: Buffer.from(await buildVrm1()).toString("base64") });
  const plainChat = await client.sessions.create.mutate({ characterId: plain.id });
  const avatarChat = await client.sessions.create.mutate({ characterId: avatared.id });

  const routes = ["/", "/chat/[sessionId]", "/characters/[id]"];
  const buildCurrent = routes.map((route) => buildFirstLoad(ROOT, route)).filter((f): f is BuildFigure => f !== null);
  const buildBaseline = baselineDir ? routes.map((route) => buildFirstLoad(baselineDir, route)).filter((f): f is BuildFigure => f !== null) : null;

  const browser = PARTS.has("js") || PARTS.has("mouth") ? await launch() : null;
  const pages = [
    { label: "gallery / (without an avatar)", pathname: "/", avatar: false },
    { label: "chat (without an avatar)", pathname: `/chat/${plainChat.id}`, avatar: false },
    { label: "character page (without an avatar)", pathname: `/characters/${plain.id}`, avatar: false },
    { label: "chat with an avatar", pathname: `/chat/${avatarChat.id}`, avatar: true },
    { label: "character page with an avatar", pathname: `/characters/${avatared.id}`, avatar: true },
  ];
  const pagesCurrent: PageFigure[] = [];
  if (browser && PARTS.has("js")) {
    log("browser: first-load JS of each page (a warm-up visit first, so the server's first render is not in it)");
    for (const p of pages) await pageFirstLoad({ browser, baseUrl, cookie, appDir: ROOT, ...p, problems: [] });
    for (const p of pages) pagesCurrent.push(await pageFirstLoad({ browser, baseUrl, cookie, appDir: ROOT, ...p, problems }));
  }

  let mouth: MouthFigures | null = null;
  if (browser && PARTS.has("mouth")) {
    log("browser: speech start → mouth opening");
    mouth = await speechToMouth({ browser, baseUrl, cookie, client, characterId: avatared.id, problems });
  }

  let memory: MemoryFigures | null = null;
  if (PARTS.has("memory")) {
    log("memory while a generation runs");
    memory = await memoryDuringGeneration({ client, characterId: plain.id, pid: serverPid(app.pid!, port), problems });
  }

  let hostile: HostileFigures | null = null;
  if (PARTS.has("hostile")) {
    log("hostile models: event-loop delay and health, idle and while they are uploaded");
    const target = await client.characters.create.mutate({ name: "벤치 방어", greeting: "안녕!" });
    hostile = await hostileUploads({ client, characterId: target.id, baseUrl, probePort, problems });
  }

  let simplified: SimplifyFigure[] | null = null;
  if (PARTS.has("simplify")) {
    log(`simplifying a ${SIMPLIFY_TRIANGLES}-triangle mesh`);
    simplified = await simplifyHeavyMesh(problems);
  }
  const complaints = output.matching(/\[trpc\]|\[chat\]|\[speech\]|\[avatar|error|warn/i);
  await stopApp(app);

  let pagesBaseline: PageFigure[] | null = null;
  if (baselineDir && browser && PARTS.has("js")) {
    log("baseline: the same pages without an avatar, on the baseline build (same database)");
    const baseline = await startApp({ databaseUrl: database.url, ollamaUrl: ollama.url, tempDir, env: appEnv, appDir: baselineDir });
    const withoutAvatar = pages
      .filter((p) => !p.avatar)
      .map((p) => ({ ...p, pathname: p.pathname }));
    for (const p of withoutAvatar) await pageFirstLoad({ browser, baseUrl: baseline.baseUrl, cookie, appDir: baselineDir, ...p, problems: [] });
    pagesBaseline = [];
    for (const p of withoutAvatar) pagesBaseline.push(await pageFirstLoad({ browser, baseUrl: baseline.baseUrl, cookie, appDir: baselineDir, ...p, problems }));
    await stopApp(baseline.app);
  }

  const elapsed = (performance.now() - started) / 1000;
  console.log(`\nAvatar benchmark — production build ${buildOf(ROOT)}${baselineDir ? `; baseline ${baselineDir} (build ${buildOf(baselineDir)})` : ""}. Ran ${elapsed.toFixed(0)} s.`);
  if (PARTS.has("js")) {
    printBuild(buildCurrent, buildBaseline);
    printPages(pagesCurrent, pagesBaseline);
    printViewer(threeDChunks(ROOT));
  }
  if (mouth) printMouth(mouth);
  if (memory) printMemory(memory);
  if (hostile) printHostile(hostile);
  if (simplified) printSimplify(simplified);

  console.log(`\n6. What went wrong: ${problems.length === 0 ? "nothing seen" : `${problems.length} problem(s)`}`);
  for (const problem of problems.slice(0, 30)) console.log(`  ✖ ${problem}`);
  console.log(`\nApp log: ${complaints.length} warning/error line(s)${complaints.length ? ":" : "."}`);
  for (const line of complaints.slice(0, 15)) console.log(`  ${line}`);
}

await run(main);
