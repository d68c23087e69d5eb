// Speech benchmark: how soon a reply's voice is heard, measured at the client.
//
//   npm run bench:speech
//
// Everything runs locally, each part in its own process as in production: a fake Ollama writing
// ~30 tokens/s (33 ms per token), a fake GPT-SoVITS that is serial like the real api_v2 (first
// audio 1.2 s + 0.3 × the audio's length), an embedded Postgres in a temp dir, the production
// build (`next start`), and this process as the clients (typed tRPC clients with the browser's
// links, audio fetched as the browser's player fetches it).
//
// A reply is six English sentences (79 tokens, 4–5 s of audio each). "First audio" is the time
// from calling `chat.send` to the first body bytes of the first clip's URL, fetched the moment
// its `audio` event arrives — the same for every path:
//   - realtime (ttsMode "realtime"): the clips come as `audio` events in the send's own stream;
//   - after the reply (ttsMode "on_click"): `chat.speak` subscribed when the reply's final event
//     arrives; and, for reference, the whole reply's WAV (`/api/messages/<id>/audio`, the audio URL
//     `chat.complete` answers with, as the original API did) fetched at that moment;
//   - realtime with sovitsStreamingMode 2 and 3 against mode 0.
// Every sample speaks sentences never spoken before (a word changes per reply), so nothing comes
// from the cache unless the cache is what is measured. Once a sample's first audio is in, the
// fake is switched to instant synthesis for the rest of that reply (its other clips are still
// fetched and checked: all there, in order, valid WAV), then set back before the next sample.
// "One synthesis" is a direct POST, to the idle fake, of the very request the app sent for the
// first sentence (taken from the fake's request log): the time to its first body bytes.
//
// Figures are printed as ratios measured in the same run, never asserted; the script exits
// non-zero only when the run itself broke. What the app got wrong (a lost or misordered clip, a
// speech error, turns that did not go round the users) is listed at the end.
import { randomUUID } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { asc, eq, isNull } from "drizzle-orm";
import type { SovitsRequestRecord, SovitsStats } from "../fakes/sovits";
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
  ratio,
  run,
  startApp,
  startDatabase,
  startFake,
  table,
  verdict,
} from "./harness";
import type { SessionSettings } from "@/lib/schemas";
import { splitSentences, spokenText } from "@/lib/speech/sentences";
import { characters, voices } from "@/server/db/schema";

const TOKEN_DELAY_MS = 33;
const TTS_LATENCY_MS = 1200;
const TTS_PER_AUDIO_SECOND_MS = 300;
/** The LLM writes the five users' replies at once: the wait measured is the TTS's, not Ollama's. */
const LLM_PARALLEL = 8;
/** Samples per path (the paths alternate, so drift on the machine hits them alike). */
const SAMPLES = 3;
const USERS = 5;
/** Each user sends first, second, … fifth once: the send order rotates every round. */
const FAIR_ROUNDS = USERS;
const STEP_TIMEOUT_MS = 120_000;
const TARGETS = { soonerRatio: 3, realtimeSlackMs: 50, cacheHitMs: 5 };
const USER_TEXT = "What did you do today?";

// ---------------------------------------------------------------------------------------------
// Replies: six sentences, each naming this reply's own word, so no sentence is ever in the cache
// by accident.

const WORDS = [
  "silver", "golden", "violet", "indigo", "copper", "cobalt", "russet", "orange", "purple", "yellow",
  "maroon", "salmon", "bronze", "cherry", "citron", "sienna", "walnut", "almond", "pewter", "ginger",
  "bamboo", "carmine", "emerald", "scarlet", "saffron", "crimson", "ivory", "amber", "azure", "coral",
];

interface Reply {
  word: string;
  text: string;
  sentences: string[];
  /** What the voice says of each sentence (narration left out), as the app computes it. */
  spoken: string[];
  /** Offset in the text just after each sentence's last character. */
  ends: number[];
}

let repliesMade = 0;
function nextReply(): Reply {
  const word = WORDS[repliesMade++];
  if (!word) throw new Error("the benchmark ran out of distinct replies");
  const written = [
    `*looks up from her book* I spent the whole afternoon reading about the ${word} comet.`,
    `They say the ${word} comet comes back only once every seventy years.`,
    `Professor Sinistra thinks we can see it from the ${word} tower tonight.`,
    `I have already packed a blanket, two scarves and a ${word} flask of cocoa.`,
    `Harry promised to bring the map, so nobody gets lost by the ${word} lake.`,
    `Would you like to come and watch the ${word} sky with us?`,
  ];
  const text = written.join(" ");
  const sentences = splitSentences(text);
  if (sentences.length !== written.length) throw new Error(`the reply splits into ${sentences.length} sentences, not ${written.length}`);
  let from = 0;
  const ends = sentences.map((sentence) => {
    from = text.indexOf(sentence, from) + sentence.length;
    return from;
  });
  return { word, text, sentences, spoken: sentences.map((sentence) => spokenText(sentence)), ends };
}

// ---------------------------------------------------------------------------------------------
// Context

interface BenchUser {
  label: string;
  client: AppClient;
  cookie: string;
}

interface Context {
  baseUrl: string;
  ollama: FakeServer;
  tts: FakeServer;
  database: Db;
  problems: string[];
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const setReply = (ctx: Context, reply: Reply) => ctx.ollama.control("/__control", { reply: reply.text });
const ttsStats = async (ctx: Context) => (await ctx.tts.control("/__control/stats")) as SovitsStats;
const ttsRequests = async (ctx: Context) => (await ctx.tts.control("/__control/requests")) as SovitsRequestRecord[];

/** The rest of a reply's speech, once its first audio is measured, synthesised at once. */
function fastTail(ctx: Context) {
  ctx.tts.control("/__control", { latencyMs: 0, perAudioSecondMs: 0 }).catch((error: unknown) => ctx.problems.push(`bench: could not speed up the fake: ${String(error)}`));
}

/** Waits until the fake GPT-SoVITS has nothing in flight or waiting, then sets its realistic timings. */
async function ttsReady(ctx: Context) {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const before = await ttsStats(ctx);
    // Served only when the synthesis in progress (if any) is done: the server is one at a time.
    await fetch(`${ctx.tts.url}/openapi.json`);
    await sleep(150);
    const after = await ttsStats(ctx);
    if (before.waiting === 0 && after.waiting === 0 && after.syntheses === before.syntheses) break;
    if (Date.now() > deadline) throw new Error("the fake GPT-SoVITS never became idle");
  }
  await ctx.tts.control("/__control", { latencyMs: TTS_LATENCY_MS, perAudioSecondMs: TTS_PER_AUDIO_SECOND_MS });
}

async function newChat(user: BenchUser, characterId: string, settings: Partial<SessionSettings>) {
  const chat = await user.client.sessions.create.mutate({ characterId, settings });
  // A named chat is not named by the LLM after its first reply: no title call in between.
  await user.client.sessions.rename.mutate({ id: chat.id, title: "bench" });
  return chat.id;
}

// ---------------------------------------------------------------------------------------------
// Tracing a reply and its speech as the browser gets them

interface FetchedAudio {
  requestedAt: number;
  firstByteAt: number;
  status: number;
  contentType: string;
  bytes: Buffer;
}

/** Fetches audio as a player does, noting when the first body bytes arrive. */
async function fetchAudio(ctx: Context, url: string, onFirstBytes?: () => void, cookie?: string): Promise<FetchedAudio> {
  const requestedAt = performance.now();
  const response = await fetch(new URL(url, ctx.baseUrl), cookie ? { headers: { cookie } } : {});
  const chunks: Buffer[] = [];
  let firstByteAt = Number.NaN;
  const reader = response.body?.getReader();
  for (;;) {
    if (!reader) break;
    const { done, value } = await reader.read();
    if (done) break;
    if (value.length > 0 && Number.isNaN(firstByteAt)) {
      firstByteAt = performance.now();
      onFirstBytes?.();
    }
    chunks.push(Buffer.from(value));
  }
  return { requestedAt, firstByteAt, status: response.status, contentType: response.headers.get("content-type") ?? "", bytes: Buffer.concat(chunks) };
}

interface Clip {
  index: number;
  text: string;
  url: string;
  eventAt: number;
  audio: FetchedAudio;
}

interface ReplyTrace {
  messageId: string;
  start: number;
  /** Arrival of each text delta, with the text's length after it. */
  deltas: { at: number; length: number }[];
  content: string;
  clips: Clip[];
  speechErrors: string[];
  status: string;
  doneAt: number;
}

/** Collects `audio` events in arrival order and fetches each clip at once; the first one's first bytes call `onFirstBytes`. */
class ClipCollector {
  private readonly pending: { index: number; text: string; url: string; eventAt: number; audio: Promise<FetchedAudio> }[] = [];
  readonly errors: string[] = [];

  constructor(
    private readonly ctx: Context,
    private readonly onFirstBytes?: () => void,
  ) {}

  audio(event: { index: number; text: string; url: string }) {
    const first = this.pending.length === 0;
    this.pending.push({ ...event, eventAt: performance.now(), audio: fetchAudio(this.ctx, event.url, first ? this.onFirstBytes : undefined) });
  }

  error(event: { code: string; message: string }) {
    this.errors.push(`${event.code}: ${event.message}`);
  }

  async clips(): Promise<Clip[]> {
    return Promise.all(this.pending.map(async (clip) => ({ ...clip, audio: await clip.audio })));
  }
}

/** `chat.send` and its streamed events, as the chat page reads them. */
async function traceReply(ctx: Context, user: BenchUser, sessionId: string, onFirstAudioBytes?: () => void): Promise<ReplyTrace> {
  const start = performance.now();
  const sent = await user.client.chat.send.mutate({ sessionId, clientId: randomUUID(), text: USER_TEXT });
  const collector = new ClipCollector(ctx, onFirstAudioBytes);
  const trace: ReplyTrace = { messageId: sent.reply.id, start, deltas: [], content: "", clips: [], speechErrors: collector.errors, status: "none", doneAt: Number.NaN };
  for await (const { event } of sent.events) {
    const at = performance.now();
    if (event.type === "delta") {
      trace.content += event.text;
      trace.deltas.push({ at, length: trace.content.length });
    } else if (event.type === "audio") collector.audio(event);
    else if (event.type === "speech_error") collector.error(event);
    else if (event.type === "done") {
      trace.status = event.status;
      trace.doneAt = at;
    } else if (event.type === "error") throw new Error(`the reply failed: ${event.code} ${event.message}`);
  }
  trace.clips = await collector.clips();
  return trace;
}

interface Reading {
  start: number;
  clips: Clip[];
  errors: string[];
}

/** `chat.speak`: a finished reply read aloud, as the read-aloud button does. */
function readAloud(ctx: Context, user: BenchUser, messageId: string, onFirstAudioBytes?: () => void): Promise<Reading> {
  const start = performance.now();
  const collector = new ClipCollector(ctx, onFirstAudioBytes);
  return new Promise<Reading>((resolve, reject) => {
    const subscription = user.client.chat.speak.subscribe(
      { messageId },
      {
        onData: ({ data: event }) => {
          if (event.type === "audio") collector.audio(event);
          else collector.error(event);
        },
        onError: (error) => {
          subscription.unsubscribe();
          reject(error);
        },
        onComplete: () => {
          collector.clips().then((clips) => resolve({ start, clips, errors: collector.errors }), reject);
        },
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Checks: what the app must get right whatever the timings

function checkReply(ctx: Context, label: string, trace: ReplyTrace, reply: Reply) {
  if (trace.status !== "complete") ctx.problems.push(`${label}: the reply ended "${trace.status}"`);
  if (trace.content !== reply.text) ctx.problems.push(`${label}: the streamed text differs from what the LLM wrote (${trace.content.length} vs ${reply.text.length} characters)`);
}

function checkSpeech(ctx: Context, label: string, clips: Clip[], errors: string[], reply: Reply) {
  for (const error of errors) ctx.problems.push(`${label}: speech error ${error}`);
  if (clips.length !== reply.spoken.length) ctx.problems.push(`${label}: ${clips.length} of ${reply.spoken.length} clips arrived`);
  const order = clips.map((clip) => clip.index);
  if (order.some((index, i) => index !== i)) ctx.problems.push(`${label}: clips arrived in the order ${order.join(",")}`);
  for (const clip of clips) {
    if (clip.text !== reply.spoken[clip.index]) ctx.problems.push(`${label}: clip ${clip.index} says "${clip.text}", not "${reply.spoken[clip.index]}"`);
    checkWav(ctx, `${label}: clip ${clip.index} (${clip.url})`, clip.audio);
  }
}

function checkWav(ctx: Context, label: string, audio: FetchedAudio) {
  const problem =
    audio.status !== 200
      ? `HTTP ${audio.status}`
      : !audio.contentType.startsWith("audio/wav")
        ? `content type ${audio.contentType}`
        : audio.bytes.length <= 44 || audio.bytes.subarray(0, 4).toString("latin1") !== "RIFF"
          ? `not a WAV file with audio (${audio.bytes.length} bytes)`
          : null;
  if (problem) ctx.problems.push(`${label}: ${problem}`);
}

/** Seconds of 16-bit mono PCM after a 44-byte header, at the header's rate. */
function wavSeconds(bytes: Buffer) {
  return bytes.length > 44 ? (bytes.length - 44) / 2 / bytes.readUInt32LE(24) : Number.NaN;
}

/** When the client could know sentence `k` was complete: the delta with its last character, and the one after (the splitter needs the next character). */
function sentenceTimes(trace: ReplyTrace, reply: Reply, k: number) {
  const end = reply.ends[k]!;
  const complete = trace.deltas.find((d) => d.length >= end)?.at ?? Number.NaN;
  const certain = trace.deltas.find((d) => d.length > end)?.at ?? trace.doneAt;
  return { complete, certain };
}

// ---------------------------------------------------------------------------------------------
// 1. One user: realtime, after the reply, streaming modes

interface RealtimeSample {
  firstAudioMs: number;
  sentenceCompleteMs: number;
  sentenceCertainMs: number;
  audioEventMs: number;
  /** Direct POST of the app's own request for the first sentence, to the idle fake: time to its first body bytes. */
  synthesisMs: number;
  /** streaming_mode of the app's request for the first sentence. */
  sentMode: number | null;
  clipSeconds: number;
}

/** The fake's first body bytes for exactly `params`, sent straight to it while it is idle. */
async function directSynthesis(ctx: Context, params: unknown): Promise<number> {
  const start = performance.now();
  const response = await fetch(`${ctx.tts.url}/tts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(params) });
  const reader = response.body?.getReader();
  let firstAt = Number.NaN;
  for (;;) {
    if (!reader) break;
    const { done, value } = await reader.read();
    if (done) break;
    if (value.length > 0 && Number.isNaN(firstAt)) firstAt = performance.now();
  }
  if (response.status !== 200) throw new Error(`a direct synthesis answered HTTP ${response.status}`);
  return firstAt - start;
}

async function realtimeSample(ctx: Context, user: BenchUser, sessionId: string, label: string): Promise<{ sample: RealtimeSample; trace: ReplyTrace; reply: Reply }> {
  await ttsReady(ctx);
  const reply = nextReply();
  await setReply(ctx, reply);
  const trace = await withTimeout(
    traceReply(ctx, user, sessionId, () => fastTail(ctx)),
    label,
  );
  checkReply(ctx, label, trace, reply);
  checkSpeech(ctx, label, trace.clips, trace.speechErrors, reply);
  const first = trace.clips[0];
  if (!first || first.index !== 0) throw new Error(`${label}: the first sentence's audio never arrived`);
  const { complete, certain } = sentenceTimes(trace, reply, 0);
  const request = (await ttsRequests(ctx)).findLast((r) => r.path === "/tts" && (r.params as { text?: unknown }).text === reply.spoken[0]);
  if (!request) throw new Error(`${label}: the fake has no request for the first sentence`);
  await ttsReady(ctx);
  const synthesisMs = await directSynthesis(ctx, request.params);
  const sentMode = (request.params as { streaming_mode?: unknown }).streaming_mode;
  return {
    reply,
    trace,
    sample: {
      firstAudioMs: first.audio.firstByteAt - trace.start,
      sentenceCompleteMs: complete - trace.start,
      sentenceCertainMs: certain - trace.start,
      audioEventMs: first.eventAt - trace.start,
      synthesisMs,
      sentMode: typeof sentMode === "number" ? sentMode : sentMode === true ? 1 : sentMode === false ? 0 : null,
      clipSeconds: wavSeconds(first.audio.bytes),
    },
  };
}

interface AfterReplySample {
  firstAudioMs: number;
  replyDoneMs: number;
  /** chat.speak subscribed → first bytes of its first clip. */
  readingToFirstBytesMs: number;
}

async function afterReplySample(ctx: Context, user: BenchUser, sessionId: string, label: string): Promise<AfterReplySample> {
  await ttsReady(ctx);
  const reply = nextReply();
  await setReply(ctx, reply);
  return withTimeout(
    (async () => {
      const trace = await traceReply(ctx, user, sessionId);
      checkReply(ctx, label, trace, reply);
      if (trace.clips.length > 0) ctx.problems.push(`${label}: a chat that speaks on click spoke while writing`);
      // The reply is complete (its final event is in): read it aloud now.
      const reading = await readAloud(ctx, user, trace.messageId, () => fastTail(ctx));
      checkSpeech(ctx, `${label} (chat.speak)`, reading.clips, reading.errors, reply);
      const first = reading.clips[0];
      if (!first) throw new Error(`${label}: chat.speak gave no audio`);
      return {
        firstAudioMs: first.audio.firstByteAt - trace.start,
        replyDoneMs: trace.doneAt - trace.start,
        readingToFirstBytesMs: first.audio.firstByteAt - reading.start,
      };
    })(),
    label,
  );
}

/** The whole reply as one WAV (what chat.complete's audioUrl points to), fetched when the reply is complete. */
async function downloadSample(ctx: Context, user: BenchUser, sessionId: string, label: string) {
  await ttsReady(ctx);
  const reply = nextReply();
  await setReply(ctx, reply);
  return withTimeout(
    (async () => {
      const trace = await traceReply(ctx, user, sessionId);
      checkReply(ctx, label, trace, reply);
      const audio = await fetchAudio(ctx, `/api/messages/${trace.messageId}/audio`, undefined, user.cookie);
      checkWav(ctx, label, audio);
      return { firstAudioMs: audio.firstByteAt - trace.start, seconds: wavSeconds(audio.bytes) };
    })(),
    label,
  );
}

// ---------------------------------------------------------------------------------------------
// 2. The cache: the same sentences again

interface CacheFigures {
  /** Per sentence: the client could know it was complete → its audio event. */
  hitMs: number[];
  /** Per sentence: … → its clip's first bytes (the fetch included). */
  hitToBytesMs: number[];
  /** Per clip: the fetch alone. */
  fetchMs: number[];
  /** chat.speak of an already spoken reply: subscribed → first bytes of its first clip. */
  replayMs: number[];
  syntheses: number;
}

async function benchCache(ctx: Context, user: BenchUser, characterId: string, spoken: { reply: Reply; messageId: string }[]): Promise<CacheFigures> {
  await ttsReady(ctx);
  const figures: CacheFigures = { hitMs: [], hitToBytesMs: [], fetchMs: [], replayMs: [], syntheses: 0 };
  const before = await ttsStats(ctx);
  const sessionId = await newChat(user, characterId, { ttsMode: "realtime", sovitsStreamingMode: 0 });
  for (const [i, { reply, messageId }] of spoken.entries()) {
    // The same reply written again, in another chat: every sentence is in the cache.
    await setReply(ctx, reply);
    const label = `cache, same reply again #${i + 1}`;
    const trace = await withTimeout(traceReply(ctx, user, sessionId), label);
    checkReply(ctx, label, trace, reply);
    checkSpeech(ctx, label, trace.clips, trace.speechErrors, reply);
    for (const clip of trace.clips) {
      const { certain } = sentenceTimes(trace, reply, clip.index);
      figures.hitMs.push(clip.eventAt - certain);
      figures.hitToBytesMs.push(clip.audio.firstByteAt - certain);
      figures.fetchMs.push(clip.audio.firstByteAt - clip.audio.requestedAt);
    }
    // The spoken reply read aloud again: its clips are on the message.
    const replay = `cache, spoken reply read aloud again #${i + 1}`;
    const reading = await withTimeout(readAloud(ctx, user, messageId), replay);
    checkSpeech(ctx, replay, reading.clips, reading.errors, reply);
    if (reading.clips[0]) figures.replayMs.push(reading.clips[0].audio.firstByteAt - reading.start);
  }
  figures.syntheses = (await ttsStats(ctx)).syntheses - before.syntheses;
  return figures;
}

// ---------------------------------------------------------------------------------------------
// 3. Five users at once against the serial TTS

interface FairUser extends BenchUser {
  sessionId: string;
  topK: number;
  firstAudioMs: number[];
  positions: number[];
}

/** Five users, each with a character of their own whose voice differs (so their sentences are different clips). */
async function fairUsers(ctx: Context, presetVoiceId: string): Promise<FairUser[]> {
  const [preset] = await ctx.database.db.select().from(voices).where(eq(voices.id, presetVoiceId)).limit(1);
  if (!preset) throw new Error("the preset voice is missing");
  const users: FairUser[] = [];
  for (let i = 0; i < USERS; i += 1) {
    const label = String.fromCharCode(65 + i);
    const user = await createUser(ctx.database);
    const topK = 20 + i;
    const [voice] = await ctx.database.db
      .insert(voices)
      .values({ ownerId: user.id, name: `bench ${label}`, refAudioPath: preset.refAudioPath, promptText: preset.promptText, promptLang: preset.promptLang, params: { ...preset.params, topK } })
      .returning({ id: voices.id });
    const [character] = await ctx.database.db
      .insert(characters)
      .values({ ownerId: user.id, name: `Bench ${label}`, persona: "A cheerful student who loves astronomy.", voiceId: voice!.id })
      .returning({ id: characters.id });
    const cookie = (await signedInCookie(ctx.database.db, user, { secret: AUTH_SECRET })).cookie;
    const bench: BenchUser = { label, client: createAppClient(ctx.baseUrl, cookie), cookie };
    const sessionId = await newChat(bench, character!.id, { ttsMode: "realtime", sovitsStreamingMode: 0 });
    users.push({ ...bench, sessionId, topK, firstAudioMs: [], positions: [] });
  }
  return users;
}

async function benchFairness(ctx: Context, users: FairUser[]) {
  const turnOrders: string[] = [];
  for (let round = 0; round < FAIR_ROUNDS; round += 1) {
    await ttsReady(ctx);
    const reply = nextReply();
    await setReply(ctx, reply);
    const order = users.map((_, i) => users[(i + round) % users.length]!);
    log(`five users at once, round ${round + 1}/${FAIR_ROUNDS}: sent in the order ${order.map((u) => u.label).join("")}`);
    let firstAudios = 0;
    const traces = await withTimeout(
      Promise.all(
        order.map((user) =>
          traceReply(ctx, user, user.sessionId, () => {
            firstAudios += 1;
            if (firstAudios === users.length) fastTail(ctx);
          }),
        ),
      ),
      `round ${round + 1} of five users`,
    );
    const arrivals: { user: FairUser; at: number }[] = [];
    const certain: { user: FairUser; at: number }[] = [];
    for (const [i, trace] of traces.entries()) {
      const user = order[i]!;
      const label = `five users, round ${round + 1}, user ${user.label}`;
      checkReply(ctx, label, trace, reply);
      checkSpeech(ctx, label, trace.clips, trace.speechErrors, reply);
      const first = trace.clips[0];
      if (!first) throw new Error(`${label}: no audio`);
      user.firstAudioMs.push(first.audio.firstByteAt - trace.start);
      arrivals.push({ user, at: first.audio.firstByteAt });
      certain.push({ user, at: sentenceTimes(trace, reply, 0).certain });
    }
    certain.sort((a, b) => a.at - b.at);
    arrivals.sort((a, b) => a.at - b.at);
    arrivals.forEach(({ user }, i) => user.positions.push(i + 1));
    // Whose sentence GPT-SoVITS was given, in order: turns should go round the users.
    const spoken = new Set(reply.spoken);
    const byTopK = new Map(users.map((u) => [u.topK, u.label]));
    const sequence = (await ttsRequests(ctx))
      .filter((r) => r.path === "/tts" && spoken.has(String((r.params as { text?: unknown }).text)))
      .map((r) => byTopK.get(Number((r.params as { top_k?: unknown }).top_k)) ?? "?");
    const waves = Array.from({ length: Math.ceil(sequence.length / users.length) }, (_, i) => sequence.slice(i * users.length, (i + 1) * users.length).join(""));
    turnOrders.push(
      `${waves.join(" ")}  (first sentences complete at the client in the order ${certain.map((c) => c.user.label).join("")}, ` +
        `within ${ms(certain.at(-1)!.at - certain[0]!.at)} ms)`,
    );
    if (sequence.length !== users.length * reply.spoken.length) {
      ctx.problems.push(`five users, round ${round + 1}: GPT-SoVITS got ${sequence.length} requests for ${users.length * reply.spoken.length} sentences`);
    }
    if (waves.some((wave) => new Set(wave).size !== wave.length)) {
      ctx.problems.push(`five users, round ${round + 1}: turns did not go round the users (${waves.join(" ")})`);
    }
  }
  return { turnOrders };
}

// ---------------------------------------------------------------------------------------------
// Report

const p50 = (values: number[]) => percentile(values, 50);
const p99 = (values: number[]) => percentile(values, 99);
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

interface SingleUserFigures {
  realtime: RealtimeSample[];
  streaming: Map<2 | 3, RealtimeSample[]>;
  afterReply: AfterReplySample[];
  download: { firstAudioMs: number; seconds: number }[];
}

function printSingleUser(figures: SingleUserFigures) {
  const { realtime, afterReply, download, streaming } = figures;
  const row = (label: string, values: number[]) => [label, "", String(values.length), ms(p50(values)), ms(p99(values))];
  console.log(`\n1. Time from send to first audio bytes at the client, one user (ms)\n`);
  console.log("   first audio bytes = the first clip's URL fetched the moment its `audio` event arrives, to the first bytes of its body\n");
  console.log(
    table(
      ["path", "", "samples", "p50", "p99"],
      [
        row("realtime (ttsMode realtime), streaming mode 0", realtime.map((s) => s.firstAudioMs)),
        row("after the reply: chat.speak when the reply is complete (on_click)", afterReply.map((s) => s.firstAudioMs)),
        row("after the reply: the reply's WAV download (chat.complete's audioUrl)", download.map((s) => s.firstAudioMs)),
        ...[...streaming].map(([mode, samples]) => row(`realtime, sovitsStreamingMode ${mode}`, samples.map((s) => s.firstAudioMs))),
      ],
    ),
  );
  const realtimeP50 = p50(realtime.map((s) => s.firstAudioMs));
  const soonerSpeak = p50(afterReply.map((s) => s.firstAudioMs)) / realtimeP50;
  const soonerDownload = p50(download.map((s) => s.firstAudioMs)) / realtimeP50;
  console.log(`\n   reply complete at the client: p50 ${ms(p50(afterReply.map((s) => s.replyDoneMs)))} ms after send; chat.speak subscribed → first bytes p50 ${ms(p50(afterReply.map((s) => s.readingToFirstBytesMs)))} ms`);
  console.log(`   audio per first sentence: ${realtime.map((s) => s.clipSeconds.toFixed(2)).join(", ")} s; whole reply (download): ${download.map((s) => s.seconds.toFixed(1)).join(", ")} s`);
  console.log(`\n   realtime vs after the reply (chat.speak): ${ratio(soonerSpeak)} sooner (target ≥ ${TARGETS.soonerRatio}×) → ${verdict(soonerSpeak >= TARGETS.soonerRatio)}`);
  console.log(`   realtime vs after the reply (whole WAV):  ${ratio(soonerDownload)} sooner (target ≥ ${TARGETS.soonerRatio}×) → ${verdict(soonerDownload >= TARGETS.soonerRatio)}`);
  for (const [mode, samples] of streaming) {
    const modes = [...new Set(samples.map((s) => String(s.sentMode)))].join("/");
    console.log(
      `   streaming mode ${mode} vs mode 0: ${ratio(realtimeP50 / p50(samples.map((s) => s.firstAudioMs)))} sooner ` +
        `(the app sent GPT-SoVITS streaming_mode ${modes}${modes === String(mode) ? "" : ` — mode ${mode} not honoured`})`,
    );
  }

  console.log(`\n2. Realtime first audio, broken down (ms after send; p50 of the samples, worst sample's slack in brackets)\n`);
  console.log("   sentence complete = the delta carrying the first sentence's last character arrives at the client");
  console.log("   boundary certain = the next delta (the splitter needs the character after the full stop)");
  console.log("   one synthesis = the app's own request for the first sentence POSTed straight to the idle fake: time to its first body bytes");
  console.log("   slack = first audio bytes − (sentence complete + one synthesis)\n");
  const rows = [["mode 0", realtime] as const, ...[...streaming].map(([mode, samples]) => [`mode ${mode}`, samples] as const)].map(([label, samples]) => {
    const slack = samples.map((s) => s.firstAudioMs - s.sentenceCompleteMs - s.synthesisMs);
    const pick = (f: (s: RealtimeSample) => number) => ms(p50(samples.map(f)));
    return [
      label,
      "",
      pick((s) => s.sentenceCompleteMs),
      pick((s) => s.sentenceCertainMs - s.sentenceCompleteMs),
      pick((s) => s.synthesisMs),
      pick((s) => s.audioEventMs),
      pick((s) => s.firstAudioMs),
      `${ms(p50(slack))} (${ms(Math.max(...slack))})`,
      `${verdict(p50(slack) <= TARGETS.realtimeSlackMs)}`,
    ];
  });
  console.log(table(["streaming", "", "sentence complete", "+ until certain", "one synthesis", "audio event", "first bytes", "slack", `≤ ${TARGETS.realtimeSlackMs} ms`], rows));
  const parts = realtime.map((s) => s.firstAudioMs - s.sentenceCertainMs - s.synthesisMs);
  console.log(`\n   mode 0, the app's own share (first bytes − boundary certain − one synthesis): p50 ${ms(p50(parts))} ms; ` + `event → first bytes (the clip's fetch): p50 ${ms(p50(realtime.map((s) => s.firstAudioMs - s.audioEventMs)))} ms`);
}

function printCache(figures: CacheFigures) {
  console.log(`\n3. Cache hits — the same replies again (ms; ${figures.hitMs.length} sentences, ${figures.replayMs.length} readings)\n`);
  console.log(
    table(
      ["what", "", "p50", "p99"],
      [
        ["realtime, sentence certain at the client → its audio event", "", ms(p50(figures.hitMs)), ms(p99(figures.hitMs))],
        ["realtime, sentence certain → the clip's first bytes", "", ms(p50(figures.hitToBytesMs)), ms(p99(figures.hitToBytesMs))],
        ["the clip's fetch alone (/api/audio/<key>)", "", ms(p50(figures.fetchMs)), ms(p99(figures.fetchMs))],
        ["a spoken reply read aloud again: chat.speak subscribed → first bytes", "", ms(p50(figures.replayMs)), ms(p99(figures.replayMs))],
      ],
    ),
  );
  console.log(
    `\n   cache hit p50 ${ms(p50(figures.hitMs))} ms (≤ ${TARGETS.cacheHitMs}) → ${verdict(p50(figures.hitMs) <= TARGETS.cacheHitMs)}; ` +
      `with the fetch ${ms(p50(figures.hitToBytesMs))} ms → ${verdict(p50(figures.hitToBytesMs) <= TARGETS.cacheHitMs)}; ` +
      `TTS calls: ${figures.syntheses} (target 0) → ${verdict(figures.syntheses === 0)}`,
  );
}

function printFairness(users: FairUser[], turnOrders: string[], synthesisMs: number) {
  console.log(`\n4. Five users at once against the serial TTS — ${FAIR_ROUNDS} rounds, the send order rotating (ms from each user's send to its first audio bytes)\n`);
  console.log(`   each user chats with a character of their own (voices differing in top_k: different clips); p99 of ${FAIR_ROUNDS} samples is the worst\n`);
  console.log(
    table(
      ["user", "", "p50", "p99", "mean", "place served per round"],
      users.map((u) => [u.label, "", ms(p50(u.firstAudioMs)), ms(p99(u.firstAudioMs)), ms(mean(u.firstAudioMs)), u.positions.join(" ")]),
    ),
  );
  const all = users.flatMap((u) => u.firstAudioMs);
  const means = users.map((u) => mean(u.firstAudioMs));
  const fairness = Math.max(...means) / mean(all);
  console.log(`\n   all users: p50 ${ms(p50(all))}, p99 ${ms(p99(all))} ms; one synthesis ≈ ${ms(synthesisMs)} ms, so the k-th served waits ≈ k of them`);
  console.log(`   worst user's mean wait / mean of all: ${ratio(fairness)} (1.00× = every user waited alike on average)`);
  console.log(`   order GPT-SoVITS got the sentences in, per round (one letter per user, a space every ${USERS} requests):`);
  for (const [i, order] of turnOrders.entries()) console.log(`     round ${i + 1}: ${order}`);
}

// ---------------------------------------------------------------------------------------------

async function presetSpeakingCharacter(database: Db) {
  const rows = await database.db
    .select({ id: characters.id, voiceId: characters.voiceId })
    .from(characters)
    .innerJoin(voices, eq(voices.id, characters.voiceId))
    .where(isNull(characters.ownerId))
    .orderBy(asc(characters.id));
  const row = rows.find((r) => r.id === "preset-hermione") ?? rows[0];
  if (!row?.voiceId) throw new Error("no preset character with a voice was seeded");
  return { characterId: row.id, voiceId: row.voiceId };
}

async function setUp() {
  ensureBuild();
  const tempDir = await mkdtemp(path.join(os.tmpdir(), "af-bench-"));
  // Postgres runs as its own user when we are root: it must be able to enter the directory.
  await chmod(tempDir, 0o755);
  onCleanup("temp dir", () => rm(tempDir, { recursive: true, force: true }));

  const first = nextReply();
  const ollama = await startFake({ reply: first.text, args: ["--delay", String(TOKEN_DELAY_MS), "--parallel", String(LLM_PARALLEL)] });
  const tts = await startFake({
    reply: "",
    script: "sovits",
    args: ["--latency", String(TTS_LATENCY_MS), "--per-audio-second", String(TTS_PER_AUDIO_SECOND_MS)],
  });

  log("starting Postgres and the app (next start)");
  const database = await startDatabase(tempDir);
  const { baseUrl, output } = await startApp({
    databaseUrl: database.url,
    ollamaUrl: ollama.url,
    tempDir,
    env: { SOVITS_URL: tts.url, OLLAMA_NUM_PARALLEL: String(LLM_PARALLEL) },
  });
  log(`app on ${baseUrl}; fake Ollama ${ollama.url} (${TOKEN_DELAY_MS} ms/token, ${LLM_PARALLEL} at once); fake GPT-SoVITS ${tts.url} (serial)`);
  const ctx: Context = { baseUrl, ollama, tts, database, problems: [] };

  const user = await createUser(database);
  const cookie = (await signedInCookie(database.db, user, { secret: AUTH_SECRET })).cookie;
  const solo: BenchUser = { label: "solo", client: createAppClient(baseUrl, cookie), cookie };
  const preset = await presetSpeakingCharacter(database);
  return { ctx, output, solo, preset, warmUpReply: first };
}

/** Every route once (send with speech, the clip, chat.speak, the download) at instant synthesis, so no sample pays a cold start. */
async function warmUp(ctx: Context, user: BenchUser, characterId: string, reply: Reply) {
  log("warm-up: one realtime reply, read aloud again and downloaded, at instant synthesis");
  await ctx.tts.control("/__control", { latencyMs: 0, perAudioSecondMs: 0 });
  const sessionId = await newChat(user, characterId, { ttsMode: "realtime", sovitsStreamingMode: 0 });
  const trace = await withTimeout(traceReply(ctx, user, sessionId), "the warm-up reply");
  checkReply(ctx, "warm-up", trace, reply);
  checkSpeech(ctx, "warm-up", trace.clips, trace.speechErrors, reply);
  const reading = await withTimeout(readAloud(ctx, user, trace.messageId), "the warm-up reading");
  checkSpeech(ctx, "warm-up (chat.speak)", reading.clips, reading.errors, reply);
  checkWav(ctx, "warm-up download", await fetchAudio(ctx, `/api/messages/${trace.messageId}/audio`, undefined, user.cookie));
}

async function main() {
  const started = performance.now();
  const { ctx, output, solo, preset, warmUpReply } = await setUp();
  await warmUp(ctx, solo, preset.characterId, warmUpReply);

  const chats = {
    realtime: await newChat(solo, preset.characterId, { ttsMode: "realtime", sovitsStreamingMode: 0 }),
    onClick: await newChat(solo, preset.characterId, { ttsMode: "on_click", sovitsStreamingMode: 0 }),
    mode2: await newChat(solo, preset.characterId, { ttsMode: "realtime", sovitsStreamingMode: 2 }),
    mode3: await newChat(solo, preset.characterId, { ttsMode: "realtime", sovitsStreamingMode: 3 }),
  };
  const single: SingleUserFigures = { realtime: [], afterReply: [], download: [], streaming: new Map([[2, []], [3, []]]) };
  const spoken: { reply: Reply; messageId: string }[] = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    log(`one user, round ${i + 1}/${SAMPLES}: realtime, after the reply, streaming modes 2 and 3`);
    const realtime = await realtimeSample(ctx, solo, chats.realtime, `realtime #${i + 1}`);
    single.realtime.push(realtime.sample);
    spoken.push({ reply: realtime.reply, messageId: realtime.trace.messageId });
    single.afterReply.push(await afterReplySample(ctx, solo, chats.onClick, `after the reply #${i + 1}`));
    single.streaming.get(2)!.push((await realtimeSample(ctx, solo, chats.mode2, `streaming mode 2 #${i + 1}`)).sample);
    single.streaming.get(3)!.push((await realtimeSample(ctx, solo, chats.mode3, `streaming mode 3 #${i + 1}`)).sample);
  }
  log("one user: the whole reply's WAV download after the reply (one sample: six syntheses in a row)");
  single.download.push(await downloadSample(ctx, solo, chats.onClick, "download"));

  log("cache: the realtime replies written again, and read aloud again");
  const cache = await benchCache(ctx, solo, preset.characterId, spoken);

  const users = await fairUsers(ctx, preset.voiceId);
  const { turnOrders } = await benchFairness(ctx, users);
  await ttsReady(ctx);
  const elapsed = (performance.now() - started) / 1000;

  console.log(
    `\nSpeech benchmark — fake Ollama ${TOKEN_DELAY_MS} ms per token (~30 tokens/s); fake GPT-SoVITS one request at a time, ` +
      `first audio ${TTS_LATENCY_MS} ms + ${TTS_PER_AUDIO_SECOND_MS / 1000} × the audio's length; replies of six English sentences ` +
      `(${warmUpReply.text.split(/\s+/).length} tokens). Ran ${elapsed.toFixed(0)} s.`,
  );
  printSingleUser(single);
  printCache(cache);
  printFairness(users, turnOrders, p50(single.realtime.map((s) => s.synthesisMs)));

  console.log(`\n5. What the app got wrong: ${ctx.problems.length === 0 ? "nothing seen (every reply's text arrived whole; every clip arrived, in order, as a valid WAV)" : `${ctx.problems.length} problem(s)`}`);
  for (const problem of ctx.problems.slice(0, 30)) console.log(`  ✖ ${problem}`);
  const complaints = output.matching(/\[trpc\]|\[chat\]|\[speech\]|error|warn/i);
  console.log(`\nApp log: ${complaints.length} warning/error line(s)${complaints.length ? ":" : "."}`);
  for (const line of complaints.slice(0, 15)) console.log(`  ${line}`);
}

await run(main);
