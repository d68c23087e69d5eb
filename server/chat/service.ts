import { and, desc, eq, gt, inArray, sql } from "drizzle-orm";
import type { Database } from "@/server/db";
import { chatSessions, messages, type Message } from "@/server/db/schema";
import { DomainError, notFound } from "@/server/errors";
import { streamChat, llmError, type StreamChatRequest } from "@/server/llm/ollama";
import { SessionModel } from "@/server/sessions/model";
import { LiveReply, liveReplies, type FinalEvent, type PositionedEvent, type ReplyStats } from "./live-reply";
import { buildChatMessages, type PromptTurn } from "./prompt";

/** How often a growing reply is written to the database, so a crash loses at most this much. */
const FLUSH_INTERVAL_MS = 400;
/** A reply with no progress for this long, and no process writing it, was cut off by a crash. */
const ABANDONED_AFTER_MS = 30_000;
const HISTORY_TURNS = 40;

export interface SendInput {
  sessionId: string;
  clientId: string;
  text: string;
}

/** Chat actions of one signed-in user. */
export class ChatService {
  private readonly sessions: SessionModel;

  constructor(
    private readonly db: Database,
    private readonly user: { id: string; name?: string | null },
  ) {
    this.sessions = new SessionModel(db, user.id);
  }

  /**
   * Saves the user's message and starts the reply. The user message is committed before
   * anything can fail; a retried send (same clientId) returns the first send's messages.
   */
  async send(input: SendInput): Promise<{ userMessage: Message; reply: Message }> {
    const { session, character } = await this.sessions.get(input.sessionId);
    const saved = await this.db.transaction(async (tx) => {
      // Serialises sends per session: one reply at a time.
      await tx.execute(sql`select 1 from ${chatSessions} where ${chatSessions.id} = ${session.id} for update`);
      const [existing] = await tx
        .select()
        .from(messages)
        .where(and(eq(messages.sessionId, session.id), eq(messages.clientId, input.clientId)))
        .limit(1);
      if (existing) {
        const [reply] = await tx
          .select()
          .from(messages)
          .where(and(eq(messages.sessionId, session.id), gt(messages.seq, existing.seq), eq(messages.role, "assistant")))
          .orderBy(messages.seq)
          .limit(1);
        return { userMessage: existing, reply, repeated: true };
      }
      const writing = await tx
        .select({ id: messages.id, updatedAt: messages.updatedAt })
        .from(messages)
        .where(and(eq(messages.sessionId, session.id), eq(messages.status, "streaming")));
      const active = writing.filter((m) => liveReplies.has(m.id) || Date.now() - m.updatedAt.getTime() < ABANDONED_AFTER_MS);
      if (active.length > 0) {
        throw new DomainError("reply_in_progress", "The character is still replying. Wait for it or stop it first.");
      }
      const abandoned = writing.filter((m) => !active.includes(m));
      if (abandoned.length > 0) {
        await tx
          .update(messages)
          .set({ status: "stopped", error: "interrupted" })
          .where(inArray(messages.id, abandoned.map((m) => m.id)));
      }
      const [userMessage] = await tx
        .insert(messages)
        .values({ sessionId: session.id, role: "user", content: input.text, clientId: input.clientId })
        .returning();
      const [reply] = await tx
        .insert(messages)
        .values({ sessionId: session.id, role: "assistant", content: "", status: "streaming", model: session.model })
        .returning();
      await tx.update(chatSessions).set({ lastMessageAt: new Date() }).where(eq(chatSessions.id, session.id));
      return { userMessage: userMessage!, reply, repeated: false };
    });
    if (!saved.reply) throw new Error("the reply row is missing");
    if (saved.repeated) return { userMessage: saved.userMessage, reply: saved.reply };

    startReply(this.db, saved.reply, await this.replyRequest(session, character));
    return { userMessage: saved.userMessage, reply: saved.reply };
  }

  /** The request for the next reply: the prompt from everything said so far. */
  private async replyRequest(
    session: Awaited<ReturnType<SessionModel["get"]>>["session"],
    character: Awaited<ReturnType<SessionModel["get"]>>["character"],
  ): Promise<StreamChatRequest> {
    const history = (await this.sessions.turns(session.id))
      .filter((m) => m.role !== "system" && m.status !== "streaming" && m.status !== "error" && m.content.trim())
      .slice(-HISTORY_TURNS) as PromptTurn[];
    return {
      model: session.model,
      messages: buildChatMessages({
        character,
        scenario: session.scenario,
        userName: this.user.name || "User",
        summary: session.summary,
        turns: history,
      }),
      temperature: session.settings.temperature,
      maxTokens: session.settings.maxTokens,
    };
  }

  /** Writes a failed or stopped last reply again, in place; the user's message stays as it was. */
  async retry(messageId: string): Promise<Message> {
    const message = await this.ownedMessage(messageId);
    const { session, character } = await this.sessions.get(message.sessionId);
    const reply = await this.db.transaction(async (tx) => {
      await tx.execute(sql`select 1 from ${chatSessions} where ${chatSessions.id} = ${session.id} for update`);
      const [last] = await tx
        .select()
        .from(messages)
        .where(eq(messages.sessionId, session.id))
        .orderBy(desc(messages.seq))
        .limit(1);
      if (last?.id !== message.id || message.role !== "assistant" || (last.status !== "error" && last.status !== "stopped")) {
        throw new DomainError("bad_input", "Only a failed or stopped last reply can be tried again.");
      }
      const [updated] = await tx
        .update(messages)
        .set({ content: "", status: "streaming", error: null, model: session.model })
        .where(eq(messages.id, message.id))
        .returning();
      return updated!;
    });
    startReply(this.db, reply, await this.replyRequest(session, character));
    return reply;
  }

  private async ownedMessage(messageId: string) {
    const [row] = await this.db
      .select({ message: messages })
      .from(messages)
      .innerJoin(chatSessions, eq(chatSessions.id, messages.sessionId))
      .where(and(eq(messages.id, messageId), eq(chatSessions.userId, this.user.id)))
      .limit(1);
    if (!row) throw notFound("Message");
    return row.message;
  }

  /** Stops a reply: closes the connection to Ollama, keeps the text so far, marked stopped. */
  async stop(messageId: string) {
    const message = await this.ownedMessage(messageId);
    const live = liveReplies.get(message.id);
    if (live) {
      stopRequests.get(message.id)?.();
      return { stopped: true };
    }
    if (message.status === "streaming") {
      await this.db.update(messages).set({ status: "stopped" }).where(eq(messages.id, message.id));
      return { stopped: true };
    }
    return { stopped: false };
  }

  /**
   * The reply's events from `from` characters on: live from this process when it is writing
   * the reply, otherwise from the database (finished, or written by another instance).
   */
  async *follow(messageId: string, from: number, signal?: AbortSignal): AsyncGenerator<PositionedEvent> {
    const message = await this.ownedMessage(messageId);
    const live = liveReplies.get(message.id);
    if (live) {
      yield* live.follow(from, signal);
      return;
    }
    yield* followStored(this.db, message, from, signal);
  }
}

async function* followStored(
  db: Database,
  first: Message,
  from: number,
  signal?: AbortSignal,
): AsyncGenerator<PositionedEvent> {
  let message = first;
  let offset = from;
  while (!signal?.aborted) {
    if (message.content.length > offset) {
      yield { offset: message.content.length, event: { type: "delta", text: message.content.slice(offset) } };
      offset = message.content.length;
    }
    const live = liveReplies.get(message.id);
    if (live) {
      yield* live.follow(offset, signal);
      return;
    }
    if (message.status !== "streaming") {
      yield { offset, event: finalFromRow(message) };
      return;
    }
    if (Date.now() - message.updatedAt.getTime() > ABANDONED_AFTER_MS) {
      yield { offset, event: { type: "done", status: "stopped", content: message.content, stats: statsFromRow(message) } };
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, FLUSH_INTERVAL_MS));
    const [next] = await db.select().from(messages).where(eq(messages.id, message.id)).limit(1);
    if (!next) return;
    message = next;
  }
}

function statsFromRow(m: Message): ReplyStats {
  return {
    promptTokens: m.promptTokens,
    completionTokens: m.completionTokens,
    timeToFirstTokenMs: m.timeToFirstTokenMs,
    durationMs: m.durationMs ?? 0,
    tokensPerSecond: m.tokensPerSecond,
  };
}

function finalFromRow(m: Message): FinalEvent {
  if (m.status === "error") {
    return { type: "error", status: "error", content: m.content, code: "llm_failed", message: m.error ?? "The reply failed." };
  }
  return { type: "done", status: m.status === "stopped" ? "stopped" : "complete", content: m.content, stats: statsFromRow(m) };
}

const stopHolder = globalThis as unknown as { afStopRequests?: Map<string, () => void> };
const stopRequests: Map<string, () => void> = (stopHolder.afStopRequests ??= new Map());

/**
 * Writes the reply in the background, independent of any reader: a closed tab or a dropped
 * connection doesn't stop it, and readers can (re)attach at any time.
 */
function startReply(db: Database, reply: Message, request: StreamChatRequest) {
  const live = new LiveReply(reply.id, reply.sessionId);
  liveReplies.set(reply.id, live);
  let stopped = false;
  let abortUpstream: (() => void) | null = null;
  stopRequests.set(reply.id, () => {
    stopped = true;
    abortUpstream?.();
  });

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

  const run = async () => {
    let final: { promptTokens?: number; completionTokens?: number; evalNs?: number } = {};
    try {
      const stream = await streamChat(request);
      abortUpstream = () => stream.abort();
      if (stopped) stream.abort();
      for await (const chunk of stream) {
        const text = chunk.message?.content ?? "";
        if (text) {
          firstTokenAt ??= performance.now();
          live.append(text);
          if (performance.now() - lastFlushed >= FLUSH_INTERVAL_MS) flush();
        }
        if (chunk.done) {
          final = { promptTokens: chunk.prompt_eval_count, completionTokens: chunk.eval_count, evalNs: chunk.eval_duration };
        }
      }
      return finishWith({ type: "done", status: stopped ? "stopped" : "complete", content: live.text, stats: stats(final) });
    } catch (error) {
      if (stopped) {
        return finishWith({ type: "done", status: "stopped", content: live.text, stats: stats(final) });
      }
      const domain = llmError(error, request.model);
      return finishWith({ type: "error", status: "error", content: live.text, code: domain.code, message: domain.message });
    }
  };

  const stats = (final: { promptTokens?: number; completionTokens?: number; evalNs?: number }): ReplyStats => ({
    promptTokens: final.promptTokens ?? null,
    completionTokens: final.completionTokens ?? null,
    timeToFirstTokenMs: firstTokenAt === null ? null : Math.round(firstTokenAt - started),
    durationMs: Math.round(performance.now() - started),
    tokensPerSecond:
      final.completionTokens && final.evalNs ? Math.round((final.completionTokens / (final.evalNs / 1e9)) * 10) / 10 : null,
  });

  const finishWith = async (event: FinalEvent) => {
    await flushing;
    const stats = event.type === "done" ? event.stats : null;
    try {
      await db.transaction(async (tx) => {
        await tx
          .update(messages)
          .set({
            content: event.content,
            status: event.status,
            error: event.type === "error" ? event.message : null,
            promptTokens: stats?.promptTokens,
            completionTokens: stats?.completionTokens,
            timeToFirstTokenMs: stats?.timeToFirstTokenMs,
            durationMs: stats?.durationMs,
            tokensPerSecond: stats?.tokensPerSecond,
          })
          .where(eq(messages.id, reply.id));
        await tx.update(chatSessions).set({ lastMessageAt: new Date() }).where(eq(chatSessions.id, reply.sessionId));
      });
    } catch (error) {
      console.error("[chat] could not save a finished reply", error);
    }
    live.finish(event);
    stopRequests.delete(reply.id);
    // Readers attached now get the final event from memory; later ones read the database.
    setTimeout(() => liveReplies.delete(reply.id), 5_000).unref();
  };

  void run();
}
