import { readFile } from "node:fs/promises";
import path from "node:path";
import { and, desc, eq, inArray, lt, sql } from "drizzle-orm";
import { env } from "@/lib/env.mjs";
import type { Database } from "@/server/db";
import { CHANNELS, listen, notify } from "@/server/db/notify";
import { avatarJobs, characters, images } from "@/server/db/schema";
import { CharacterModel } from "@/server/characters/model";
import { DomainError, notFound } from "@/server/errors";
import { preparePortrait } from "@/server/images/process";
import { budgets } from "@/server/limits/budgets";
import { consume } from "@/server/limits/rate-limit";
import { estimateProgress, GeneratorBusy, GeneratorError, type AvatarProtocol, type GenerateOptions, type Generator } from "./generator";
import { validateAvatarModel, type ValidatedAvatarModel } from "./gltf";
import { hunyuan3dGenerator } from "./hunyuan3d";
import { trellisGenerator } from "./trellis";
import { deleteAvatarModelIfUnused, storeAvatarModel } from "./models";

/*
 * Avatar generation jobs, in Postgres (`avatar_jobs`), shared by every app instance.
 *
 * - A request is a row (status "queued"). Any instance's engine claims queued jobs for a free
 *   generator server: ONE running job per server, in fair order — each user's first open job
 *   before anyone's second (the rank is the number of the user's jobs created before it that
 *   are open or ran in the last hour, so a second job does not jump ahead the moment the first
 *   ends), then the oldest. The claim is one UPDATE … FOR UPDATE SKIP LOCKED under a per-server
 *   advisory lock, so two instances never start two jobs on one server.
 * - A running job is leased by the instance driving it (`instanceId`, `leaseUntil`, renewed by a
 *   heartbeat). When an instance dies its lease runs out, and any instance (on start-up and
 *   periodically) takes the job over:
 *     · Hunyuan3D: the job runs on the server by itself; the new instance keeps polling its uid.
 *     · TRELLIS: the job was the blocking `POST /generate_no_preview` of the dead instance; its
 *       answer is gone, and /download/model might hold anything by then. The job fails with
 *       `avatar_interrupted` and the server is sent /interrupt, so the user can simply try again
 *       (a re-run would silently spend minutes of GPU the user may no longer want).
 * - The silence limit (AVATAR3D_TIMEOUT_MS) counts from the last time the server told anything
 *   new (`lastHeardAt`): a progress change, or the end. Hunyuan3D reports nothing until done, so
 *   for it this is the job's whole time limit — its crashed jobs say "processing" forever.
 * - Cancel: a queued job leaves at once; a running one is marked cancelled (its result, should
 *   one come, is ignored: finishing requires status "running"), and its driver stops the server
 *   where the protocol allows (TRELLIS /interrupt; Hunyuan3D cannot be stopped).
 * - A result counts only after `validateAvatarModel` passes. Hunyuan3D may report "completed"
 *   while still writing the file, so an invalid model is fetched again a few times first.
 * - Every change is sent on NOTIFY `af_avatar` (payload: the job id) for `avatars.job` streams.
 */

export type AvatarJob = typeof avatarJobs.$inferSelect;
export type AvatarJobStatus = AvatarJob["status"];

export interface AvatarEngineConfig {
  servers: string[];
  protocol: AvatarProtocol;
  /** silence limit, see above */
  timeoutMs: number;
  /** lease of a running job; renewed every third of it */
  leaseMs: number;
  /** how often a running job is polled (and the queue looked at without a notification) */
  pollMs: number;
  /** the typical duration, for the progress estimate of servers that report none */
  expectedMs: number;
  /** how many times an invalid "completed" model is fetched again before the job fails */
  invalidRetries: number;
  /** how long a server that said "busy" is left alone */
  busyRetryMs: number;
  /** Hunyuan3D: ask for a texture (the server must run with --enable_tex) */
  texture: boolean;
  /** one HTTP request's time limit (not the generation's) */
  requestTimeoutMs: number;
  instanceId: string;
  generatorFor?: (url: string) => Generator;
  validate?: (bytes: Uint8Array) => Promise<ValidatedAvatarModel>;
}

const INSTANCE = crypto.randomUUID();

/** The configuration from the environment (null servers = generation off). */
export function avatarConfigFromEnv(): AvatarEngineConfig {
  const e = env();
  return {
    servers: (e.AVATAR3D_URL ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    protocol: e.AVATAR3D_PROTOCOL,
    timeoutMs: e.AVATAR3D_TIMEOUT_MS,
    leaseMs: e.GENERATION_LEASE_MS,
    pollMs: 2_000,
    expectedMs: e.AVATAR3D_TEXTURE ? 240_000 : 90_000,
    invalidRetries: 3,
    busyRetryMs: 10_000,
    texture: e.AVATAR3D_TEXTURE ?? false,
    requestTimeoutMs: 30_000,
    instanceId: INSTANCE,
  };
}

function makeGenerator(config: AvatarEngineConfig, url: string): Generator {
  if (config.generatorFor) return config.generatorFor(url);
  return config.protocol === "trellis"
    ? trellisGenerator(url, { requestTimeoutMs: config.requestTimeoutMs })
    : hunyuan3dGenerator(url, { requestTimeoutMs: config.requestTimeoutMs, texture: config.texture });
}

// ---------------------------------------------------------------------------------------------
// What users see of a job
// ---------------------------------------------------------------------------------------------

export interface AvatarJobView {
  jobId: string;
  characterId: string;
  status: AvatarJobStatus;
  /** 0–1 */
  progress: number;
  /** a step code: queued, waiting_for_server, uploading, generating, texturing, exporting, validating */
  currentStep: string | null;
  /** the model's URL once completed */
  resultUrl: string | null;
  resultModelId: string | null;
  /** a code (lib/errors.ts), never the generator's text */
  error: string | null;
  errorParams: Record<string, string | number> | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

/** Where an avatar model is served (app/api/avatars/[id]). */
export const avatarModelUrl = (modelId: string) => `/api/avatars/${modelId}`;

export function viewOf(job: AvatarJob): AvatarJobView {
  return {
    jobId: job.id,
    characterId: job.characterId,
    status: job.status,
    progress: job.status === "completed" ? 1 : Math.max(0, Math.min(1, job.progress)),
    currentStep: job.currentStep,
    resultUrl: job.status === "completed" && job.resultModelId ? avatarModelUrl(job.resultModelId) : null,
    resultModelId: job.status === "completed" ? job.resultModelId : null,
    error: job.errorCode,
    errorParams: job.errorParams,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    updatedAt: job.updatedAt,
  };
}

export const OPEN_STATUSES = ["queued", "running"] as const;
export const isFinished = (status: AvatarJobStatus) => status !== "queued" && status !== "running";

// ---------------------------------------------------------------------------------------------
// Requests (called by the router, on any instance)
// ---------------------------------------------------------------------------------------------

export interface GenerateRequest {
  characterId: string;
  /** an image to generate from instead of the portrait (already size-checked by zod) */
  imageBase64?: string;
  options?: GenerateOptions;
}

/** Queues a generation for the owner's character; answers the job and a time estimate. */
export async function requestGeneration(db: Database, userId: string, request: GenerateRequest, config = avatarConfigFromEnv()) {
  if (config.servers.length === 0) {
    throw new DomainError("avatar_generation_off", "Avatar generation is not configured on this server (AVATAR3D_URL).");
  }
  const character = await new CharacterModel(db, userId).get(request.characterId);
  if (character.ownerId !== userId) {
    throw new DomainError("forbidden", character.ownerId === null ? "Preset characters cannot be changed." : "Only the owner can change this character.");
  }
  let imageId: string | null = null;
  let imagePath: string | null = null;
  let uploaded: Awaited<ReturnType<typeof preparePortrait>> | null = null;
  if (request.imageBase64) {
    uploaded = await preparePortrait(Buffer.from(request.imageBase64, "base64"));
  } else if (character.imageUrl?.startsWith("/api/images/")) {
    imageId = character.imageUrl.slice("/api/images/".length);
  } else if (character.imageUrl && publicImagePath(character.imageUrl)) {
    imagePath = character.imageUrl;
  } else {
    throw new DomainError("avatar_no_portrait", "The character has no portrait to make an avatar from. Give an image.");
  }

  const max = env().AVATAR_JOBS_PER_USER;
  const job = await db.transaction(async (tx) => {
    // One request at a time per user, so the open-jobs count below cannot be raced.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`avatar-user:${userId}`}))`);
    const [counted] = await tx
      .select({ open: sql<number>`count(*)::int` })
      .from(avatarJobs)
      .where(and(eq(avatarJobs.userId, userId), inArray(avatarJobs.status, [...OPEN_STATUSES])));
    if ((counted?.open ?? 0) >= max) throw new DomainError("avatar_too_many_jobs", `At most ${max} avatar generations at once. Wait for one to finish.`, { max });
    await consume(tx, budgets.avatarGenerate(userId));
    if (uploaded) {
      const [image] = await tx
        .insert(images)
        .values({ ownerId: userId, contentType: uploaded.contentType, sha256: uploaded.sha256, bytes: uploaded.bytes })
        .returning({ id: images.id });
      imageId = image!.id;
    }
    const [row] = await tx
      .insert(avatarJobs)
      .values({
        userId,
        characterId: character.id,
        imageId,
        imagePath,
        protocol: config.protocol,
        currentStep: "queued",
        options: { ...(request.options ?? {}) },
      })
      .returning();
    await notify(tx, CHANNELS.avatar, "queue");
    return row!;
  });
  const [before] = await db
    .select({ ahead: sql<number>`count(*)::int` })
    .from(avatarJobs)
    .where(and(inArray(avatarJobs.status, [...OPEN_STATUSES]), lt(avatarJobs.createdAt, job.createdAt)));
  const estimatedTimeMs = Math.round(config.expectedMs * (1 + (before?.ahead ?? 0) / config.servers.length));
  return { jobId: job.id, status: job.status, statusUrl: null as string | null, estimatedTimeMs };
}

/** A preset's portrait under /public (a plain path: no "..", no query). */
function publicImagePath(url: string): string | null {
  if (!/^\/[\w\-./]+\.(png|jpe?g|webp)$/i.test(url) || url.split("/").includes("..")) return null;
  return path.join(process.cwd(), "public", url);
}

/** One of the user's jobs (another user's is not found). */
export async function jobOf(db: Database, userId: string, jobId: string): Promise<AvatarJob> {
  const [job] = await db
    .select()
    .from(avatarJobs)
    .where(and(eq(avatarJobs.id, jobId), eq(avatarJobs.userId, userId)))
    .limit(1);
  if (!job) throw notFound("Avatar job");
  return job;
}

/** The user's latest jobs for a character they may see. */
export async function jobsOf(db: Database, userId: string, characterId: string, limit = 20) {
  await new CharacterModel(db, userId).get(characterId);
  const rows = await db
    .select()
    .from(avatarJobs)
    .where(and(eq(avatarJobs.userId, userId), eq(avatarJobs.characterId, characterId)))
    .orderBy(desc(avatarJobs.createdAt), desc(avatarJobs.id))
    .limit(limit);
  return rows.map(viewOf);
}

/**
 * Cancels a job: a queued one leaves the queue at once; a running one is marked cancelled and
 * its driver stops the server where it can. A finished job is left as it is. Answers the job.
 */
export async function cancelJob(db: Database, userId: string, jobId: string): Promise<AvatarJobView> {
  const [cancelled] = await db
    .update(avatarJobs)
    .set({ status: "cancelled", currentStep: null, finishedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(avatarJobs.id, jobId), eq(avatarJobs.userId, userId), inArray(avatarJobs.status, [...OPEN_STATUSES])))
    .returning();
  if (cancelled) {
    await notify(db, CHANNELS.avatar, cancelled.id);
    return viewOf(cancelled);
  }
  return viewOf(await jobOf(db, userId, jobId));
}

// ---------------------------------------------------------------------------------------------
// The engine (one per instance): claims, drives, recovers
// ---------------------------------------------------------------------------------------------

interface Drive {
  wake: () => void;
}

export class AvatarJobEngine {
  private readonly generators = new Map<string, Generator>();
  private readonly drives = new Map<string, Drive>();
  private readonly busyUntil = new Map<string, number>();
  private readonly config: AvatarEngineConfig;
  private timer: ReturnType<typeof setInterval> | null = null;
  private beat: ReturnType<typeof setInterval> | null = null;
  private unlisten: (() => void) | null = null;
  private stopped = true;
  private ticking: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly db: Database,
    config: Partial<AvatarEngineConfig> = {},
  ) {
    this.config = { ...avatarConfigFromEnv(), ...config };
  }

  get instanceId() {
    return this.config.instanceId;
  }

  /** Starts claiming and recovering jobs: at once, on every notification, and every poll period. */
  async start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.unlisten = await listen(this.db, CHANNELS.avatar, (payload) => {
      if (payload === "queue") this.wake();
      else this.drives.get(payload)?.wake();
    });
    this.timer = setInterval(() => this.wake(), Math.max(this.config.pollMs, 200));
    this.beat = setInterval(() => void this.heartbeat().catch(() => {}), Math.max(Math.floor(this.config.leaseMs / 3), 100));
    this.wake();
  }

  /**
   * Stops this engine as if its instance died: nothing more is written; the leases of its running
   * jobs run out and another instance takes them over.
   */
  async stop() {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.beat) clearInterval(this.beat);
    this.unlisten?.();
    for (const drive of this.drives.values()) drive.wake();
    await this.ticking?.catch(() => {});
  }

  /** Looks for work now (coalesced: at most one pass at a time, another after it if asked). */
  wake() {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.tick()
      .catch((error: unknown) => console.warn("[avatars] queue pass failed", error))
      .finally(() => {
        this.ticking = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** One pass: take over jobs whose instance died, then start queued jobs on free servers. */
  async tick() {
    await this.failStranded();
    for (const id of await this.recoverExpired()) this.run(id);
    for (const url of this.config.servers) {
      if (this.stopped) return;
      if ((this.busyUntil.get(url) ?? 0) > Date.now()) continue;
      const id = await this.claim(url);
      if (id) this.run(id);
    }
  }

  private generator(url: string) {
    let g = this.generators.get(url);
    if (!g) this.generators.set(url, (g = makeGenerator(this.config, url)));
    return g;
  }

  private leaseSql() {
    return sql`now() + ${this.config.leaseMs} * interval '1 millisecond'`;
  }

  private async claim(url: string): Promise<string | null> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`avatar-server:${url}`}))`);
      const rows = await tx.execute<{ id: string }>(sql`
        update ${avatarJobs}
        set status = 'running', server = ${url}, instance_id = ${this.config.instanceId}, lease_until = ${this.leaseSql()},
            started_at = coalesce(started_at, now()), last_heard_at = now(), current_step = 'starting', updated_at = now()
        where id = (
          select j.id from ${avatarJobs} j
          where j.status = 'queued' and j.protocol = ${this.config.protocol}
            and not exists (select 1 from ${avatarJobs} r where r.server = ${url} and r.status = 'running')
          order by (select count(*) from ${avatarJobs} o
                    where o.user_id = j.user_id
                      and (o.status in ('queued', 'running') or o.started_at > now() - interval '1 hour')
                      and (o.created_at, o.id) < (j.created_at, j.id)),
                   j.created_at, j.id
          limit 1
          for update skip locked)
        returning id`);
      const id = rows[0]?.id ?? null;
      if (id) await notify(tx, CHANNELS.avatar, id);
      return id;
    });
  }

  /**
   * Jobs meant for another kind of generator than the one configured now (the app restarted with
   * a different AVATAR3D_PROTOCOL): nothing here can run or finish them, so they end, said as an
   * interruption, instead of waiting for ever.
   */
  private async failStranded() {
    const rows = await this.db.execute<{ id: string }>(sql`
      update ${avatarJobs}
      set status = 'failed', error_code = 'avatar_interrupted', current_step = null, finished_at = now(), lease_until = null, updated_at = now()
      where protocol <> ${this.config.protocol}
        and (status = 'queued' or (status = 'running' and lease_until < now()))
      returning id`);
    for (const { id } of rows) await notify(this.db, CHANNELS.avatar, id);
  }

  /** Running jobs whose instance stopped renewing their lease, now this instance's. */
  private async recoverExpired(): Promise<string[]> {
    const rows = await this.db.execute<{ id: string }>(sql`
      update ${avatarJobs} set instance_id = ${this.config.instanceId}, lease_until = ${this.leaseSql()}, updated_at = now()
      where id in (
        select id from ${avatarJobs}
        where status = 'running' and protocol = ${this.config.protocol} and lease_until < now()
        for update skip locked)
      returning id`);
    return rows.map((r) => r.id);
  }

  private async heartbeat() {
    if (this.stopped || this.drives.size === 0) return;
    await this.db
      .update(avatarJobs)
      .set({ leaseUntil: this.leaseSql() })
      .where(
        and(inArray(avatarJobs.id, [...this.drives.keys()]), eq(avatarJobs.instanceId, this.config.instanceId), eq(avatarJobs.status, "running")),
      );
  }

  private run(jobId: string) {
    if (this.drives.has(jobId)) return;
    let wakeUp: () => void = () => {};
    const drive: Drive = { wake: () => wakeUp() };
    this.drives.set(jobId, drive);
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    void this.drive(jobId, sleep)
      .catch((error: unknown) => console.warn(`[avatars] job ${jobId} failed unexpectedly`, error))
      .finally(() => {
        this.drives.delete(jobId);
        this.wake();
      });
  }

  /** The job, if this instance still drives it (running, leased by it). */
  private async mine(jobId: string): Promise<AvatarJob | null> {
    const [job] = await this.db.select().from(avatarJobs).where(eq(avatarJobs.id, jobId)).limit(1);
    return job && job.status === "running" && job.instanceId === this.config.instanceId ? job : null;
  }

  /** Changes a job this instance drives; false when it is no longer (cancelled, taken over). */
  private async update(jobId: string, set: Partial<typeof avatarJobs.$inferInsert>): Promise<boolean> {
    const rows = await this.db
      .update(avatarJobs)
      .set({ ...set, updatedAt: sql`now()` })
      .where(and(eq(avatarJobs.id, jobId), eq(avatarJobs.status, "running"), eq(avatarJobs.instanceId, this.config.instanceId)))
      .returning({ id: avatarJobs.id });
    if (rows.length > 0) await notify(this.db, CHANNELS.avatar, jobId);
    return rows.length > 0;
  }

  private fail(jobId: string, code: string, params: Record<string, string | number> | null = null) {
    return this.update(jobId, { status: "failed", errorCode: code, errorParams: params, currentStep: null, finishedAt: sql`now()` as unknown as Date, leaseUntil: null });
  }

  /** Back to the queue (the server was busy): keeps its place, since the order is by creation. */
  private async requeue(jobId: string, url: string) {
    this.busyUntil.set(url, Date.now() + this.config.busyRetryMs);
    await this.update(jobId, { status: "queued", server: null, remoteId: null, instanceId: null, leaseUntil: null, currentStep: "waiting_for_server" });
    setTimeout(() => this.wake(), this.config.busyRetryMs + 10).unref?.();
  }

  private async loadImage(job: AvatarJob): Promise<Uint8Array | null> {
    if (job.imageId) {
      const [image] = await this.db.select({ bytes: images.bytes }).from(images).where(eq(images.id, job.imageId)).limit(1);
      return image ? new Uint8Array(image.bytes) : null;
    }
    const file = job.imagePath ? publicImagePath(job.imagePath) : null;
    return file ? new Uint8Array(await readFile(file).catch(() => Buffer.alloc(0))) : null;
  }

  private async drive(jobId: string, sleep: (ms: number) => Promise<void>) {
    let job = await this.mine(jobId);
    if (!job || !job.server) return;
    const server = job.server;
    if (!this.config.servers.includes(server)) {
      await this.fail(jobId, "avatar_interrupted");
      return;
    }
    const generator = this.generator(server);
    let remoteId = job.remoteId;
    try {
      if (!remoteId) {
        const image = await this.loadImage(job);
        if (!image || image.length === 0) {
          await this.fail(jobId, "avatar_no_portrait");
          return;
        }
        await this.update(jobId, { currentStep: "uploading" });
        try {
          ({ remoteId } = await generator.start(image, job.options as GenerateOptions));
        } catch (error) {
          if (error instanceof GeneratorBusy) return void (await this.requeue(jobId, server));
          throw error;
        }
        if (!(await this.update(jobId, { remoteId, currentStep: "generating", lastHeardAt: sql`now()` as unknown as Date }))) {
          await generator.cancel(remoteId).catch(() => {});
          return;
        }
      }
      let lastProgress = job.progress;
      let lastStep = job.currentStep;
      let invalid = 0;
      let completed = false;
      for (;;) {
        await sleep(this.config.pollMs);
        if (this.stopped) return;
        job = await this.mine(jobId);
        if (!job) {
          // Cancelled (or no longer ours): stop the server's work where the protocol allows.
          const [row] = await this.db.select({ status: avatarJobs.status }).from(avatarJobs).where(eq(avatarJobs.id, jobId));
          if (row?.status === "cancelled") await generator.cancel(remoteId).catch(() => {});
          return;
        }
        const silentFor = Date.now() - (job.lastHeardAt ?? job.startedAt ?? job.createdAt).getTime();
        let model: Uint8Array | undefined;
        if (!completed) {
          let result;
          try {
            result = await generator.poll(remoteId);
          } catch (error) {
            if (!(error instanceof GeneratorError)) throw error;
            result = null; // unreachable for now: counts as silence
          }
          if (result?.state === "failed") return void (await this.fail(jobId, result.code));
          if (result?.state === "busy") return void (await this.requeue(jobId, server));
          if (result?.state === "lost") {
            await generator.cancel(remoteId).catch(() => {});
            return void (await this.fail(jobId, "avatar_interrupted"));
          }
          if (result?.state === "running") {
            const elapsed = Date.now() - (job.startedAt ?? job.createdAt).getTime();
            const progress = result.progress ?? estimateProgress(elapsed, this.config.expectedMs);
            const news = (result.progress !== null && result.progress > lastProgress) || result.step !== lastStep;
            if (silentFor > this.config.timeoutMs && !news) {
              await generator.cancel(remoteId).catch(() => {});
              return void (await this.fail(jobId, "avatar_timeout"));
            }
            await this.update(jobId, {
              progress: Math.max(progress, lastProgress),
              currentStep: result.step,
              ...(news ? { lastHeardAt: sql`now()` as unknown as Date } : {}),
            });
            lastProgress = Math.max(progress, lastProgress);
            lastStep = result.step;
            continue;
          }
          if (result?.state === "completed") {
            completed = true;
            model = result.model;
          } else {
            if (silentFor > this.config.timeoutMs) return void (await this.fail(jobId, "avatar_timeout"));
            continue;
          }
        }
        await this.update(jobId, { currentStep: "validating", lastHeardAt: sql`now()` as unknown as Date });
        try {
          model ??= await generator.fetchResult(remoteId);
          const validated = await (this.config.validate ?? validateAvatarModel)(model);
          await this.accept(job, model, validated);
          return;
        } catch (error) {
          if (error instanceof GeneratorError && error.code !== "avatar_invalid_model") throw error;
          // A file still being written, or a bad download: look again a few times.
          if (++invalid > this.config.invalidRetries) return void (await this.fail(jobId, "avatar_invalid_model"));
          // Hunyuan3D answers the file with its status: poll again; others download again.
          if (generator.protocol === "hunyuan3d") completed = false;
        }
      }
    } catch (error) {
      if (this.stopped) return;
      await this.fail(jobId, error instanceof GeneratorError ? error.code : "avatar_failed");
    }
  }

  /** Stores the validated model and attaches it to the character, if the job is still wanted. */
  private async accept(job: AvatarJob, bytes: Uint8Array, model: ValidatedAvatarModel) {
    const done = await this.db.transaction(async (tx) => {
      const [current] = await tx
        .select({ status: avatarJobs.status, instanceId: avatarJobs.instanceId })
        .from(avatarJobs)
        .where(eq(avatarJobs.id, job.id))
        .for("update");
      if (current?.status !== "running" || current.instanceId !== this.config.instanceId) return false;
      const stored = { id: await storeAvatarModel(tx, job.userId, model, bytes, job.protocol) };
      await tx
        .update(avatarJobs)
        .set({ status: "completed", progress: 1, currentStep: null, resultModelId: stored.id, finishedAt: sql`now()`, leaseUntil: null, lastHeardAt: sql`now()`, updatedAt: sql`now()` })
        .where(eq(avatarJobs.id, job.id));
      const [previous] = await tx
        .select({ modelId: characters.avatarModelId })
        .from(characters)
        .where(and(eq(characters.id, job.characterId), eq(characters.ownerId, job.userId)));
      await tx
        .update(characters)
        .set({ avatarModelId: stored.id, updatedAt: sql`now()` })
        .where(and(eq(characters.id, job.characterId), eq(characters.ownerId, job.userId)));
      // The model it replaces goes, unless a copy of the character still uses it.
      if (previous?.modelId && previous.modelId !== stored.id) await deleteAvatarModelIfUnused(tx, previous.modelId);
      await notify(tx, CHANNELS.avatar, job.id);
      return true;
    });
    return done;
  }
}

const holder = globalThis as unknown as { afAvatarEngine?: AvatarJobEngine };

/** This instance's engine, started on first use when generation is configured. */
export function ensureAvatarEngine(db: Database): AvatarJobEngine | null {
  if (avatarConfigFromEnv().servers.length === 0) return null;
  if (!holder.afAvatarEngine) {
    holder.afAvatarEngine = new AvatarJobEngine(db);
    void holder.afAvatarEngine.start().catch((error: unknown) => console.warn("[avatars] could not start the job engine", error));
  }
  return holder.afAvatarEngine;
}
