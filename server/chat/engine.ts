import { and, count, DrizzleQueryError, eq, sql } from "drizzle-orm";
import { env } from "@/lib/env.mjs";
import type { Database } from "@/server/db";
import { chatSessions, messages, type Message } from "@/server/db/schema";
import { DomainError } from "@/server/errors";
import { findChat, type ChatView } from "@/server/sessions/chat-character";
import { CHANNELS, listen } from "@/server/db/notify";
import { contextWindow, llmError, streamChat } from "@/server/llm/ollama";
import { renewTurn, waitForTurn, type Turn } from "@/server/llm/scheduler";
import { ollamaHosts } from "@/server/llm/servers";
import { updateScale } from "./budget";
import { composePrompt } from "./compose";
import { LiveReply, liveReplies, type FinalEvent, type FinishReason, type ReplyStats } from "./live-reply";
import { foldOlderTurns, takeFoldedTurns, unsummarizedTurns, type PromptTurnRow } from "./memory";
import { toChatMessages } from "./prompt";
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
  /**
   * The reply's text so far, when it is continued (it was cut off or stopped): sent as the last
   * assistant message, which the model carries on, and the new text is appended to it.
   */
  continueFrom?: string;
}

const stopHolder = globalThis as unknown as { afStopRequests?: Map<string, () => void> };
/** Stop handles of the replies this process is writing, by message id. */
export const stopRequests: Map<string, () => void> = (stopHolder.afStopRequests ??= new Map());

export { unsummarizedTurns, type PromptTurnRow };

const listening = new WeakSet<object>();

/**
 * Stop pressed on another instance arrives as a notification; the instance writing the reply
 * stops it exactly as a local Stop would. One subscription per pool.
 */
function hearStops(db: Database) {
  if (listening.has(db.$client)) return;
  listening.add(db.$client);
  void listen(db, CHANNELS.stop, (messageId) => stopRequests.get(messageId)?.());
}

/**
 * What the prompt is built from, when the caller already has it (the send path loads it early).
 * The character is the one the chat's user may still see (live or the chat's snapshot).
 */
export interface PromptInputs {
  session: ChatView["session"];
  character: ChatView["character"];
  /** the chat's persona (who the user plays), if any */
  persona: ChatView["persona"];
  turns: PromptTurnRow[];
}

async function loadPromptInputs(db: Database, reply: Message): Promise<PromptInputs> {
  const [chat, turns] = await Promise.all([
    findChat(db, eq(chatSessions.id, reply.sessionId)),
    unsummarizedTurns(db, reply.sessionId, reply.seq),
  ]);
  if (!chat) throw new DomainError("not_found", "The chat was deleted.");
  return { session: chat.session, character: chat.character, persona: chat.persona, turns };
}

/**
 * Builds the prompt within the model's context window: system prompt, running summary as it is,
 * then the recent turns that fit (the oldest that don't are left out). Summarising never delays
 * a reply: older turns are folded after one (see foldOlderTurns), and the next reply says so.
 */
async function preparePrompt(db: Database, job: ReplyJob, live: LiveReply) {
  const { session, character, persona, turns } = job.inputs ?? (await loadPromptInputs(db, job.reply));
  const folded = takeFoldedTurns(session.id);
  if (folded > 0) live.notice({ type: "notice", kind: "memory_summarized", turns: folded });
  const window = await contextWindow(session.model);
  // A continued reply goes last, as the assistant message Ollama carries on.
  const composed = composePrompt({ session, character, persona, accountName: job.userName, turns, window, continueFrom: job.continueFrom });
  const prompt = toChatMessages(composed.messages);
  return { session, character, prompt, system: composed.system, userName: composed.userName, window, estimate: composed.estimate };
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
async function saveFinished(db: Database, reply: Message, event: FinalEvent, thinking: string, tokenScale: number | null) {
  const final = event.type === "done" ? event.stats : null;
  await db.execute(sql`
    with saved as (
      update ${messages}
      set content = ${event.content}, status = ${event.status}::message_status,
          finish_reason = ${event.type === "done" ? event.finishReason : null},
          thinking = coalesce(nullif(${thinking}, ''), thinking),
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
  if (job.continueFrom) live.append(job.continueFrom);
  liveReplies.set(reply.id, live);
  let stopped = false;
  let abortUpstream: (() => void) | null = null;
  let speaker: ReplySpeaker | null = null;
  let turn: Turn | null = null;
  // Stop reaches every stage: the queue wait and the request before its headers (loading) through
  // this signal, the stream through abortUpstream, the speech through the speaker.
  const stopping = new AbortController();
  const stop = () => {
    stopped = true;
    stopping.abort(new DOMException("Stopped", "AbortError"));
    abortUpstream?.();
    speaker?.cancel();
  };
  stopRequests.set(reply.id, stop);
  hearStops(db);
  const heartbeat = setInterval(() => {
    void renewSlot(db, reply.id).catch(() => {});
    void renewTurn(db, reply.id).catch(() => {});
  }, heartbeatMs());
  heartbeat.unref();

  const started = performance.now();
  let firstTokenAt: number | null = null;
  let lastFlushed = 0;
  let flushing: Promise<unknown> = Promise.resolve();
  const flush = () => {
    lastFlushed = performance.now();
    const { text: content, thinking } = live;
    flushing = flushing
      .then(async () => {
        // Saved and announced in one round trip: readers on other instances follow the notice.
        const saved = await db.execute(sql`
          with saved as (
            update ${messages} set content = ${content}, thinking = coalesce(${thinking || null}, thinking), updated_at = now()
            where id = ${reply.id} and status = 'streaming' returning id)
          select pg_notify(${CHANNELS.reply}, id) from saved`);
        // No longer being written (closed as stopped elsewhere, or the chat was cleared): stop here.
        if (saved.length === 0 && !stopped) stop();
      })
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
    let finishReason: FinishReason = "stop";
    let idle: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    try {
      const { session, character, prompt, system, userName, window, estimate } = await preparePrompt(db, job, live);
      // A continued reply is not spoken as it is written: its beginning was (or was not) already.
      if (session.settings.ttsMode === "realtime" && !stopped && job.continueFrom === undefined) {
        const voice = await speakingVoice(db, character.voiceId);
        if (voice) speaker = new ReplySpeaker(db, voice, live, reply.id, session.settings.sovitsStreamingMode);
      }
      if (stopped) return finishWith({ type: "done", status: "stopped", content: live.text, stats: stats(usage), finishReason: null });
      // Wait for the LLM server in the app's queue (shown, cancellable), never in Ollama's.
      live.setStage("queued", 0);
      let stream: Awaited<ReturnType<typeof streamChat>>;
      for (let attempt = 1; ; attempt++) {
        turn = await waitForTurn(db, {
          messageId: reply.id,
          userId: session.userId,
          model: session.model,
          signal: stopping.signal,
          onWaiting: (ahead) => live.setStage("queued", ahead),
        });
        // Until the first token: the model loads (cold or after a change) and reads the prompt.
        live.setStage("loading");
        try {
          stream = await streamChat({
            host: turn.server.url,
            signal: stopping.signal,
            model: session.model,
            messages: prompt,
            temperature: session.settings.temperature,
            maxTokens: session.settings.maxTokens,
            // A continuation carries on the answer: the thinking before it is done.
            think: session.settings.think && job.continueFrom === undefined,
          });
          break;
        } catch (error) {
          // A server of a pool that can't be reached is skipped from now on: the reply goes to
          // another one before anything was written. The place is given back before it is taken
          // again: a release landing after the new place would delete it, and the reply would
          // wait for a turn that no longer exists.
          await turn.release().catch(() => {});
          turn = null;
          const unreachable = error instanceof DomainError && error.code === "llm_unreachable";
          if (!unreachable || stopped || attempt >= ollamaHosts().length) throw error;
        }
      }
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
        const thought = chunk.message?.thinking ?? "";
        const text = chunk.message?.content ?? "";
        if (thought || text) {
          firstTokenAt ??= performance.now();
          live.setStage(text ? "writing" : "thinking");
          live.appendThinking(thought);
          live.append(text);
          if (text) speaker?.push(text);
          if (performance.now() - lastFlushed >= FLUSH_INTERVAL_MS) flush();
        }
        if (chunk.done) {
          usage = { promptTokens: chunk.prompt_eval_count, completionTokens: chunk.eval_count, evalNs: chunk.eval_duration };
          // "length": cut off by num_predict (thinking counts against it too).
          finishReason = chunk.done_reason === "length" ? "length" : "stop";
        }
      }
      clearTimeout(idle);
      // The server is free for the next reply as soon as the stream ends.
      void turn?.release().catch((error: unknown) => console.warn("[chat] could not free the LLM server", error));
      if (live.speaking) live.setStage("speaking");
      // The real prompt size corrects this chat's token estimates from now on.
      const tokenScale = usage.promptTokens ? updateScale(session.tokenScale, usage.promptTokens, estimate) : null;
      const status = stopped ? "stopped" : "complete";
      if (status === "complete") speaker?.finish();
      else speaker?.cancel();
      await finishWith({ type: "done", status, content: live.text, stats: stats(usage), finishReason: status === "complete" ? finishReason : null }, tokenScale);
      if (status !== "complete") return;
      // The reply is saved: naming the chat and folding its memory can no longer delay it or change how it ended.
      if (!session.title) void nameChat(session).catch((error: unknown) => console.warn("[chat] could not name the chat", error));
      const names = { char: character.name, user: userName };
      const scale = tokenScale ?? session.tokenScale ?? 1;
      void foldOlderTurns(db, { sessionId: session.id, userId: session.userId, model: session.model, names, system, window, maxTokens: session.settings.maxTokens, scale }).catch(
        (error: unknown) => console.warn("[chat] could not fold older turns", error),
      );
    } catch (error) {
      clearTimeout(idle);
      void turn?.release().catch(() => {});
      speaker?.cancel();
      if (stopped) return finishWith({ type: "done", status: "stopped", content: live.text, stats: stats(usage), finishReason: null });
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
    await generateTitle(db, { sessionId: session.id, userId: session.userId, model: session.model, userText, replyText: live.text });
  };

  const finishWith = async (event: FinalEvent, tokenScale: number | null = null) => {
    clearInterval(heartbeat);
    await flushing;
    try {
      await saveFinished(db, reply, event, live.thinking, tokenScale);
    } catch (error) {
      console.error("[chat] could not save a finished reply", error);
      await releaseSlot(db, reply.id).catch((error: unknown) => console.error("[chat] could not release a slot", error));
    }
    live.finish(event);
    // Readers attached now get the final event from memory; later ones read the database.
    // (After its speech, when it speaks: readers keep following it, and Stop still reaches the
    // speech, until then.)
    void live.settled().then(() => {
      stopRequests.delete(reply.id);
      setTimeout(() => liveReplies.delete(reply.id), 5_000).unref();
    });
  };

  void run();
}
