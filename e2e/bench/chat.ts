// Chat benchmark: what the app adds on top of Ollama when it relays a reply, how the history page
// scales with the size of a chat, and how much memory the server needs for 50 replies at once.
//
//   npm run bench:chat
//
// Everything runs locally, each part in its own process as in production: the fake Ollama, an
// embedded Postgres in a temp dir, the production build (`next start`), and this process as the
// clients. Figures are printed as ratios measured
// in the same run on the same machine, never as absolute pass/fail timings; the targets are
// informative, and the script exits non-zero only when the run itself broke.
import { randomUUID } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Ollama } from "ollama";
import { signedInCookie } from "../support/session-cookie";

import {
  type AppClient,
  AUTH_SECRET,
  cpuTicksOf,
  createAppClient,
  createUser,
  type Db,
  ensureBuild,
  type FakeServer as FakeOllama,
  log,
  mb,
  memoryOf,
  ms,
  onCleanup,
  percentile,
  presetCharacterId,
  ProcessProbe,
  ratio,
  resetPeak,
  run,
  serverPid,
  startApp,
  startDatabase,
  startFake,
  table,
  TICKS_PER_SECOND,
  verdict,
} from "./harness";
import { and, desc, eq } from "drizzle-orm";
import { enterToPaint, type PaintSample } from "./browser";
import type { ReplyStats } from "@/server/chat/live-reply";
import { messages } from "@/server/db/schema";

const MODEL = "qwen2.5:7b";

/** Fixed upstream pacing, so the direct and the relayed path see exactly the same token stream. */
const TOKEN_DELAY_MS = 20;
/** 125 word-sized tokens (the fake splits on whitespace), a role-play reply of a few sentences: 2.5 s of streaming. */
const REPLY = Array.from({ length: 25 }, () => "*고개를 끄덕이며* 그렇군요, 정말 흥미로운").join(" ");
/** Split the way the fake splits replies into tokens. */
const REPLY_TOKENS = REPLY.match(/\s*\S+|\s+/g)?.length ?? 0;
const REPLY_MS = REPLY_TOKENS * TOKEN_DELAY_MS;
const USER_TEXT = "오늘 하루는 어땠어? 재미있는 이야기 좀 들려줘.";

const MANY = 50;
/** Replies typed in Chromium for the browser figure. */
const PAINT_SAMPLES = 15;

interface Load {
  label: string;
  streams: number;
  /** Stream i starts i × spreadMs / streams after the round begins; 0 = all at once. */
  spreadMs: number;
  warmupRounds: number;
  /** Measured rounds per path (direct and app alternate). */
  rounds: number;
}

/**
 * 50 streams two ways: all sent in the same instant (the worst case, every request queues at
 * once), and spread over one reply's length, so that about 50 are in flight when the last starts.
 */
const LOADS: readonly Load[] = [
  { label: "1", streams: 1, spreadMs: 0, warmupRounds: 3, rounds: 30 },
  { label: `${MANY} at once`, streams: MANY, spreadMs: 0, warmupRounds: 1, rounds: 4 },
  { label: `${MANY} spread`, streams: MANY, spreadMs: REPLY_MS, warmupRounds: 0, rounds: 3 },
];
const STREAM_TIMEOUT_MS = 60_000;

const HISTORY_SIZES = [1_000, 10_000, 100_000] as const;
const HISTORY_PAGE = 50;
const HISTORY_WARMUP = 5;
const HISTORY_SAMPLES = 30;

const TARGETS = { historyRatio: 1.5 };

// ---------------------------------------------------------------------------------------------
// 1. Relay overhead

interface StreamSample {
  /** From the request to the first piece of text. */
  ttftMs: number;
  /** Between consecutive pieces of text (one per delta through the app, one per chunk direct). */
  gapsMs: number[];
  /** Pieces of text received. */
  events: number;
  /** Tokens Ollama sent. */
  tokens: number;
  /** Through the app only: where the time to first token went. */
  breakdown?: TtftBreakdown;
  /** Through the app only: the reply first folded older turns into the chat's summary (an LLM call). */
  summarized?: boolean;
}

interface TtftBreakdown {
  /** `chat.send` round trip, as the client sees it. */
  sendMs: number;
  /** The server's own figure: reply started → first token from Ollama (prompt building included). */
  serverFirstTokenMs: number;
  /** `chat.send` answered (its head) → first delta in its stream. */
  subscribeToFirstDeltaMs: number;
}

function sampleFrom(start: number, arrivals: number[], tokens: number): StreamSample {
  if (arrivals.length === 0) throw new Error("a stream ended without any text");
  return {
    ttftMs: arrivals[0]! - start,
    gapsMs: arrivals.slice(1).map((at, i) => at - arrivals[i]!),
    events: arrivals.length,
    tokens,
  };
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${STREAM_TIMEOUT_MS} ms`)), STREAM_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One reply straight from Ollama with the official client: the baseline. */
async function directStream(ollama: Ollama): Promise<StreamSample> {
  const start = performance.now();
  const stream = await ollama.chat({
    model: MODEL,
    stream: true,
    messages: [
      { role: "system", content: "You are a friendly character." },
      { role: "user", content: USER_TEXT },
    ],
  });
  const arrivals: number[] = [];
  let tokens = 0;
  for await (const chunk of stream) {
    if (chunk.message.content) arrivals.push(performance.now());
    if (chunk.done) tokens = chunk.eval_count;
  }
  return sampleFrom(start, arrivals, tokens);
}

/**
 * One reply through the app, as the browser gets it: `chat.send` over the batch link, whose
 * response carries the reply's events as they are written. Text that arrives while the reader is
 * behind comes as one delta.
 */
async function appStream(client: AppClient, sessionId: string): Promise<StreamSample> {
  const start = performance.now();
  const { events } = await client.chat.send.mutate({ sessionId, clientId: randomUUID(), text: USER_TEXT });
  const sent = performance.now();
  const arrivals: number[] = [];
  let stats: ReplyStats | null = null;
  let summarized = false;
  for await (const { event } of events) {
    if (event.type === "delta") arrivals.push(performance.now());
    else if (event.type === "notice") summarized = true;
    else if (event.type === "done") {
      if (event.status !== "complete") throw new Error(`the reply ended ${event.status}`);
      stats = event.stats;
    } else if (event.type === "error") throw new Error(`the reply failed: ${event.code} ${event.message}`);
  }
  if (!stats) throw new Error("the reply's stream ended without its final event");
  const sample = sampleFrom(start, arrivals, stats.completionTokens ?? Number.NaN);
  sample.summarized = summarized;
  sample.breakdown = {
    sendMs: sent - start,
    serverFirstTokenMs: stats.timeToFirstTokenMs ?? Number.NaN,
    subscribeToFirstDeltaMs: arrivals[0]! - sent,
  };
  return sample;
}

/** Background work at the fake (the app naming a chat after its first reply) must not overlap a round. */
async function waitForUpstreamIdle(fake: FakeOllama) {
  const deadline = Date.now() + 30_000;
  while ((await fake.activeStreams()) > 0 && Date.now() < deadline) await sleep(20);
  await sleep(50);
}

type Path = "direct" | "app";

interface RelayResult {
  samples: Record<Path, StreamSample[]>;
}

/**
 * `rounds` rounds of `streams` replies (started together, or spread over `spreadMs`),
 * alternating direct and app rounds so that drift on the machine hits both paths alike.
 */
async function relayRounds(options: {
  fake: FakeOllama;
  ollama: Ollama;
  client: AppClient;
  sessionIds: readonly string[];
  streams: number;
  spreadMs: number;
  rounds: number;
  /** Wraps each app round (to watch the server while only the app path runs). */
  probe?: ProcessProbe;
}): Promise<RelayResult> {
  const samples: Record<Path, StreamSample[]> = { direct: [], app: [] };
  const round = (run: (i: number) => Promise<StreamSample>) =>
    Promise.all(
      Array.from({ length: options.streams }, async (_, i) => {
        if (options.spreadMs > 0) await sleep((i * options.spreadMs) / options.streams);
        return withTimeout(run(i), "a reply");
      }),
    );
  for (let r = 0; r < options.rounds; r += 1) {
    await waitForUpstreamIdle(options.fake);
    samples.direct.push(...(await round(() => directStream(options.ollama))));
    await waitForUpstreamIdle(options.fake);
    // One chat per stream: the app writes one reply at a time per chat.
    const appRound = () => round((i) => appStream(options.client, options.sessionIds[i]!));
    samples.app.push(...(await (options.probe ? options.probe.during(appRound) : appRound())));
  }
  return { samples };
}

interface PathFigures {
  summarized: number;
  ttft: number[];
  gaps: number[];
  events: number;
  tokens: number;
  breakdowns: TtftBreakdown[];
}

function figures(samples: readonly StreamSample[]): PathFigures {
  return {
    summarized: samples.filter((s) => s.summarized).length,
    ttft: samples.map((s) => s.ttftMs),
    gaps: samples.flatMap((s) => s.gapsMs),
    events: samples.reduce((n, s) => n + s.events, 0),
    tokens: samples.reduce((n, s) => n + s.tokens, 0),
    breakdowns: samples.flatMap((s) => (s.breakdown ? [s.breakdown] : [])),
  };
}

interface ServerFigures {
  idleKb: number;
  peakKb: number;
  sampledPeakKb: number;
  hwmReset: boolean;
  appCpuPercent: number;
  machineBusyPercent: number;
}

interface RelayFigures {
  load: Load;
  direct: PathFigures;
  app: PathFigures;
}

async function benchRelay(context: { fake: FakeOllama; client: AppClient; sessionIds: readonly string[]; serverPid: number }) {
  const ollama = new Ollama({ host: context.fake.url });
  const results: RelayFigures[] = [];
  // The server is watched during the app rounds of every 50-stream load.
  let probe: ProcessProbe | undefined;
  let idle = { kb: Number.NaN, hwmReset: false };
  for (const load of LOADS) {
    const common = { fake: context.fake, ollama, client: context.client, sessionIds: context.sessionIds, ...load };
    log(`relay, ${load.label}: ${load.warmupRounds} warm-up and ${load.rounds} measured round(s) per path`);
    // Warm-up also sends each chat's first message, whose title request would otherwise overlap.
    await relayRounds({ ...common, rounds: load.warmupRounds });
    if (load.streams === MANY && !probe) {
      await waitForUpstreamIdle(context.fake);
      idle = { kb: memoryOf(context.serverPid).rssKb, hwmReset: resetPeak(context.serverPid) };
      probe = new ProcessProbe(context.serverPid);
    }
    const { samples } = await relayRounds({ ...common, probe: load.streams === MANY ? probe : undefined });
    results.push({ load, direct: figures(samples.direct), app: figures(samples.app) });
  }
  if (!probe) throw new Error(`no ${MANY}-stream rounds ran`);
  const server: ServerFigures = {
    idleKb: idle.kb,
    // VmHWM also covers the direct rounds in between, when the app is idle: it can only be lower.
    peakKb: idle.hwmReset ? Math.max(memoryOf(context.serverPid).hwmKb, probe.peakKb) : probe.peakKb,
    sampledPeakKb: probe.peakKb,
    hwmReset: idle.hwmReset,
    appCpuPercent: probe.appCpuPercent,
    machineBusyPercent: probe.machineBusyPercent,
  };
  return { results, server };
}

// ---------------------------------------------------------------------------------------------
// 2. History

/** Fills a chat with `count` alternating user/assistant messages in one statement. */
async function fillHistory(database: Db, sessionId: string, count: number) {
  // Dated in the past like a real long chat (and outside the per-minute rate-limit window).
  await database.sql`
    insert into messages (id, session_id, role, content, status, active, created_at)
    select gen_random_uuid()::text,
           ${sessionId},
           (case when g % 2 = 1 then 'user' else 'assistant' end)::message_role,
           case when g % 2 = 1
             then '오늘은 뭐 하고 지냈어? 날씨가 좋아서 산책하고 싶더라. #' || g
             else '*창밖을 바라보며* 저도 하루 종일 당신 생각을 했어요. 같이 공원에 가요! #' || g
           end,
           'complete',
           true,
           now() - interval '1 day' - (${count} - g) * interval '1 second'
    from generate_series(1, ${count}::int) as g`;
}

async function benchHistory(context: { database: Db; client: AppClient; characterId: string }) {
  const sessionIds = new Map<number, string>();
  for (const size of HISTORY_SIZES) {
    const session = await context.client.sessions.create.mutate({ characterId: context.characterId });
    const started = performance.now();
    await fillHistory(context.database, session.id, size);
    log(`history: ${size.toLocaleString("en")} messages inserted in ${ms(performance.now() - started)} ms`);
    sessionIds.set(size, session.id);
  }
  // Steady state: in a running system autovacuum would have analysed the table by now.
  await context.database.sql`analyze messages`;

  const timings = new Map<number, number[]>(HISTORY_SIZES.map((size) => [size, []]));
  for (let i = 0; i < HISTORY_WARMUP + HISTORY_SAMPLES; i += 1) {
    // Interleaved, so that drift on the machine hits every size alike.
    for (const size of HISTORY_SIZES) {
      const start = performance.now();
      const page = await context.client.sessions.messages.query({ sessionId: sessionIds.get(size)!, limit: HISTORY_PAGE });
      const elapsed = performance.now() - start;
      if (page.messages.length !== HISTORY_PAGE || page.nextCursor === null) {
        throw new Error(`history page of the ${size}-message chat has ${page.messages.length} messages`);
      }
      if (i >= HISTORY_WARMUP) timings.get(size)!.push(elapsed);
    }
  }
  return HISTORY_SIZES.map((size) => ({ size, timings: timings.get(size)! }));
}

// ---------------------------------------------------------------------------------------------
// 3. CPU per request: what the framework costs compared with the chat's own work

interface CpuFigure {
  label: string;
  cpuMs: number;
  wallMs: number;
}

/**
 * The app's CPU time per operation, one operation at a time on an otherwise idle app (its idle
 * CPU subtracted). On one Node thread this is what queues when many requests arrive together.
 */
async function benchCpu(context: { client: AppClient; sessionIds: readonly string[]; serverPid: number }): Promise<CpuFigure[]> {
  const idleStart = cpuTicksOf(context.serverPid);
  await sleep(2_000);
  const idleMsPerMs = ((cpuTicksOf(context.serverPid) - idleStart) * (1000 / TICKS_PER_SECOND)) / 2_000;
  const measure = async (label: string, count: number, operation: (i: number) => Promise<unknown>): Promise<CpuFigure> => {
    await operation(0); // warm
    const [ticks, start] = [cpuTicksOf(context.serverPid), performance.now()];
    for (let i = 1; i <= count; i += 1) await operation(i);
    const wallMs = performance.now() - start;
    const cpuMs = (cpuTicksOf(context.serverPid) - ticks) * (1000 / TICKS_PER_SECOND) - idleMsPerMs * wallMs;
    return { label, cpuMs: cpuMs / count, wallMs: wallMs / count };
  };
  const chat = (i: number) => context.sessionIds[i % context.sessionIds.length]!;
  return [
    await measure("sessions.get (one query: the framework's share)", 100, (i) => context.client.sessions.get.query({ id: chat(i) })),
    await measure(`chat.send + its ${REPLY_TOKENS}-token reply`, 10, (i) => appStream(context.client, chat(i))),
  ];
}

// ---------------------------------------------------------------------------------------------
// Report

function printRelay(results: readonly RelayFigures[]) {
  const rows: string[][] = [];
  for (const metric of ["TTFT", "gap"] as const) {
    for (const { load, direct, app } of results) {
      const d = metric === "TTFT" ? direct.ttft : direct.gaps;
      const a = metric === "TTFT" ? app.ttft : app.gaps;
      const [d50, a50] = [percentile(d, 50), percentile(a, 50)];
      rows.push([
        metric === "TTFT" ? "time to first token" : "gap between tokens",
        load.label,
        ms(d50),
        ms(percentile(d, 99)),
        ms(a50),
        ms(percentile(a, 99)),
        ms(a50 - d50),
        ratio(a50 / d50),
      ]);
    }
  }
  console.log(`\n1. Relay overhead — fake Ollama, ${TOKEN_DELAY_MS} ms per token, ${REPLY_TOKENS}-token replies (ms)\n`);
  console.log("   TTFT: app = calling chat.send → first delta in its streamed events; direct = calling ollama.chat → first chunk with text");
  console.log("   gap: between consecutive deltas (app) or chunks (direct) of one reply");
  console.log(`   streams "${MANY} spread": starts spread evenly over ${REPLY_MS} ms (one reply's length)\n`);
  console.log(table(["metric", "streams", "direct p50", "direct p99", "app p50", "app p99", "overhead p50", "app/direct p50"], rows));

  console.log("\nText events vs upstream tokens (the app coalesces tokens that arrive while a reader is behind):");
  for (const { load, direct, app } of results) {
    console.log(
      `  ${load.label.padEnd(12)} app ${app.events} deltas / ${app.tokens} tokens (${ratio(app.events / app.tokens)}), ` +
        `direct ${direct.events} chunks / ${direct.tokens} tokens; ${app.ttft.length} replies and ${app.gaps.length} app gaps measured` +
        (app.summarized ? `; ${app.summarized} app repl${app.summarized === 1 ? "y" : "ies"} first summarised older turns (an LLM call before the first token)` : ""),
    );
  }

  console.log("\nTime to first token through the app, broken down (p50 / p99, ms):\n");
  console.log(
    table(
      ["streams", "", "chat.send round trip", "server: reply start → 1st Ollama token", "send answered → 1st delta"],
      results.map(({ load, app }) => {
        const column = (pick: (b: TtftBreakdown) => number) => {
          const values = app.breakdowns.map(pick);
          return `${ms(percentile(values, 50))} / ${ms(percentile(values, 99))}`;
        };
        return [load.label, "", column((b) => b.sendMs), column((b) => b.serverFirstTokenMs), column((b) => b.subscribeToFirstDeltaMs)];
      }),
    ),
  );
}

function printHistory(results: readonly { size: number; timings: number[] }[]) {
  console.log(`\n2. History — first page (limit ${HISTORY_PAGE}) of sessions.messages, ${HISTORY_SAMPLES} requests after ${HISTORY_WARMUP} warm-ups (ms)\n`);
  console.log(
    table(
      ["messages in chat", "", "p50", "p99"],
      results.map(({ size, timings }) => [size.toLocaleString("en"), "", ms(percentile(timings, 50)), ms(percentile(timings, 99))]),
    ),
  );
  const smallest = percentile(results[0]!.timings, 50);
  const largest = percentile(results.at(-1)!.timings, 50);
  const scale = largest / smallest;
  console.log(`\n  p50 ${results.at(-1)!.size.toLocaleString("en")} / ${results[0]!.size.toLocaleString("en")}: ${ratio(scale)} (target ≤ ${TARGETS.historyRatio}) → ${verdict(scale <= TARGETS.historyRatio)}`);
}

function printCpu(figures: readonly CpuFigure[]) {
  console.log(`\n4. CPU per request — the app's server process, one request at a time, its idle CPU subtracted (ms)\n`);
  console.log(table(["operation", "", "app CPU", "wall"], figures.map((f) => [f.label, "", ms(f.cpuMs), ms(f.wallMs)])));
  console.log(`\n  One Node thread serves every request: ${MANY} sends arriving together queue behind each other's CPU time.`);
}

function printServer(server: ServerFigures, pid: number) {
  console.log(`\n3. Memory and CPU — the app's server process (pid ${pid})\n`);
  console.log(`  RSS at idle, before the measured ${MANY}-stream rounds: ${mb(server.idleKb)}`);
  console.log(
    `  peak RSS during ${MANY} concurrent streams:             ${mb(server.peakKb)}` +
      (server.hwmReset ? ` (VmHWM reset before the rounds; sampled every 20 ms: ${mb(server.sampledPeakKb)})` : " (sampled every 20 ms)"),
  );
  console.log(`  growth: ${mb(server.peakKb - server.idleKb)} (${ratio(server.peakKb / server.idleKb)})`);
  console.log(
    `  CPU during the app's ${MANY}-stream rounds: app ${server.appCpuPercent.toFixed(0)}% of one core; ` +
      `machine ${server.machineBusyPercent.toFixed(0)}% busy across ${os.availableParallelism()} cores (the clients, the fake and Postgres included)`,
  );
}

/** The server's first-token figure of a chat's last reply. */
async function lastReplyFirstToken(database: Db, sessionId: string) {
  const [row] = await database.db
    .select({ ms: messages.timeToFirstTokenMs })
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), eq(messages.role, "assistant")))
    .orderBy(desc(messages.seq))
    .limit(1);
  return row?.ms ?? null;
}

function printPaint(samples: readonly PaintSample[], relay: readonly RelayFigures[]) {
  const one = relay.find((r) => r.load.streams === 1)!;
  const direct = percentile(one.direct.ttft, 50);
  const paint = samples.map((s) => s.paintMs);
  const server = samples.flatMap((s) => (s.serverFirstTokenMs === null ? [] : [s.serverFirstTokenMs]));
  console.log(`\n5. What the person sees — Chromium on the production build, one user, ${samples.length} replies (ms)\n`);
  console.log("   Enter pressed → the first character of the reply painted (the end of the frame that paints it)\n");
  console.log(
    table(
      ["figure", "p50", "p99"],
      [
        ["Enter → first character painted", ms(percentile(paint, 50)), ms(percentile(paint, 99))],
        ["the server's figure (reply started → first Ollama token)", ms(percentile(server, 50)), ms(percentile(server, 99))],
        ["direct: ollama.chat → first chunk (section 1, 1 stream)", ms(direct), ms(percentile(one.direct.ttft, 99))],
      ],
    ),
  );
}

/** Issue 10's targets, each as measured in this run (informative, never asserted). */
function printTargets(relay: readonly RelayFigures[], server: ServerFigures, cpu: readonly CpuFigure[], paint: readonly PaintSample[]) {
  const by = (label: string) => relay.find((r) => r.load.label === label)!;
  const ttftRatio = (r: RelayFigures) => percentile(r.app.ttft, 50) / percentile(r.direct.ttft, 50);
  const many = by(`${MANY} spread`);
  const gapP50 = percentile(many.app.gaps, 50) - percentile(many.direct.gaps, 50);
  const gapP99 = percentile(many.app.gaps, 99) - percentile(many.direct.gaps, 99);
  const [query, reply] = [cpu[0]!, cpu[1]!];
  const directFirst = percentile(by("1").direct.ttft, 50);
  const painted = percentile(
    paint.map((s) => s.paintMs),
    50,
  );
  const rows: [string, string, string, boolean][] = [
    ["time to first token, 1 stream", ratio(ttftRatio(by("1"))), "≤ 1.2× direct", ttftRatio(by("1")) <= 1.2],
    [`time to first token, ${MANY} spread`, ratio(ttftRatio(many)), "≤ 1.2× direct", ttftRatio(many) <= 1.2],
    [`time to first token, ${MANY} at once`, ratio(ttftRatio(by(`${MANY} at once`))), "≤ 3× direct", ttftRatio(by(`${MANY} at once`)) <= 3],
    [`gap between tokens at ${MANY} streams, p50 / p99 over direct`, `+${ms(gapP50)} / +${ms(gapP99)} ms`, "≤ +1 / ≤ +10 ms", gapP50 <= 1 && gapP99 <= 10],
    [`CPU per streamed ${REPLY_TOKENS}-token reply (send included)`, `${ms(reply.cpuMs)} ms`, "≤ 30 ms", reply.cpuMs <= 30],
    ["CPU of a one-query procedure (sessions.get)", `${ms(query.cpuMs)} ms`, "≤ 3 ms", query.cpuMs <= 3],
    [`peak RSS at ${MANY} streams`, mb(server.peakKb), "≤ 200 MB", server.peakKb <= 200 * 1024],
    ["Enter → first character painted, p50", `${ms(painted)} ms (direct first token ${ms(directFirst)} ms)`, "≤ direct + 50 ms", painted <= directFirst + 50],
  ];
  console.log("\nTargets (informative, measured in this run):\n");
  console.log(table(["figure", "this run", "target", ""], rows.map(([a, b, c, ok]) => [a, b, c, verdict(ok)])));
}

// ---------------------------------------------------------------------------------------------

/** Fake Ollama, Postgres, the app and a signed-in client with one chat per stream. */
async function setUp() {
  ensureBuild();
  const tempDir = await mkdtemp(path.join(os.tmpdir(), "af-bench-"));
  // Postgres runs as its own user when we are root: it must be able to enter the directory.
  await chmod(tempDir, 0o755);
  onCleanup("temp dir", () => rm(tempDir, { recursive: true, force: true }));

  // Every stream at once and no model load: the same server for the app and the direct client.
  const fake = await startFake({ reply: REPLY, args: ["--delay", String(TOKEN_DELAY_MS), "--parallel", "256", "--load-delay", "0"] });

  log("starting Postgres and the app (next start)");
  const database = await startDatabase(tempDir);
  const { app, port, baseUrl, output } = await startApp({ databaseUrl: database.url, ollamaUrl: fake.url, tempDir });
  const pid = serverPid(app.pid!, port);
  log(`app on ${baseUrl}, server pid ${pid}${pid === app.pid ? "" : ` (forked by ${app.pid})`}`);

  const user = await createUser(database);
  const { cookie } = await signedInCookie(database.db, user, { secret: AUTH_SECRET });
  const client = createAppClient(baseUrl, cookie);
  const characterId = await presetCharacterId(database);
  const sessionIds: string[] = [];
  for (let i = 0; i < MANY; i += 1) sessionIds.push((await client.sessions.create.mutate({ characterId })).id);
  return { fake, database, output, pid, client, characterId, sessionIds, baseUrl, cookie };
}

async function main() {
  const { fake, database, output, pid, client, characterId, sessionIds, baseUrl, cookie } = await setUp();
  const relay = await benchRelay({ fake, client, sessionIds, serverPid: pid });
  const history = await benchHistory({ database, client, characterId });
  await waitForUpstreamIdle(fake);
  const cpu = await benchCpu({ client, sessionIds, serverPid: pid });
  await waitForUpstreamIdle(fake);
  const paintChats: string[] = [];
  for (let i = 0; i < PAINT_SAMPLES; i += 1) paintChats.push((await client.sessions.create.mutate({ characterId })).id);
  const paint = await enterToPaint({ baseUrl, cookie, sessionIds: paintChats, text: USER_TEXT, serverFigure: (id) => lastReplyFirstToken(database, id) });

  printRelay(relay.results);
  printHistory(history);
  printServer(relay.server, pid);
  printCpu(cpu);
  printPaint(paint, relay.results);
  printTargets(relay.results, relay.server, cpu, paint);

  const complaints = output.matching(/\[trpc\]|\[chat\]|error|warn/i);
  console.log(`\nApp log: ${complaints.length} warning/error line(s)${complaints.length ? ":" : "."}`);
  for (const line of complaints.slice(0, 15)) console.log(`  ${line}`);
}

await run(main);
