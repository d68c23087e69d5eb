// Load benchmark: many users chatting at once against a one-request-at-a-time Ollama — whether
// every message and every streamed reply survives, how long replies wait in the app's queue and
// how fairly, whether a waiting reply shows its place; then a pool of two Ollama servers
// (throughput against one), and two app instances sharing one database (nothing lost, and the
// limits hold for the whole app, not per instance).
//
//   npm run bench:load
//
// Each part runs in its own process as in production: the fake Ollama servers (serial, with a
// model load, like a real server's defaults), an embedded Postgres in a temp dir, the production
// build (`next start`, one or two instances), and this process as the clients — one typed tRPC
// client per user, with the browser's links. What is lost is checked in the database, not in
// what the app answered. Figures are printed, never asserted: the script exits non-zero only when
// the run itself broke.
import { randomUUID } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { TRPCClientError } from "@trpc/client";
import { inArray, isNotNull, sql } from "drizzle-orm";
import type { OllamaStats } from "../fakes/ollama";
import { signedInCookie } from "../support/session-cookie";
import {
  type AppClient,
  AUTH_SECRET,
  createAppClient,
  createUser,
  type Db,
  ensureBuild,
  type FakeServer,
  log,
  ms,
  onCleanup,
  percentile,
  presetCharacterId,
  ratio,
  run,
  startApp,
  startDatabase,
  startFake,
  stopApp,
  table,
  verdict,
} from "./harness";
import type { ReplyEvent, ReplyStage } from "@/server/chat/live-reply";
import { generationSlots, llmQueue, messages } from "@/server/db/schema";

const USERS = 20;
const TURNS = 10;
/** Fake Ollama pacing: 10 ms per token; replies are the fake's own (~20 word-sized tokens, ~0.2 s). */
const TOKEN_DELAY_MS = 10;
/** A model load on a cold server (the fake's default is 150 ms; a real one takes seconds). */
const LOAD_DELAY_MS = 150;
/** One turn (send → reply's final event) may take this long before it counts as an error. */
const TURN_TIMEOUT_MS = 180_000;
/** A reply that spent at least this long between entering the queue and getting a server "waited". */
const WAITED_MS = 100;
/** How often the fakes' counters are read, to see whether a request ever waited inside Ollama. */
const FAKE_SAMPLE_MS = 50;

/** The limits the app instances run with (lib/env.mjs), small enough to be reached on purpose. */
const LIMITS = {
  /** Above the 10 turns a load user sends in a minute; the limit checks send twice as many. */
  perMinute: 12,
  /** A reply for each of the 20 users at once, with room; the slot check sends more than this at once. */
  concurrent: 30,
};

/** The per-minute limit sent at once: rounds, each by a new user. */
const BURST_ROUNDS = 5;

const TARGETS = { errors: 0, lost: 0, poolRatio: 1.8 };

/** The app matches the serial server: one reply at a time per server, the rest in its own queue. */
const APP_ENV = {
  OLLAMA_NUM_PARALLEL: "1",
  CHAT_MESSAGES_PER_MINUTE: String(LIMITS.perMinute),
  MAX_CONCURRENT_GENERATIONS: String(LIMITS.concurrent),
};

// ---------------------------------------------------------------------------------------------
// Clients and turns

interface App {
  name: string;
  baseUrl: string;
  output: { matching(pattern: RegExp): string[] };
  stop(): Promise<void>;
}

interface BenchUser {
  index: number;
  id: string;
  /** One client per app instance, all signed in as this user. */
  clients: AppClient[];
}

async function signUp(database: Db, apps: readonly App[], index: number): Promise<BenchUser> {
  const user = await createUser(database);
  const { cookie } = await signedInCookie(database.db, user, { secret: AUTH_SECRET });
  return { index, id: user.id, clients: apps.map((app) => createAppClient(app.baseUrl, cookie)) };
}

/** What one reply's stream delivered to the client. */
interface Followed {
  /** The concatenated deltas. */
  text: string;
  final: Extract<ReplyEvent, { type: "done" | "error" }> | null;
  /** Stage events in arrival order, with the time each arrived. */
  stages: { stage: ReplyStage; ahead?: number; at: number }[];
  firstDeltaAt: number | null;
  endedAt: number;
}

async function followEvents(events: AsyncIterable<{ event: ReplyEvent }>): Promise<Followed> {
  const followed: Followed = { text: "", final: null, stages: [], firstDeltaAt: null, endedAt: Number.NaN };
  for await (const { event } of events) {
    const at = performance.now();
    if (event.type === "delta") {
      followed.text += event.text;
      followed.firstDeltaAt ??= at;
    } else if (event.type === "stage") {
      followed.stages.push({ stage: event.stage, ahead: event.ahead, at });
    } else if (event.type === "done" || event.type === "error") {
      followed.final = event;
    }
  }
  followed.endedAt = performance.now();
  return followed;
}

/** The app's error code of a refused call (tRPC error data), or a short description. */
function describe(error: unknown): { code: string; message: string } {
  if (error instanceof TRPCClientError) {
    const data = error.data as { appCode?: string | null; code?: string } | undefined;
    return { code: data?.appCode ?? data?.code ?? "trpc", message: error.message };
  }
  if (error instanceof Error) return { code: error.name, message: error.message };
  return { code: "unknown", message: String(error) };
}

interface Turn {
  user: number;
  turn: number;
  /** Index of the app instance the message was sent to. */
  instance: number;
  sessionId: string;
  clientId: string;
  text: string;
  sentAt: number;
  /** Set when chat.send accepted the message. */
  userMessageId?: string;
  replyId?: string;
  followed?: Followed;
  /** A send refused or a stream broken: code and message. */
  error?: { code: string; message: string };
}

/** Sends one message and follows its reply in the same response, as the browser does. */
async function sendTurn(client: AppClient, turn: Turn): Promise<Turn> {
  const signal = AbortSignal.timeout(TURN_TIMEOUT_MS);
  turn.sentAt = performance.now();
  try {
    const { userMessage, reply, events } = await client.chat.send.mutate({ sessionId: turn.sessionId, clientId: turn.clientId, text: turn.text }, { signal });
    turn.userMessageId = userMessage.id;
    turn.replyId = reply.id;
    turn.followed = await followEvents(events);
    const final = turn.followed.final;
    if (!final) turn.error = { code: "no_final_event", message: "the reply's stream ended without its final event" };
    else if (final.type === "error") turn.error = { code: final.code, message: final.message };
    else if (final.status !== "complete") turn.error = { code: final.status, message: `the reply ended ${final.status}` };
  } catch (error) {
    turn.error = describe(error);
  }
  return turn;
}

/** The first 40 characters of a message, whitespace collapsed: what the fake's reply quotes. */
function echoOf(text: string) {
  return Array.from(text.replace(/\s+/g, " ").trim()).slice(0, 40).join("");
}

function messageText(part: string, user: number, turn: number) {
  return `${part} ${user + 1}번 사용자의 ${turn + 1}번째 메시지: 오늘은 공원에서 오래 산책을 했어요. 당신은 뭐 했어요?`;
}

// ---------------------------------------------------------------------------------------------
// The fakes' counters while a part runs

interface FakeWatch {
  samples: number;
  /** Samples in which a request waited inside Ollama behind one being generated. */
  waitingInside: number;
}

function watchFakes(fakes: readonly FakeServer[]) {
  const watch: FakeWatch = { samples: 0, waitingInside: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const fake of fakes) {
        const stats = (await fake.control("/__control/stats")) as OllamaStats;
        watch.samples += 1;
        // Waiting for a model load is not waiting behind another request.
        const generating = stats.activeChatStreams - stats.queuedChatRequests;
        if (stats.queuedChatRequests > 0 && generating > 0) watch.waitingInside += 1;
      }
      await sleep(FAKE_SAMPLE_MS);
    }
  })();
  return async () => {
    running = false;
    await loop;
    return watch;
  };
}

const fakeStats = async (fake: FakeServer) => (await fake.control("/__control/stats")) as OllamaStats;

async function waitForIdle(database: Db, fakes: readonly FakeServer[]) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const active = (await Promise.all(fakes.map((f) => f.activeStreams()))).reduce((a, b) => a + b, 0);
    const [row] = await database.db
      .select({ n: sql<number>`count(*)::int` })
      .from(llmQueue)
      .where(sql`${llmQueue.finishedAt} is null and ${llmQueue.leaseUntil} > now()`);
    if (active === 0 && (row?.n ?? 0) === 0) break;
    if (Date.now() > deadline) throw new Error(`the LLM queue did not drain (${row?.n} in the queue, ${active} at the fakes)`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// 1–3. Load: USERS users × TURNS turns

interface LoadPart {
  label: string;
  apps: App[];
  fakes: FakeServer[];
}

interface QueueRow {
  messageId: string;
  userId: string;
  server: string | null;
  enqueuedAt: Date;
  startedAt: Date | null;
}

interface LoadFigures {
  label: string;
  servers: number;
  instances: number;
  sent: number;
  completed: number;
  errors: Turn[];
  lostUserMessages: string[];
  lostText: string[];
  /** Replies whose text does not quote their own message (a reply crossed into another turn). */
  crossed: number;
  wallMs: number;
  throughput: number;
  waitsMs: number[];
  clientQueuedMs: number[];
  fairness: number;
  worstUserWaitMs: number;
  meanUserWaitMs: number;
  waited: number;
  waitedShown: number;
  behindOthers: number;
  /** Replies that waited while other calls were served, yet were never shown one ahead: why. */
  neverAhead: string[];
  behindShownAhead: number;
  /** Largest position a reply was shown. */
  maxAheadShown: number;
  /** Replies that got more than one position while they waited (the position moved). */
  positionMoved: number;
  llmCalls: number[];
  loads: number;
  reloads: number;
  watch: FakeWatch;
  perInstance: number[];
}

async function runLoad(database: Db, characterId: string, part: LoadPart, tag: string): Promise<LoadFigures> {
  const users = await Promise.all(Array.from({ length: USERS }, (_, i) => signUp(database, part.apps, i)));
  // Each user's chat, created on the first instance (any instance may serve it afterwards).
  const sessionIds = await Promise.all(users.map(async (u) => (await u.clients[0]!.sessions.create.mutate({ characterId })).id));
  await waitForIdle(database, part.fakes);
  const before = await Promise.all(part.fakes.map(fakeStats));
  log(`${part.label}: ${USERS} users × ${TURNS} turns`);
  const stopWatch = watchFakes(part.fakes);
  const started = performance.now();
  // Each user sends its next message as soon as the reply to the last one ended. With several
  // instances, a user's turns alternate between them (a chat served by both).
  const turns = (
    await Promise.all(
      users.map(async (user) => {
        const done: Turn[] = [];
        for (let t = 0; t < TURNS; t += 1) {
          const instance = (user.index + t) % part.apps.length;
          const turn: Turn = {
            user: user.index,
            turn: t,
            instance,
            sessionId: sessionIds[user.index]!,
            clientId: randomUUID(),
            text: messageText(tag, user.index, t),
            sentAt: Number.NaN,
          };
          done.push(await sendTurn(user.clients[instance]!, turn));
        }
        return done;
      }),
    )
  ).flat();
  const ended = Math.max(...turns.map((t) => t.followed?.endedAt ?? 0));
  // Titles run after a chat's first reply: let them finish, so the counters are complete.
  await waitForIdle(database, part.fakes);
  const watch = await stopWatch();
  const after = await Promise.all(part.fakes.map(fakeStats));

  // What the database kept, against what the clients sent and received.
  const stored = await database.db
    .select({ id: messages.id, role: messages.role, content: messages.content, status: messages.status, clientId: messages.clientId, sessionId: messages.sessionId })
    .from(messages)
    .where(inArray(messages.sessionId, sessionIds));
  const byClientId = new Map(stored.filter((m) => m.clientId).map((m) => [m.clientId!, m]));
  const byId = new Map(stored.map((m) => [m.id, m]));
  const lostUserMessages: string[] = [];
  const lostText: string[] = [];
  let crossed = 0;
  for (const turn of turns) {
    const where = `user ${turn.user + 1} turn ${turn.turn + 1}`;
    const mine = byClientId.get(turn.clientId);
    if (turn.userMessageId && (!mine || mine.id !== turn.userMessageId || mine.content !== turn.text || mine.role !== "user" || mine.sessionId !== turn.sessionId)) {
      lostUserMessages.push(`${where}: ${mine ? "stored differently" : "not stored"}`);
    }
    if (turn.replyId && turn.followed) {
      const reply = byId.get(turn.replyId);
      const received = turn.followed.text;
      const final = turn.followed.final;
      if (!reply) lostText.push(`${where}: reply not stored`);
      else if (reply.content !== received) lostText.push(`${where}: stored ${reply.content.length} chars (${reply.status}), streamed ${received.length}`);
      else if (final && final.content !== received) lostText.push(`${where}: final event's content (${final.content.length} chars) ≠ streamed (${received.length})`);
      if (!turn.error && !received.includes(echoOf(turn.text))) crossed += 1;
    }
  }

  // Queue waits, from the app's own queue (shared by the instances): enqueued → given a server.
  const queueRows: QueueRow[] = await database.db
    .select({ messageId: llmQueue.messageId, userId: llmQueue.userId, server: llmQueue.server, enqueuedAt: llmQueue.enqueuedAt, startedAt: llmQueue.startedAt })
    .from(llmQueue)
    .where(isNotNull(llmQueue.startedAt));
  const rowOf = new Map(queueRows.map((r) => [r.messageId, r]));
  const waitsMs: number[] = [];
  const clientQueuedMs: number[] = [];
  const userWaits = new Map<number, number[]>();
  let [waited, waitedShown, behindOthers, behindShownAhead, maxAheadShown, positionMoved] = [0, 0, 0, 0, 0, 0];
  const neverAhead: string[] = [];
  for (const turn of turns) {
    const row = turn.replyId ? rowOf.get(turn.replyId) : undefined;
    if (!row?.startedAt || !turn.followed) continue;
    const [from, to] = [row.enqueuedAt.getTime(), row.startedAt.getTime()];
    const wait = to - from;
    waitsMs.push(wait);
    userWaits.set(turn.user, [...(userWaits.get(turn.user) ?? []), wait]);
    const stages = turn.followed.stages;
    const queued = stages.filter((s) => s.stage === "queued");
    const firstQueued = stages.findIndex((s) => s.stage === "queued");
    if (firstQueued >= 0) {
      const next = stages.slice(firstQueued).find((s) => s.stage !== "queued")?.at ?? turn.followed.firstDeltaAt ?? Number.NaN;
      clientQueuedMs.push(next - stages[firstQueued]!.at);
    }
    const shown = queued.filter((s) => s.ahead !== undefined);
    maxAheadShown = Math.max(maxAheadShown, ...shown.map((s) => s.ahead!));
    if (wait >= WAITED_MS) {
      waited += 1;
      if (shown.length > 0) waitedShown += 1;
      if (new Set(shown.map((s) => s.ahead)).size > 1) positionMoved += 1;
    }
    // Other LLM calls (replies and titles) given a server while this one waited. Up to one per
    // server may have got it before this reply's first look at the queue (then it is rightly
    // shown "0 ahead": next); beyond that, each went first while this reply was watching.
    const wentFirst = queueRows.filter((r) => r.messageId !== row.messageId && r.startedAt!.getTime() > from && r.startedAt!.getTime() < to);
    if (wentFirst.length > part.fakes.length) {
      behindOthers += 1;
      if (shown.some((s) => s.ahead! >= 1)) behindShownAhead += 1;
      else {
        const later = wentFirst.filter((r) => r.enqueuedAt.getTime() > from).length;
        neverAhead.push(
          `user ${turn.user + 1} turn ${turn.turn + 1}: waited ${wait} ms, shown ${shown.map((s) => s.ahead).join(" → ") || "nothing"}; ` +
            `${wentFirst.length} call(s) got a server meanwhile, ${later} of them enqueued after it (moved ahead in the fair order)`,
        );
      }
    }
  }
  const means = [...userWaits.values()].map((w) => w.reduce((a, b) => a + b, 0) / w.length);
  const meanUserWaitMs = means.reduce((a, b) => a + b, 0) / means.length;
  const worstUserWaitMs = Math.max(...means);
  const completed = turns.filter((t) => !t.error).length;
  const wallMs = ended - started;
  return {
    label: part.label,
    servers: part.fakes.length,
    instances: part.apps.length,
    sent: turns.length,
    completed,
    errors: turns.filter((t) => t.error),
    lostUserMessages,
    lostText,
    crossed,
    wallMs,
    throughput: completed / (wallMs / 1000),
    waitsMs,
    clientQueuedMs,
    fairness: worstUserWaitMs / meanUserWaitMs,
    worstUserWaitMs,
    meanUserWaitMs,
    waited,
    waitedShown,
    behindOthers,
    neverAhead,
    behindShownAhead,
    maxAheadShown,
    positionMoved,
    llmCalls: after.map((a, i) => a.completedChatStreams - before[i]!.completedChatStreams),
    loads: after.reduce((n, a, i) => n + a.loads - before[i]!.loads, 0),
    reloads: after.reduce((n, a, i) => n + a.reloads - before[i]!.reloads, 0),
    watch,
    perInstance: part.apps.map((_, i) => turns.filter((t) => t.instance === i && !t.error).length),
  };
}

// ---------------------------------------------------------------------------------------------
// 4. Limits across two instances

interface LimitCheck {
  label: string;
  limit: number;
  /** Sends per round. */
  sent: number;
  /** Accepted sends, per round. */
  accepted: number[];
  /** Refusals by the app's error code. */
  refused: Map<string, number>;
  /** Refused sends that stored their message anyway. */
  refusedButStored: number;
  /** Accepted sends whose reply did not complete, or whose stored text differs from the streamed. */
  broken: string[];
}

interface Attempt {
  turn: Turn;
  accepted: boolean;
}

/**
 * Sends `count` messages (each to a chat of its own: one reply at a time per chat), over the
 * instances in turn, either one after another or all at once; accepted sends are followed to
 * their end in the background.
 */
async function sendMany(options: { users: BenchUser[]; perUser: number; characterId: string; together: boolean; tag: string; onAccepted?: () => void }) {
  const plans: { user: BenchUser; turn: Turn }[] = [];
  let n = 0;
  for (const user of options.users) {
    for (let i = 0; i < options.perUser; i += 1, n += 1) {
      const sessionId = (await user.clients[0]!.sessions.create.mutate({ characterId: options.characterId })).id;
      const instance = n % user.clients.length;
      plans.push({ user, turn: { user: user.index, turn: i, instance, sessionId, clientId: randomUUID(), text: messageText(options.tag, user.index, i), sentAt: Number.NaN } });
    }
  }
  const following: Promise<Turn>[] = [];
  const attempt = async ({ user, turn }: (typeof plans)[number]): Promise<Attempt> => {
    const client = user.clients[turn.instance]!;
    turn.sentAt = performance.now();
    try {
      const { userMessage, reply, events } = await client.chat.send.mutate({ sessionId: turn.sessionId, clientId: turn.clientId, text: turn.text }, { signal: AbortSignal.timeout(TURN_TIMEOUT_MS) });
      turn.userMessageId = userMessage.id;
      turn.replyId = reply.id;
      following.push(
        followEvents(events).then(
          (followed) => Object.assign(turn, { followed }),
          (error: unknown) => Object.assign(turn, { error: describe(error) }),
        ),
      );
      return { turn, accepted: true };
    } catch (error) {
      turn.error = describe(error);
      return { turn, accepted: false };
    }
  };
  const attempts: Attempt[] = [];
  if (options.together) attempts.push(...(await Promise.all(plans.map(attempt))));
  else for (const plan of plans) attempts.push(await attempt(plan));
  options.onAccepted?.();
  await Promise.all(following);
  return attempts;
}

async function checkLimit(database: Db, label: string, limit: number, rounds: Attempt[][]): Promise<LimitCheck> {
  const checks = await Promise.all(rounds.map((attempts) => checkRound(database, label, limit, attempts)));
  return {
    label,
    limit,
    sent: rounds[0]!.length,
    accepted: checks.flatMap((c) => c.accepted),
    refused: checks.reduce((all, c) => {
      for (const [code, n] of c.refused) all.set(code, (all.get(code) ?? 0) + n);
      return all;
    }, new Map<string, number>()),
    refusedButStored: checks.reduce((n, c) => n + c.refusedButStored, 0),
    broken: checks.flatMap((c) => c.broken),
  };
}

async function checkRound(database: Db, label: string, limit: number, attempts: Attempt[]): Promise<LimitCheck> {
  const clientIds = attempts.map((a) => a.turn.clientId);
  const stored = await database.db
    .select({ id: messages.id, clientId: messages.clientId, content: messages.content, status: messages.status })
    .from(messages)
    .where(inArray(messages.clientId, clientIds));
  const storedClientIds = new Set(stored.map((m) => m.clientId));
  const replyIds = attempts.flatMap((a) => (a.turn.replyId ? [a.turn.replyId] : []));
  const replies = replyIds.length ? await database.db.select({ id: messages.id, content: messages.content, status: messages.status }).from(messages).where(inArray(messages.id, replyIds)) : [];
  const replyById = new Map(replies.map((r) => [r.id, r]));
  const refused = new Map<string, number>();
  const broken: string[] = [];
  for (const { turn, accepted } of attempts) {
    if (!accepted) {
      refused.set(turn.error!.code, (refused.get(turn.error!.code) ?? 0) + 1);
      continue;
    }
    const reply = replyById.get(turn.replyId!);
    const final = turn.followed?.final;
    if (!storedClientIds.has(turn.clientId)) broken.push("an accepted message was not stored");
    if (turn.error) broken.push(`a reply's stream failed: ${turn.error.code} ${turn.error.message}`);
    else if (final?.type !== "done" || final.status !== "complete") broken.push(`a reply ended ${final?.type === "error" ? final.code : (final?.status ?? "without a final event")}`);
    else if (!reply || reply.content !== turn.followed!.text) broken.push("a reply's stored text differs from the streamed");
  }
  return {
    label,
    limit,
    sent: attempts.length,
    accepted: [attempts.filter((a) => a.accepted).length],
    refused,
    refusedButStored: attempts.filter((a) => !a.accepted && storedClientIds.has(a.turn.clientId)).length,
    broken,
  };
}

async function benchLimits(database: Db, characterId: string, apps: App[], fake: FakeServer): Promise<LimitCheck[]> {
  const checks: LimitCheck[] = [];
  const perMinute = LIMITS.perMinute;

  log(`limits: ${2 * perMinute} sends by one user, one after another, alternating instances (limit ${perMinute} a minute)`);
  await waitForIdle(database, [fake]);
  const sequential = await sendMany({ users: [await signUp(database, apps, 100)], perUser: 2 * perMinute, characterId, together: false, tag: "L1" });
  checks.push(await checkLimit(database, `messages a minute, per user: ${2 * perMinute} sends one after another, alternating instances`, perMinute, [sequential]));

  // At once, the sends' checks may overlap in the database: a few rounds, each by a new user.
  log(`limits: ${2 * perMinute} sends by one user at once, split over both instances (${BURST_ROUNDS} rounds)`);
  const bursts: Attempt[][] = [];
  for (let round = 0; round < BURST_ROUNDS; round += 1) {
    await waitForIdle(database, [fake]);
    bursts.push(await sendMany({ users: [await signUp(database, apps, 110 + round)], perUser: 2 * perMinute, characterId, together: true, tag: `L2.${round + 1}` }));
  }
  checks.push(await checkLimit(database, `messages a minute, per user: ${2 * perMinute} sends at once, split over both instances`, perMinute, bursts));

  // Generation slots are for the whole app: with the server slowed down nothing finishes while
  // the sends arrive, so exactly MAX_CONCURRENT_GENERATIONS should be taken.
  const slotUsers = 4;
  const perUser = Math.ceil((LIMITS.concurrent + 10) / slotUsers);
  log(`limits: ${slotUsers * perUser} sends at once by ${slotUsers} users, split over both instances (${LIMITS.concurrent} generations at once)`);
  await waitForIdle(database, [fake]);
  const [held] = await database.db.select({ n: sql<number>`count(*)::int` }).from(generationSlots).where(sql`${generationSlots.messageId} is not null and ${generationSlots.leaseUntil} > now()`);
  if ((held?.n ?? 0) > 0) throw new Error(`${held?.n} generation slots still held before the slot check`);
  const users = await Promise.all(Array.from({ length: slotUsers }, (_, i) => signUp(database, apps, 200 + i)));
  await fake.control("/__control", { tokenDelayMs: 1_000 });
  let restored = false;
  const restore = async () => {
    if (restored) return;
    restored = true;
    await fake.control("/__control", { tokenDelayMs: TOKEN_DELAY_MS });
  };
  try {
    const slots = await sendMany({ users, perUser, characterId, together: true, tag: "L3", onAccepted: () => void restore() });
    checks.push(await checkLimit(database, `generations at once, whole app: ${slotUsers * perUser} sends at once by ${slotUsers} users, split over both instances`, LIMITS.concurrent, [slots]));
  } finally {
    await restore();
  }
  await waitForIdle(database, [fake]);
  return checks;
}

// ---------------------------------------------------------------------------------------------
// Report

function printLoad(figures: LoadFigures) {
  const instances = figures.instances > 1 ? `${figures.instances} app instances (turns served: ${figures.perInstance.join(" + ")})` : "one app instance";
  console.log(`\n${figures.label} — ${figures.servers} serial fake Ollama server${figures.servers > 1 ? "s" : ""}, ${instances}\n`);
  const errorCodes = new Map<string, number>();
  for (const turn of figures.errors) errorCodes.set(turn.error!.code, (errorCodes.get(turn.error!.code) ?? 0) + 1);
  const rows: string[][] = [
    ["turns completed", `${figures.completed} / ${figures.sent}`, ""],
    ["unintended errors", String(figures.errors.length), `target ${TARGETS.errors}${errorCodes.size ? ` (${[...errorCodes].map(([c, n]) => `${c} ×${n}`).join(", ")})` : ""}`],
    ["lost user messages (database)", String(figures.lostUserMessages.length), `target ${TARGETS.lost}: every accepted message stored as sent`],
    ["lost streamed text (database)", String(figures.lostText.length), `target ${TARGETS.lost}: stored reply = text streamed to the client`],
    ["replies not answering their own message", String(figures.crossed), "the fake quotes the message it answers"],
    ["queue wait p50 / p99 (app's queue)", `${ms(percentile(figures.waitsMs, 50))} / ${ms(percentile(figures.waitsMs, 99))} ms`, "enqueued → given a server, from llm_queue"],
    ["queued stage at the client p50 / p99", `${ms(percentile(figures.clientQueuedMs, 50))} / ${ms(percentile(figures.clientQueuedMs, 99))} ms`, "first queued event → next stage"],
    ["fairness: worst user / mean", ratio(figures.fairness), `mean wait per user: worst ${ms(figures.worstUserWaitMs)} ms, mean ${ms(figures.meanUserWaitMs)} ms`],
    ["waiting replies that showed a position", `${figures.waitedShown} / ${figures.waited}`, `waited ≥ ${WAITED_MS} ms; ${figures.positionMoved} saw it move; largest shown ${figures.maxAheadShown} ahead`],
    ["… of those behind others, showed ≥ 1 ahead", `${figures.behindShownAhead} / ${figures.behindOthers}`, `more LLM calls got a server while it waited than there are servers`],
    ["throughput", `${figures.throughput.toFixed(2)} turns/s`, `${figures.completed} turns in ${(figures.wallMs / 1000).toFixed(1)} s`],
    [
      "LLM calls at the fake(s)",
      figures.llmCalls.join(" + "),
      `replies and chat titles; ${figures.loads} model load(s), ${figures.reloads} reload(s); a request waiting inside Ollama in ${figures.watch.waitingInside} of ${figures.watch.samples} samples`,
    ],
  ];
  const widths = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const [figure, value, note] of rows) console.log(`  ${figure!.padEnd(widths[0]!)}  ${value!.padEnd(widths[1]!)}  ${note}`.trimEnd());
  for (const turn of figures.errors.slice(0, 5)) console.log(`  error: user ${turn.user + 1} turn ${turn.turn + 1} (instance ${turn.instance + 1}): ${turn.error!.code} ${turn.error!.message}`);
  for (const line of [...figures.lostUserMessages, ...figures.lostText].slice(0, 5)) console.log(`  lost: ${line}`);
  for (const line of figures.neverAhead.slice(0, 3)) console.log(`  never shown ahead: ${line}`);
}

function printSummary(parts: LoadFigures[]) {
  console.log(`\nSummary — ${USERS} users × ${TURNS} turns each part\n`);
  console.log(
    table(
      ["part", "servers × instances", "completed", "errors", "lost msg", "lost text", "wait p50", "wait p99", "worst/mean", "position shown", "turns/s"],
      parts.map((p) => [
        p.label,
        `${p.servers} × ${p.instances}`,
        `${p.completed}/${p.sent}`,
        String(p.errors.length),
        String(p.lostUserMessages.length),
        String(p.lostText.length),
        ms(percentile(p.waitsMs, 50)),
        ms(percentile(p.waitsMs, 99)),
        ratio(p.fairness),
        `${p.waitedShown}/${p.waited}`,
        p.throughput.toFixed(2),
      ]),
    ).replace(/^/gm, "  "),
  );
}

function printLimits(checks: LimitCheck[]) {
  console.log(`\n4. Limits across two app instances sharing the database\n`);
  console.log(
    table(
      ["check", "", "limit", "sent", "accepted", "refused", "exactly the limit"],
      checks.map((c) => {
        const exact = c.accepted.filter((n) => n === c.limit).length;
        const over = c.accepted.filter((n) => n > c.limit).length;
        return [
          c.label,
          "",
          String(c.limit),
          c.accepted.length > 1 ? `${c.sent} × ${c.accepted.length} rounds` : String(c.sent),
          c.accepted.join(", "),
          [...c.refused].map(([code, n]) => `${code} ×${n}`).join(", ") || "none",
          c.accepted.length > 1 ? `${exact} of ${c.accepted.length} rounds${over ? ` (${over} over)` : ""}` : exact ? "yes" : over ? "NO: over" : "no: under",
        ];
      }),
    ).replace(/^/gm, "  "),
  );
  for (const c of checks) {
    if (c.refusedButStored) console.log(`  ${c.label}: ${c.refusedButStored} refused send(s) stored their message anyway`);
    for (const line of [...new Set(c.broken)].slice(0, 5)) console.log(`  ${c.label}: ${line}`);
  }
}

// ---------------------------------------------------------------------------------------------

async function startInstance(name: string, database: Db, tempDir: string, fakes: FakeServer[]): Promise<App> {
  const started = await startApp({ databaseUrl: database.url, ollamaUrl: fakes.map((f) => f.url).join(","), tempDir, env: APP_ENV });
  log(`${name} on ${started.baseUrl} (OLLAMA_HOST: ${fakes.length} server${fakes.length > 1 ? "s" : ""})`);
  return { name, baseUrl: started.baseUrl, output: started.output, stop: () => stopApp(started.app) };
}

async function main() {
  ensureBuild();
  const tempDir = await mkdtemp(path.join(os.tmpdir(), "af-bench-load-"));
  // Postgres runs as its own user when we are root: it must be able to enter the directory.
  await chmod(tempDir, 0o755);
  onCleanup("temp dir", () => rm(tempDir, { recursive: true, force: true }));

  // Serial servers as Ollama runs by default (one request at a time, a model load when cold),
  // answering with the fake's own replies, which quote the message they answer.
  const args = ["--delay", String(TOKEN_DELAY_MS), "--parallel", "1", "--load-delay", String(LOAD_DELAY_MS)];
  const fakes = [await startFake({ reply: "", args }), await startFake({ reply: "", args })];
  for (const fake of fakes) await fake.control("/__control", { reply: null });

  log("starting Postgres and the app (next start)");
  const database = await startDatabase(tempDir);
  const characterId = await presetCharacterId(database);
  const first = await startInstance("instance 1", database, tempDir, [fakes[0]!]);
  const apps = [first];

  const parts: LoadFigures[] = [];
  parts.push(await runLoad(database, characterId, { label: "1. One server", apps: [first], fakes: [fakes[0]!] }, "A"));
  printLoad(parts[0]!);

  const pooled = await startInstance("instance with two servers", database, tempDir, fakes);
  apps.push(pooled);
  parts.push(await runLoad(database, characterId, { label: "2. Two servers", apps: [pooled], fakes }, "B"));
  printLoad(parts[1]!);
  await pooled.stop();

  const second = await startInstance("instance 2", database, tempDir, [fakes[0]!]);
  apps.push(second);
  parts.push(await runLoad(database, characterId, { label: "3. Two instances", apps: [first, second], fakes: [fakes[0]!] }, "C"));
  printLoad(parts[2]!);

  const limits = await benchLimits(database, characterId, [first, second], fakes[0]!);
  printLimits(limits);

  printSummary(parts);
  const [one, two, both] = parts as [LoadFigures, LoadFigures, LoadFigures];
  const poolRatio = two.throughput / one.throughput;
  const clean = (p: LoadFigures) => p.errors.length === 0 && p.lostUserMessages.length === 0 && p.lostText.length === 0;
  console.log(`\nTargets (informative):`);
  for (const p of parts) {
    console.log(`  ${p.label.padEnd(18)} errors ${p.errors.length}, lost ${p.lostUserMessages.length + p.lostText.length} (target 0) → ${verdict(clean(p))}; every waiting reply showed its position → ${verdict(p.waitedShown === p.waited)}`);
  }
  console.log(`  two servers / one:  ${ratio(poolRatio)} the throughput (target ≥ ${TARGETS.poolRatio}×) → ${verdict(poolRatio >= TARGETS.poolRatio)}`);
  console.log(`  two instances / one instance, one server: ${ratio(both.throughput / one.throughput)} the throughput (the server is the bottleneck: ~1× expected)`);
  const exact = limits.every((c) => c.accepted.every((n) => n === c.limit) && c.refusedButStored === 0 && c.broken.length === 0);
  console.log(`  limits global across instances (exactly the limit accepted, refusals write nothing) → ${verdict(exact)}`);

  for (const app of apps) {
    const complaints = app.output.matching(/\[trpc\]|\[chat\]|error|warn/i);
    console.log(`\nApp log of ${app.name}: ${complaints.length} warning/error line(s)${complaints.length ? ":" : "."}`);
    for (const line of complaints.slice(0, 10)) console.log(`  ${line}`);
  }
}

await run(main);
