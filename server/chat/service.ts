import { and, asc, desc, eq, gt, gte, inArray, isNull, sql } from "drizzle-orm";
import { env } from "@/lib/env.mjs";
import type { Database } from "@/server/db";
import { chatSessions, generationSlots, messages, type Message } from "@/server/db/schema";
import { isAppErrorCode } from "@/lib/errors";
import { DomainError, notFound } from "@/server/errors";
import { SessionModel } from "@/server/sessions/model";
import { CHANNELS, notify, watch } from "@/server/db/notify";
import { accountNameOf } from "./compose";
import { startReply, stopRequests, unsummarizedTurns, type PromptInputs } from "./engine";
import { asPosition, liveReplies, positionId, type FinalEvent, type PositionedEvent, type ReplyEvent, type ReplyStats, type StreamPosition } from "./live-reply";
import { acquireSlot, busy, checkRateLimit, claimSlotStatement, ensureSlotRows, hasLiveSlot, rateLimited, releaseSlot, releaseSlotStatement, returnReplyQuota, takeReplyQuotaStatement } from "./slots";

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

export interface SendInput {
  sessionId: string;
  clientId: string;
  text: string;
}

/** Chat actions of one signed-in user; everything is scoped to their own chats. */
export class ChatService {
  private readonly sessions: SessionModel;

  constructor(
    private readonly db: Database,
    private readonly user: { id: string; name?: string | null },
  ) {
    this.sessions = new SessionModel(db, user.id);
  }

  /** The user's chat (NOT_FOUND for anyone else's). */
  chatOf(sessionId: string) {
    return this.sessions.get(sessionId);
  }

  private get userName() {
    return accountNameOf(this.user);
  }

  /**
   * Order of work: validate → limits → save the user's message → write the reply in the
   * background. A retried send (same clientId) returns the first send's messages. This is the
   * hot path: the checks run side by side and both rows go in with one statement; the database
   * itself (a unique index) keeps to one reply at a time per chat.
   */
  async send(input: SendInput): Promise<{ userMessage: Message; reply: Message }> {
    const replyId = crypto.randomUUID();
    // One round trip decides and writes (ownership, rate limit, slot, both rows); the prompt's
    // inputs load beside it, so the model is called as soon as the user's message is stored.
    const [admitted, { session, character, persona }, history] = await Promise.all([
      this.admitSend(input, replyId).catch(async (error: unknown) => {
        if (violates(error, "messages_session_client_idx")) {
          // The same send again (a retried request): its first attempt's messages.
          const earlier = await this.findSend(input.sessionId, input.clientId);
          if (earlier) return { ...earlier, repeated: true };
        }
        if (!violates(error, "messages_one_streaming_idx")) throw error;
        // Another reply is being written in this chat, or was left by a crashed instance.
        await this.db.transaction((tx) => this.lockIdle(tx, input.sessionId));
        return this.admitSend(input, replyId);
      }),
      this.sessions.get(input.sessionId),
      unsummarizedTurns(this.db, input.sessionId),
    ]);
    const { userMessage, reply } = admitted;
    if ("repeated" in admitted) return { userMessage, reply };
    // Read beside the insert: whatever of this send the read already saw is left out here.
    const turns = [
      ...history.filter((turn) => turn.seq < userMessage.seq),
      { role: "user" as const, content: userMessage.content, seq: userMessage.seq },
    ];
    startReply(this.db, { reply, userName: this.userName, inputs: { session, character, persona, turns } });
    return { userMessage, reply };
  }

  /**
   * The send's checks and writes as one statement, so a send costs one round trip: the chat is
   * the user's, a reply is left in the user's per-minute allowance (taken under the row's lock, so
   * concurrent sends can't all pass one count), a generation slot is free (claimed with
   * SKIP LOCKED, never waiting on other sends), then both messages go in and the chat's activity
   * time moves. Any check failing writes nothing; so does a unique index refusing the rows (the
   * slot's claim is part of the same statement).
   */
  private async admitSend(input: SendInput, replyId: string): Promise<{ userMessage: Message; reply: Message }> {
    const { MAX_CONCURRENT_GENERATIONS: max, GENERATION_LEASE_MS: lease, CHAT_MESSAGES_PER_MINUTE: perMinute } = env();
    await ensureSlotRows(this.db, max);
    const userMessageId = crypto.randomUUID();
    const [row] = await this.db.execute<{
      owned: boolean;
      within_quota: boolean;
      claimed: boolean;
      model: string | null;
      inserted: { id: string; seq: number; createdAt: string }[] | null;
    }>(sql`
      with owned as (
        select id, model from ${chatSessions} where id = ${input.sessionId} and user_id = ${this.user.id}
      ), quota as (
        ${takeReplyQuotaStatement(this.user.id, perMinute, sql`exists (select 1 from owned)`)}
      ), claimed as (
        ${claimSlotStatement({ messageId: replyId, userId: this.user.id, max, lease })}
          and exists (select 1 from quota)
        returning slot
      ), inserted as (
        insert into ${messages} (id, session_id, role, content, client_id, status, model)
        select v.id, owned.id, v.role::message_role, v.content, v.client_id, v.status::message_status,
               case when v.role = 'assistant' then owned.model end
        from owned, claimed,
             (values (${userMessageId}, 'user', ${input.text}, ${input.clientId}, 'complete'),
                     (${replyId}, 'assistant', '', null, 'streaming')) as v(id, role, content, client_id, status)
        returning id, seq, created_at
      ), touched as (
        update ${chatSessions} set last_message_at = now(), updated_at = now()
        where id = (select id from owned) and exists (select 1 from claimed)
        returning id
      )
      select exists (select 1 from owned) as owned,
             exists (select 1 from quota) as within_quota,
             exists (select 1 from claimed) as claimed,
             (select model from owned) as model,
             (select json_agg(json_build_object('id', id, 'seq', seq, 'createdAt', created_at)) from inserted) as inserted,
             (select count(*) from touched) as touched`);
    if (!row?.owned) throw notFound("Chat");
    if (!row.within_quota) throw rateLimited(perMinute);
    if (!row.claimed || !row.inserted) {
      // Refused for want of a slot: the reply taken from the allowance was not used.
      await returnReplyQuota(this.db, this.user.id);
      throw busy();
    }
    const stored = (id: string) => {
      const found = row.inserted!.find((r) => r.id === id)!;
      const createdAt = new Date(found.createdAt);
      return { seq: Number(found.seq), createdAt, updatedAt: createdAt };
    };
    const blank = {
      sessionId: input.sessionId,
      errorCode: null,
      errorParams: null,
      finishReason: null,
      thinking: null,
      swipeGroup: null,
      active: true,
      promptTokens: null,
      completionTokens: null,
      timeToFirstTokenMs: null,
      seenFirstTokenMs: null,
      durationMs: null,
      tokensPerSecond: null,
      audio: [],
    } satisfies Partial<Message>;
    return {
      userMessage: {
        ...blank,
        ...stored(userMessageId),
        id: userMessageId,
        role: "user",
        content: input.text,
        status: "complete",
        clientId: input.clientId,
        model: null,
      },
      reply: { ...blank, ...stored(replyId), id: replyId, role: "assistant", content: "", status: "streaming", clientId: null, model: row.model },
    };
  }

  private async findSend(sessionId: string, clientId: string) {
    const [userMessage] = await this.db
      .select()
      .from(messages)
      .where(and(eq(messages.sessionId, sessionId), eq(messages.clientId, clientId)))
      .limit(1);
    if (!userMessage) return null;
    const [reply] = await this.db
      .select()
      .from(messages)
      .where(and(eq(messages.sessionId, sessionId), gt(messages.seq, userMessage.seq), eq(messages.role, "assistant")))
      .orderBy(asc(messages.seq))
      .limit(1);
    if (!reply) throw new DomainError("reply_in_progress", "This message was already sent.");
    return { userMessage, reply };
  }

  /**
   * Runs `write` (which stores the reply row under the given id) holding a generation slot,
   * then starts the reply. Over the limits nothing is written at all.
   */
  private async withReplySlot<T extends { reply: Message; started?: boolean; inputs?: PromptInputs }>(
    write: (replyId: string) => Promise<T>,
  ): Promise<T> {
    const replyId = crypto.randomUUID();
    await acquireSlot(this.db, replyId, this.user.id);
    let written: T;
    try {
      written = await write(replyId);
    } catch (error) {
      await releaseSlot(this.db, replyId);
      throw error;
    }
    if (written.started) {
      // A concurrent identical send won the race: its reply is already being written.
      await releaseSlot(this.db, replyId);
      return written;
    }
    startReply(this.db, { reply: written.reply, userName: this.userName, inputs: written.inputs });
    return written;
  }

  /**
   * Locks the chat for this transaction and makes sure no reply is being written in it: one
   * reply at a time per chat. A reply left 'streaming' by a crashed instance is closed as stopped.
   */
  private async lockIdle(tx: Tx, sessionId: string) {
    // Updating the chat's activity time is also what locks it for this transaction.
    await tx.update(chatSessions).set({ lastMessageAt: new Date() }).where(eq(chatSessions.id, sessionId));
    const writing = await tx
      .select({
        id: messages.id,
        live: sql<boolean>`exists (select 1 from ${generationSlots} where ${generationSlots.messageId} = ${messages.id} and ${generationSlots.leaseUntil} > now())`,
      })
      .from(messages)
      .where(and(eq(messages.sessionId, sessionId), eq(messages.status, "streaming")));
    if (writing.some((m) => m.live)) {
      throw new DomainError("reply_in_progress", "The character is still replying. Wait for it or stop it first.");
    }
    if (writing.length > 0) {
      await tx
        .update(messages)
        .set({ status: "stopped", errorCode: "interrupted" })
        .where(inArray(messages.id, writing.map((m) => m.id)));
    }
  }

  private async insertReply(tx: Tx, sessionId: string, model: string, id: string, swipeGroup: string | null = null) {
    const [reply] = await tx
      .insert(messages)
      .values({ id, sessionId, role: "assistant", content: "", status: "streaming", model, swipeGroup })
      .returning();
    return reply!;
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

  /** The newest active message of the chat (the end of the conversation). */
  private async lastActive(tx: Tx | Database, sessionId: string) {
    const [last] = await tx
      .select()
      .from(messages)
      .where(and(eq(messages.sessionId, sessionId), eq(messages.active, true)))
      .orderBy(desc(messages.seq))
      .limit(1);
    return last;
  }

  /**
   * Writes a new reply in place of the chat's last message, holding a slot: `prepare` checks the
   * last message may be replaced and moves it aside, inside the chat's lock.
   */
  private async replaceLastReply(
    messageId: string,
    prepare: (tx: Tx, message: Message, last: Message | undefined) => Promise<string | null>,
  ): Promise<Message> {
    const message = await this.ownedMessage(messageId);
    const [{ session }] = await Promise.all([this.sessions.get(message.sessionId), checkRateLimit(this.db, this.user.id)]);
    const { reply } = await this.withReplySlot(async (slotId) =>
      this.db.transaction(async (tx) => {
        await this.lockIdle(tx, session.id);
        const swipeGroup = await prepare(tx, message, await this.lastActive(tx, session.id));
        return { reply: await this.insertReply(tx, session.id, session.model, slotId, swipeGroup) };
      }),
    );
    return reply;
  }

  /** Writes a failed or stopped last reply again; the user's message stays as it was. */
  async retry(messageId: string): Promise<Message> {
    return this.replaceLastReply(messageId, async (tx, message, last) => {
      if (last?.id !== message.id || message.role !== "assistant" || (last.status !== "error" && last.status !== "stopped")) {
        throw new DomainError("bad_input", "Only a failed or stopped last reply can be tried again.");
      }
      // The new reply takes the slot's id: the failed row goes, a fresh one takes its place.
      await tx.delete(messages).where(eq(messages.id, message.id));
      return message.swipeGroup;
    });
  }

  /**
   * Writes more of the last reply when it was cut off by its length or stopped: the model carries
   * on from its text, which is appended to (same message; the slot and limit rules of a retry).
   */
  async continue(messageId: string): Promise<Message> {
    const message = await this.ownedMessage(messageId);
    await checkRateLimit(this.db, this.user.id);
    let claimed = false;
    let reply: Message;
    try {
      reply = await this.db.transaction(async (tx) => {
        await this.lockIdle(tx, message.sessionId);
        const last = await this.lastActive(tx, message.sessionId);
        const cutOff = last?.status === "stopped" || (last?.status === "complete" && last.finishReason === "length");
        if (last?.id !== message.id || last.role !== "assistant" || !cutOff) {
          throw new DomainError("bad_input", "Only a last reply that was cut off or stopped can be continued.");
        }
        // The slot is the message's own: one left by a crashed instance that wrote it goes first.
        await this.db.execute(sql`${releaseSlotStatement(message.id)} and lease_until < now()`);
        await acquireSlot(this.db, message.id, this.user.id);
        claimed = true;
        // Sentences spoken so far no longer match the text: the whole reply is spoken anew when asked.
        const [writing] = await tx
          .update(messages)
          .set({ status: "streaming", finishReason: null, errorCode: null, errorParams: null, audio: [] })
          .where(eq(messages.id, message.id))
          .returning();
        return writing!;
      });
    } catch (error) {
      if (claimed) await releaseSlot(this.db, message.id);
      throw error;
    }
    startReply(this.db, { reply, userName: this.userName, continueFrom: reply.content });
    return reply;
  }

  /**
   * A new alternative of the last reply ("swipe"). The earlier ones are kept and can be
   * switched back to; only the active one is part of the conversation.
   */
  async regenerate(messageId: string): Promise<Message> {
    return this.replaceLastReply(messageId, async (tx, message, last) => {
      if (last?.id !== message.id || message.role !== "assistant") {
        throw new DomainError("bad_input", "Only the last reply can be regenerated.");
      }
      const [before] = await tx
        .select({ role: messages.role })
        .from(messages)
        .where(and(eq(messages.sessionId, message.sessionId), eq(messages.active, true), sql`${messages.seq} < ${message.seq}`))
        .orderBy(desc(messages.seq))
        .limit(1);
      if (before?.role !== "user") throw new DomainError("bad_input", "Only a reply to a message can be regenerated.");
      const group = message.swipeGroup ?? message.id;
      await tx.update(messages).set({ active: false, swipeGroup: group }).where(eq(messages.id, message.id));
      await tx.update(messages).set({ active: false }).where(eq(messages.swipeGroup, group));
      return group;
    });
  }

  /** Switches the last reply (or the greeting) to another of its alternatives. */
  async selectSwipe(messageId: string, direction: "previous" | "next") {
    const message = await this.ownedMessage(messageId);
    return this.db.transaction(async (tx) => {
      await this.lockIdle(tx, message.sessionId);
      const last = await this.lastActive(tx, message.sessionId);
      if (last?.id !== message.id || !message.swipeGroup) {
        throw new DomainError("bad_input", "Only the last reply's alternatives can be switched.");
      }
      const group = await tx
        .select({ id: messages.id })
        .from(messages)
        .where(eq(messages.swipeGroup, message.swipeGroup))
        .orderBy(asc(messages.seq));
      const index = group.findIndex((m) => m.id === message.id);
      const next = group[(index + (direction === "next" ? 1 : -1) + group.length) % group.length]!;
      await tx.update(messages).set({ active: false }).where(eq(messages.swipeGroup, message.swipeGroup));
      await tx.update(messages).set({ active: true }).where(eq(messages.id, next.id));
      return { activeId: next.id };
    });
  }

  /** Changes what the user said and answers it again: everything after that message goes. */
  async editAndRegenerate(messageId: string, text: string): Promise<{ userMessage: Message; reply: Message }> {
    const message = await this.ownedMessage(messageId);
    if (message.role !== "user") throw new DomainError("bad_input", "Only your own messages can be edited.");
    const [{ session }] = await Promise.all([this.sessions.get(message.sessionId), checkRateLimit(this.db, this.user.id)]);
    return this.withReplySlot(async (slotId) =>
      this.db.transaction(async (tx) => {
        await this.lockIdle(tx, session.id);
        const [userMessage] = await tx.update(messages).set({ content: text }).where(eq(messages.id, message.id)).returning();
        await tx.delete(messages).where(and(eq(messages.sessionId, session.id), gt(messages.seq, message.seq)));
        await this.forgetSummaryFrom(tx, session.id, message.seq);
        return { userMessage: userMessage!, reply: await this.insertReply(tx, session.id, session.model, slotId) };
      }),
    );
  }

  /**
   * Changes the text of a message, the user's or the character's, and keeps the whole
   * conversation after it. A reply's spoken clips were of its old text: they go.
   */
  async editMessage(messageId: string, text: string): Promise<Message> {
    const message = await this.ownedMessage(messageId);
    if (message.status === "streaming") throw new DomainError("reply_in_progress", "The character is still replying. Wait for it or stop it first.");
    if (message.role === "assistant" && message.status === "error") throw new DomainError("bad_input", "A failed reply cannot be edited; try it again instead.");
    return this.db.transaction(async (tx) => {
      const [edited] = await tx
        .update(messages)
        .set({ content: text, ...(message.role === "assistant" ? { audio: [] } : {}) })
        .where(and(eq(messages.id, message.id), sql`${messages.status} <> 'streaming'`))
        .returning();
      if (!edited) throw new DomainError("reply_in_progress", "The character is still replying. Wait for it or stop it first.");
      await this.forgetSummaryFrom(tx, message.sessionId, message.seq);
      return edited;
    });
  }

  /**
   * A new chat that shares this one's history up to `messageId` (with that message's own
   * alternatives), listed with this chat as its parent. With `text`, that message says it instead;
   * a message of the user's is then answered in the new chat. This chat is left as it was.
   */
  async branch(messageId: string, text?: string): Promise<{ sessionId: string; reply: Message | null }> {
    const message = await this.ownedMessage(messageId);
    if (message.status === "streaming") throw new DomainError("reply_in_progress", "The character is still replying. Wait for it or stop it first.");
    if (text !== undefined && message.role === "assistant" && message.status === "error") {
      throw new DomainError("bad_input", "A failed reply cannot be edited; try it again instead.");
    }
    const answer = text !== undefined && message.role === "user";
    const copy = async (tx: Tx) => {
      const sessionId = crypto.randomUUID();
      const created = await tx.execute(sql`
        insert into ${chatSessions} (id, user_id, character_id, title, title_source, scenario, model, settings, token_scale,
          character_snapshot, persona_id, author_note, author_note_depth, parent_id, branched_at_seq)
        select ${sessionId}, user_id, character_id, title, title_source, scenario, model, settings, token_scale,
          character_snapshot, persona_id, author_note, author_note_depth, id, ${message.seq}
        from ${chatSessions} where id = ${message.sessionId} and user_id = ${this.user.id}
        returning id`);
      if (created.length === 0) throw notFound("Chat");
      // In reading order, so the copies keep it; a swipe group is named after its first message.
      await tx.execute(sql`
        with source as (
          select * from ${messages}
          where session_id = ${message.sessionId} and status <> 'streaming'
            and (seq <= ${message.seq} or (${message.swipeGroup}::text is not null and swipe_group = ${message.swipeGroup}))
        ), renamed as (
          select id as old_id, gen_random_uuid()::text as new_id from source
        )
        insert into ${messages} (id, session_id, role, content, status, error_code, error_params, finish_reason, thinking,
          swipe_group, active, model, prompt_tokens, completion_tokens, ttft_ms, seen_ttft_ms, duration_ms, tokens_per_second,
          audio, created_at, updated_at)
        select r.new_id, ${sessionId}, s.role,
          case when s.id = ${message.id} and ${text ?? null}::text is not null then ${text ?? null}::text else s.content end,
          s.status, s.error_code, s.error_params, s.finish_reason, s.thinking,
          case when s.swipe_group is null then null else coalesce((select g.new_id from renamed g where g.old_id = s.swipe_group), md5(${sessionId} || s.swipe_group)) end,
          s.active, s.model, s.prompt_tokens, s.completion_tokens, s.ttft_ms, s.seen_ttft_ms, s.duration_ms, s.tokens_per_second,
          case when s.id = ${message.id} and ${text ?? null}::text is not null then '[]'::jsonb else s.audio end,
          s.created_at, s.updated_at
        from source s join renamed r on r.old_id = s.id
        order by s.seq`);
      return sessionId;
    };
    if (!answer) {
      const sessionId = await this.db.transaction(copy);
      return { sessionId, reply: null };
    }
    const [{ session }] = await Promise.all([this.sessions.get(message.sessionId), checkRateLimit(this.db, this.user.id)]);
    const { reply, sessionId } = await this.withReplySlot(async (slotId) =>
      this.db.transaction(async (tx) => {
        const sessionId = await copy(tx);
        return { sessionId, reply: await this.insertReply(tx, sessionId, session.model, slotId) };
      }),
    );
    return { sessionId, reply };
  }

  /**
   * Deletes a message (with its alternatives). A message of the user's goes with the reply that
   * answered it, so two replies never end up in a row. A reply being written must be stopped first.
   */
  async deleteMessage(messageId: string) {
    const message = await this.ownedMessage(messageId);
    return this.db.transaction(async (tx) => {
      await this.lockIdle(tx, message.sessionId);
      const group = message.swipeGroup;
      await tx.delete(messages).where(group ? eq(messages.swipeGroup, group) : eq(messages.id, message.id));
      if (message.role === "user") {
        // The replies up to the next message of the user's, every alternative of them included.
        await tx.execute(sql`
          with next_user as (
            select min(seq) as seq from ${messages}
            where session_id = ${message.sessionId} and role = 'user' and seq > ${message.seq}
          ), answers as (
            select id, swipe_group from ${messages}
            where session_id = ${message.sessionId} and role = 'assistant' and seq > ${message.seq}
              and seq < coalesce((select seq from next_user), 9223372036854775807)
          )
          delete from ${messages}
          where session_id = ${message.sessionId}
            and (id in (select id from answers) or swipe_group in (select swipe_group from answers where swipe_group is not null))`);
      }
      await this.forgetSummaryFrom(tx, message.sessionId, message.seq);
      return { id: message.id };
    });
  }

  /** A summary that covered changed or deleted turns is rebuilt from the chat as it is now. */
  private async forgetSummaryFrom(tx: Tx, sessionId: string, seq: number) {
    await tx
      .update(chatSessions)
      .set({ summary: "", summaryThroughSeq: null })
      .where(and(eq(chatSessions.id, sessionId), gte(chatSessions.summaryThroughSeq, seq)));
  }

  /**
   * Keeps what the reader experienced for a reply of theirs — from pressing Enter to its first
   * character on screen, measured by the browser — once; the figure shown under the reply.
   */
  async recordSeenFirstToken(messageId: string, firstTokenMs: number) {
    const message = await this.ownedMessage(messageId);
    if (message.role !== "assistant") throw notFound("Message");
    const updated = await this.db
      .update(messages)
      .set({ seenFirstTokenMs: firstTokenMs })
      .where(and(eq(messages.id, message.id), isNull(messages.seenFirstTokenMs)))
      .returning({ id: messages.id });
    return { recorded: updated.length > 0 };
  }

  /**
   * Stops a reply at whatever stage it is — queued, loading, writing, speaking — on whichever
   * instance writes it: this one directly, another through a notification its writer acts on
   * (closing the connection to Ollama and keeping the text so far, marked stopped). A reply no
   * live instance writes any more (its instance crashed) is closed as stopped here.
   */
  async stop(messageId: string) {
    const message = await this.ownedMessage(messageId);
    const stopHere = stopRequests.get(message.id);
    if (stopHere) {
      stopHere();
      return { stopped: true };
    }
    if (message.status !== "streaming") {
      // Written, but perhaps still being spoken on another instance: its writer silences it there.
      await notify(this.db, CHANNELS.stop, message.id);
      return { stopped: false };
    }
    if (await hasLiveSlot(this.db, message.id)) {
      await notify(this.db, CHANNELS.stop, message.id);
      return { stopped: true };
    }
    await this.db.update(messages).set({ status: "stopped" }).where(and(eq(messages.id, message.id), eq(messages.status, "streaming")));
    await notify(this.db, CHANNELS.reply, message.id);
    return { stopped: true };
  }

  /**
   * The reply's events from `from` characters on: live from this process when it is writing
   * the reply, otherwise from the database (finished, or written by another instance).
   */
  async *follow(messageId: string, position: StreamPosition | number, signal?: AbortSignal): AsyncGenerator<PositionedEvent> {
    yield* this.followMessage(await this.ownedMessage(messageId), position, signal);
  }

  /**
   * `follow` for a reply already known to be this user's (the one a send just created): no
   * lookup before its first event.
   */
  async *followMessage(message: Message, position: StreamPosition | number, signal?: AbortSignal): AsyncGenerator<PositionedEvent> {
    const from = asPosition(position);
    const live = liveReplies.get(message.id);
    if (live) {
      yield* live.follow(from, signal);
      return;
    }
    yield* followStored(this.db, message, from, signal);
  }
}

/** Whether `error` is Postgres refusing a row because of the unique index `index`. */
function violates(error: unknown, index: string) {
  const cause = (error as { cause?: { code?: string; constraint_name?: string } }).cause ?? (error as { code?: string; constraint_name?: string });
  return cause?.code === "23505" && cause.constraint_name === index;
}

/** How long a reader on another instance waits for a change notice before looking anyway. */
const STORED_RECHECK_MS = 2_000;

/**
 * A reply from the database: finished, or being written by another instance, whose partial saves
 * and end arrive as notifications (with a slow re-check should one be lost).
 */
async function* followStored(db: Database, first: Message, from: StreamPosition, signal?: AbortSignal): AsyncGenerator<PositionedEvent> {
  const changes = await watch(db, CHANNELS.reply, (id) => id === first.id);
  try {
    let message = first;
    const at = { ...from };
    const positioned = (event: ReplyEvent): PositionedEvent => ({ offset: at.text, id: positionId(at), event });
    while (!signal?.aborted) {
      const thinking = message.thinking ?? "";
      if (thinking.length > at.thinking) {
        const text = thinking.slice(at.thinking);
        at.thinking = thinking.length;
        yield positioned({ type: "thinking", text });
      }
      if (message.content.length > at.text) {
        const text = message.content.slice(at.text);
        at.text = message.content.length;
        yield positioned({ type: "delta", text });
      }
      const live = liveReplies.get(message.id);
      if (live) {
        yield* live.follow(at, signal);
        return;
      }
      if (message.status !== "streaming") {
        for (const clip of message.audio.slice(at.audio)) {
          at.audio += 1;
          yield positioned({ type: "audio", ...clip });
        }
        if (!at.final) {
          at.final = true;
          yield positioned(finalFromRow(message));
        }
        return;
      }
      if (!(await hasLiveSlot(db, message.id))) {
        // No instance is writing it any more (one crashed): what was saved is all there is.
        at.final = true;
        yield positioned({ type: "done", status: "stopped", content: message.content, stats: statsFromRow(message), finishReason: null });
        return;
      }
      await changes.next(STORED_RECHECK_MS, signal);
      const [next] = await db.select().from(messages).where(eq(messages.id, message.id)).limit(1);
      if (!next) return;
      message = next;
    }
  } finally {
    changes.close();
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
    const code = isAppErrorCode(m.errorCode) ? m.errorCode : "llm_failed";
    return { type: "error", status: "error", content: m.content, code, params: m.errorParams ?? {}, message: `The reply failed (${code}).` };
  }
  if (m.status === "stopped") return { type: "done", status: "stopped", content: m.content, stats: statsFromRow(m), finishReason: null };
  return { type: "done", status: "complete", content: m.content, stats: statsFromRow(m), finishReason: m.finishReason === "length" ? "length" : "stop" };
}
