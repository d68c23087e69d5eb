import { and, asc, count, DrizzleQueryError, eq, lt, ne, sql } from "drizzle-orm";
import { env } from "@/lib/env.mjs";
import type { Database } from "@/server/db";
import { chatSessions, messages, type Message } from "@/server/db/schema";
import { DomainError } from "@/server/errors";
import { findChat, type ChatView } from "@/server/sessions/chat-character";
import { contextWindow, llmError, streamChat } from "@/server/llm/ollama";
import { budgetFor, estimateMessages, estimateTokens, recentTurnsThatFit, updateScale, VERBATIM_TURNS } from "./budget";
import { LiveReply, liveReplies, type FinalEvent, type ReplyStats } from "./live-reply";
import { summariseTurns } from "./memory";
import { buildChatMessages, buildSystemPrompt, type PromptTurn } from "./prompt";
import { heartbeatMs, releaseSlot, releaseSlotStatement, renewSlot } from "./slots";
import { ReplySpeaker, speakingVoice } from "./speaker";
import { generateTitle } from "./title";

/** How often a growing reply is written to the database, so a crash loses at most this much. */
export const FLUSH_INTERVAL_MS = 400;

export interface ReplyJob {
  reply: Message;
  userName: string;
  /** Already loaded by the caller; otherwise read from the database. */
  inputs?: PromptInputs;
}

const stopHolder = globalThis as unknown as { afStopRequests?: Map<string, () => void> };
/** Stop handles of the replies this process is writing, by message id. */
export const stopRequests: Map<string, () => void> = (stopHolder.afStopRequests ??= new Map());

export type PromptTurnRow = PromptTurn & { seq: number };

/**
 * The part of the chat the running summary does not cover yet (before `beforeSeq`, when given),
 * as the prompt sees it: active, finished, non-empty turns. One query, whatever the chat's length.
 */
export async function unsummarizedTurns(db: Database, sessionId: string, beforeSeq?: number): Promise<PromptTurnRow[]> {
  const rows = await db
    .select({ role: messages.role, content: messages.content, seq: messages.seq, status: messages.status })
    .from(messages)
    .where(
      and(
        eq(messages.sessionId, sessionId),
        eq(messages.active, true),
        ne(messages.status, "error"),
        beforeSeq === undefined ? undefined : lt(messages.seq, beforeSeq),
        sql`${messages.seq} > coalesce((select ${chatSessions.summaryThroughSeq} from ${chatSessions} where ${chatSessions.id} = ${sessionId}), 0)`,
      ),
    )
    .orderBy(asc(messages.seq));
  return rows
    .filter((m): m is typeof m & { role: "user" | "assistant" } => m.role !== "system" && m.status !== "streaming" && m.content.trim() !== "")
    .map(({ role, content, seq }) => ({ role, content, seq }));
}

/**
 * What the prompt is built from, when the caller already has it (the send path loads it early).
 * The character is the one the chat's user may still see (live or the chat's snapshot).
 */
export interface PromptInputs {
  session: ChatView["session"];
  character: ChatView["character"];
  turns: PromptTurnRow[];
}

async function loadPromptInputs(db: Database, reply: Message): Promise<PromptInputs> {
  const [chat, turns] = await Promise.all([
    findChat(db, eq(chatSessions.id, reply.sessionId)),
    unsummarizedTurns(db, reply.sessionId, reply.seq),
  ]);
  if (!chat) throw new DomainError("not_found", "The chat was deleted.");
  return { session: chat.session, character: chat.character, turns };
}

/**
 * Builds the prompt within the model's context window: system prompt, running summary, then
 * the recent turns that fit. When the whole chat would pass ~80% of the window, the older turns
 * (all but the last 16) are first folded into the summary by the LLM.
 */
async function preparePrompt(db: Database, job: ReplyJob, live: LiveReply) {
  const { session, character, turns: unsummarized } = job.inputs ?? (await loadPromptInputs(db, job.reply));
  const scale = session.tokenScale ?? 1;
  const window = await contextWindow(session.model);
  const budget = budgetFor(window, session.settings.maxTokens);
  const system = buildSystemPrompt(character, session.scenario, job.userName);
  const names = { char: character.name, user: job.userName };

  let summary = session.summary;
  let turns = unsummarized;
  const whole = estimateTokens(system, scale) + estimateTokens(summary, scale) + estimateMessages(turns, scale);
  if (whole > budget.summariseAbove && turns.length > VERBATIM_TURNS) {
    const older = turns.slice(0, -VERBATIM_TURNS);
    try {
      summary = await summariseTurns(db, { sessionId: session.id, model: session.model, numCtx: window, summary, turns: older, names });
      turns = turns.slice(-VERBATIM_TURNS);
      live.notice({ type: "notice", kind: "memory_summarized", turns: older.length });
    } catch (error) {
      // Without a new summary the reply still fits: the oldest turns are left out below.
      console.warn("[chat] could not summarise older turns", error);
    }
  }
  const available = budget.prompt - estimateTokens(system, scale) - estimateTokens(summary, scale);
  const recent = recentTurnsThatFit(turns, available, scale);
  const prompt = buildChatMessages({ character, scenario: session.scenario, userName: job.userName, summary, turns: recent });
  return { session, character, prompt, window, estimate: estimateMessages(prompt) };
}

async function isFirstExchange(db: Database, sessionId: string) {
  const [row] = await db
    .select({ n: count() })
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), eq(messages.role, "user"), eq(messages.active, true)));
  return row?.n === 1;
}

/**
 * Stores a finished reply, its chat's activity time and token scale, and frees its generation
 * slot: one statement, so the end of a reply costs one round trip, and all of it happens or
 * none does.
 */
async function saveFinished(db: Database, reply: Message, event: FinalEvent, tokenScale: number | null) {
  const final = event.type === "done" ? event.stats : null;
  await db.execute(sql`
    with saved as (
      update ${messages}
      set content = ${event.content}, status = ${event.status}::message_status,
          error_code = ${event.type === "error" ? event.code : null},
          error_params = ${event.type === "error" ? JSON.stringify(event.params) : null}::jsonb,
          prompt_tokens = ${final?.promptTokens ?? null}, completion_tokens = ${final?.completionTokens ?? null},
          ttft_ms = ${final?.timeToFirstTokenMs ?? null}, duration_ms = ${final?.durationMs ?? null},
          tokens_per_second = ${final?.tokensPerSecond ?? null}, updated_at = now()
      where id = ${reply.id}
      returning session_id
    ), chat as (
      update ${chatSessions}
      set last_message_at = now(), token_scale = coalesce(${tokenScale}::real, token_scale)
      where id = (select session_id from saved)
      returning id
    ), freed as (
      ${releaseSlotStatement(reply.id)}
      returning slot
    )
    select (select count(*) from saved) as saved, (select count(*) from chat) as chats, (select count(*) from freed) as freed`);
}

/**
 * Writes a reply in the background, independent of any reader: a closed tab or a dropped
 * connection doesn't stop it, and readers can (re)attach at any time. The caller has taken a
 * generation slot for it; it is released here whatever happens.
 */
export function startReply(db: Database, job: ReplyJob) {
  const { reply } = job;
  const live = new LiveReply(reply.id, reply.sessionId);
  liveReplies.set(reply.id, live);
  let stopped = false;
  let abortUpstream: (() => void) | null = null;
  let speaker: ReplySpeaker | null = null;
  stopRequests.set(reply.id, () => {
    stopped = true;
    abortUpstream?.();
    speaker?.cancel();
  });
  const heartbeat = setInterval(() => void renewSlot(db, reply.id).catch(() => {}), heartbeatMs());
  heartbeat.unref();

  const started = performance.now();
  let firstTokenAt: number | null = null;
  let lastFlushed = 0;
  let flushing: Promise<unknown> = Promise.resolve();
  const flush = () => {
    lastFlushed = performance.now();
    const content = live.text;
    flushing = flushing
      .then(() => db.update(messages).set({ content }).where(and(eq(messages.id, reply.id), eq(messages.status, "streaming"))))
      .catch((error: unknown) => console.error("[chat] could not save a partial reply", error));
  };

  interface Usage {
    promptTokens?: number;
    completionTokens?: number;
    evalNs?: number;
  }
  const stats = (usage: Usage): ReplyStats => ({
    promptTokens: usage.promptTokens ?? null,
    completionTokens: usage.completionTokens ?? null,
    timeToFirstTokenMs: firstTokenAt === null ? null : Math.round(firstTokenAt - started),
    durationMs: Math.round(performance.now() - started),
    tokensPerSecond:
      usage.completionTokens && usage.evalNs ? Math.round((usage.completionTokens / (usage.evalNs / 1e9)) * 10) / 10 : null,
  });

  const run = async () => {
    let usage: Usage = {};
    let idle: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    try {
      const { session, character, prompt, window, estimate } = await preparePrompt(db, job, live);
      if (session.settings.ttsMode === "realtime" && !stopped) {
        const voice = await speakingVoice(db, character.voiceId);
        if (voice) speaker = new ReplySpeaker(db, voice, live, reply.id);
      }
      if (stopped) return finishWith({ type: "done", status: "stopped", content: "", stats: stats(usage) });
      const stream = await streamChat({
        model: session.model,
        messages: prompt,
        temperature: session.settings.temperature,
        maxTokens: session.settings.maxTokens,
        numCtx: window,
      });
      // A server that stops sending (a hung model) is cut off instead of holding the chat forever.
      const idleMs = env().OLLAMA_STREAM_IDLE_MS;
      const armIdle = () => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          timedOut = true;
          stream.abort();
        }, idleMs);
      };
      abortUpstream = () => stream.abort();
      armIdle();
      if (stopped) stream.abort();
      for await (const chunk of stream) {
        armIdle();
        const text = chunk.message?.content ?? "";
        if (text) {
          firstTokenAt ??= performance.now();
          live.append(text);
          speaker?.push(text);
          if (performance.now() - lastFlushed >= FLUSH_INTERVAL_MS) flush();
        }
        if (chunk.done) usage = { promptTokens: chunk.prompt_eval_count, completionTokens: chunk.eval_count, evalNs: chunk.eval_duration };
      }
      clearTimeout(idle);
      // The real prompt size corrects this chat's token estimates from now on.
      const tokenScale = usage.promptTokens ? updateScale(session.tokenScale, usage.promptTokens, estimate) : null;
      const status = stopped ? "stopped" : "complete";
      if (status === "complete") speaker?.finish();
      else speaker?.cancel();
      await finishWith({ type: "done", status, content: live.text, stats: stats(usage) }, tokenScale);
      // The reply is saved: naming the chat can no longer change how it ended.
      if (status === "complete" && !session.title) void nameChat(session).catch((error: unknown) => console.warn("[chat] could not name the chat", error));
    } catch (error) {
      clearTimeout(idle);
      speaker?.cancel();
      if (stopped) return finishWith({ type: "done", status: "stopped", content: live.text, stats: stats(usage) });
      const domain = timedOut
        ? new DomainError("llm_timeout", `The language model stopped answering for ${Math.round(env().OLLAMA_STREAM_IDLE_MS / 1000)} s.`)
        : error instanceof DrizzleQueryError
          ? new DomainError("reply_failed", "The reply could not be saved. Your message is kept; try again.")
          : llmError(error, job.reply.model ?? "");
      if (domain.code === "reply_failed") console.error("[chat] a reply failed on the database", error);
      return finishWith({ type: "error", status: "error", content: live.text, code: domain.code, params: domain.params, message: domain.message });
    }
  };

  /** The LLM names the chat after its first exchange, in the chat's language. */
  const nameChat = async (session: PromptInputs["session"]) => {
    if (!(await isFirstExchange(db, session.id))) return;
    const userText = (await unsummarizedTurns(db, reply.sessionId, reply.seq)).findLast((t) => t.role === "user")?.content ?? "";
    await generateTitle(db, { sessionId: session.id, model: session.model, userText, replyText: live.text });
  };

  const finishWith = async (event: FinalEvent, tokenScale: number | null = null) => {
    clearInterval(heartbeat);
    await flushing;
    try {
      await saveFinished(db, reply, event, tokenScale);
    } catch (error) {
      console.error("[chat] could not save a finished reply", error);
      await releaseSlot(db, reply.id).catch((error: unknown) => console.error("[chat] could not release a slot", error));
    }
    live.finish(event);
    stopRequests.delete(reply.id);
    // Readers attached now get the final event from memory; later ones read the database.
    // (After its speech, when it speaks: readers keep following it until then.)
    void live.settled().then(() => setTimeout(() => liveReplies.delete(reply.id), 5_000).unref());
  };

  void run();
}
