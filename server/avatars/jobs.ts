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
import { estimateProgress, GeneratorBusy, GeneratorError, type AvatarProtocol, type GenerateOptions, type Generator, type PollResult } from "./generator";
import { fitGeneratedModel, type AvatarModelLimits, type FittedAvatarModel } from "./gltf";
import { hunyuan3dGenerator } from "./hunyuan3d";
import { trellisGenerator } from "./trellis";
import { deleteAvatarModelIfUnused, storeAvatarModel } from "./models";

/*
 * Avatar generation jobs, in Postgres (`avatar_jobs`), shared by every app instance.
 *
 * - A request is a row (status "queued"). Any instance's engine claims queued jobs for a free
 *   generator server: ONE job per server, in fair order — each user's first open job before
 *   anyone's second (the rank is the number of the user's jobs created before it that are open
 *   or ran in the last hour, so a second job does not jump ahead the moment the first ends), then
 *   the oldest. The claim is one UPDATE … FOR UPDATE SKIP LOCKED under a per-server advisory
 *   lock, so two instances never start two jobs on one server.
 * - A server is free when no job runs on it AND no ended job holds it (`serverHeldUntil`): a job
 *   that ended without its result (cancelled, timed out, failed) may still be working there —
 *   Hunyuan3D-2 cannot stop a job and runs every job at once on one GPU, TRELLIS stops only at
 *   /interrupt. Its driver goes on asking the server (Hunyuan3D: the uid, until its thread ended
 *   or the server restarted; TRELLIS: /ping, until not busy) and then lets the server go. The
 *   hold is a time (AVATAR3D_HOLD_MS), so it ends by itself if its instance dies.
 * - A running job is leased by the instance driving it (`instanceId`, `leaseUntil`, renewed by a
 *   heartbeat). When an instance dies its lease runs out, and any instance (on start-up and
 *   periodically) takes the job over:
 *     · Hunyuan3D: the job runs on the server by itself; the new instance keeps polling its uid.
 *     · TRELLIS: the job was the blocking `POST /generate_no_preview` of the dead instance; its
 *       answer is gone, and /download/model might hold anything by then. The job fails with
 *       `avatar_interrupted`, the server is sent /interrupt and held until it is free, so the user
 *       can simply try again (a re-run would silently spend minutes of GPU the user may no longer
 *       want).
 * - Three limits end a running job:
 *     · silence (AVATAR3D_TIMEOUT_MS): the server answers but tells nothing new (`lastHeardAt`:
 *       a progress change, or the end). Hunyuan3D reports nothing until done, so for it this is
 *       the job's whole time limit — its crashed jobs say "processing" forever;
 *     · unreachable (AVATAR3D_UNREACHABLE_MS): the server does not answer at all (refused, reset,
 *       timed out) → `avatar_unreachable`, without waiting for the silence limit;
 *     · lost: the server restarted and forgot the job (Hunyuan3D: seen down, then "processing"
 *       again; TRELLIS: its request broke and the server is idle) → `avatar_interrupted`.
 * - Cancel: a queued job leaves at once; a running one is marked cancelled (its result, should
 *   one come, is ignored: finishing requires status "running") and holds its server (see above).
 * - A result is fitted before it counts (`fitGeneratedModel`): a mesh over the triangle limit is
 *   simplified, and the job says by how much (`reduction`). Only an incomplete file is fetched
 *   again (Hunyuan3D may report "completed" while still writing it); a model that cannot be made
 *   to fit fails the job at once.
 * - Every change is sent on NOTIFY `af_avatar` (payload: the job id, or "queue" when a server may
 *   have become free) for `avatars.job` streams and the engines.
 */

export type AvatarJob = typeof avatarJobs.$inferSelect;
export type AvatarJobStatus = AvatarJob["status"];

export interface AvatarEngineConfig {
  servers: string[];
  protocol: AvatarProtocol;
  /** silence limit, see above */
  timeoutMs: number;
  /** a server that answers nothing for this long ends its job as unreachable (after two failed polls at least) */
  unreachableMs: number;
  /** the longest a job that ended without its result keeps its server for the work still running there */
  holdMs: number;
  /** lease of a running job; renewed every third of it */
  leaseMs: number;
  /** how often a running job is polled (and the queue looked at without a notification) */
  pollMs: number;
  /** the typical duration, for the progress estimate of servers that report none */
  expectedMs: number;
  /** how many times an incomplete "completed" model is fetched again before the job fails */
  invalidRetries: number;
  /** how long a server that said "busy" is left alone */
  busyRetryMs: number;
  /** Hunyuan3D: ask for a texture (the server must run with --enable_tex) */
  texture: boolean;
  /** one HTTP request's time limit (not the generation's) */
  requestTimeoutMs: number;
  /** how long a blocking generate request (TRELLIS) waits for its answer: the generation's own limit */
  generateTimeoutMs: number;
  instanceId: string;
  generatorFor?: (url: string) => Generator;
  /** the limits a generated model is fitted to (default AVATAR_MAX_MB, AVATAR_MAX_TRIANGLES) */
  limits?: Partial<AvatarModelLimits>;
  fit?: (bytes: Uint8Array) => Promise<FittedAvatarModel>;
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
    unreachableMs: e.AVATAR3D_UNREACHABLE_MS,
    holdMs: e.AVATAR3D_HOLD_MS,
    leaseMs: e.GENERATION_LEASE_MS,
    pollMs: 2_000,
    expectedMs: e.AVATAR3D_TEXTURE ? 240_000 : 90_000,
    invalidRetries: 3,
    busyRetryMs: 10_000,
    texture: e.AVATAR3D_TEXTURE ?? false,
    requestTimeoutMs: 30_000,
    // TRELLIS reports progress, so a generation may go on past the silence limit while it moves.
    generateTimeoutMs: Math.max(3_600_000, e.AVATAR3D_TIMEOUT_MS),
    instanceId: INSTANCE,
  };
}

function makeGenerator(config: AvatarEngineConfig, url: string): Generator {
  if (config.generatorFor) return config.generatorFor(url);
  return config.protocol === "trellis"
    ? trellisGenerator(url, { requestTimeoutMs: config.requestTimeoutMs, generateTimeoutMs: config.generateTimeoutMs })
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
  /** set when the generated mesh was simplified to fit the triangle limit */
  reduction: { fromTriangles: number; toTriangles: number } | null;
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
  const completed = job.status === "completed";
  return {
    jobId: job.id,
    characterId: job.characterId,
    status: job.status,
    progress: completed ? 1 : Math.max(0, Math.min(1, job.progress)),
    currentStep: job.currentStep,
    resultUrl: completed && job.resultModelId ? avatarModelUrl(job.resultModelId) : null,
    resultModelId: completed ? job.resultModelId : null,
    reduction: completed && job.reduction ? { fromTriangles: job.reduction.fromTriangles, toTriangles: job.reduction.toTriangles } : null,
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

/** Refuses a request past the user's open jobs (AVATAR_JOBS_PER_USER); call under the user's lock. */
async function checkOpenJobs(tx: Pick<Database, "select">, userId: string) {
  const max = env().AVATAR_JOBS_PER_USER;
  const [counted] = await tx
    .select({ open: sql<number>`count(*)::int` })
    .from(avatarJobs)
    .where(and(eq(avatarJobs.userId, userId), inArray(avatarJobs.status, [...OPEN_STATUSES])));
  if ((counted?.open ?? 0) >= max) throw new DomainError("avatar_too_many_jobs", `At most ${max} avatar generations at once. Wait for one to finish.`, { max });
}

/** One request at a time per user, so the open-jobs count cannot be raced. */
const lockUser = (tx: Pick<Database, "execute">, userId: string) => tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`avatar-user:${userId}`}))`);

/**
 * Queues a generation for the owner's character; answers the job and a time estimate. The limits
 * (open jobs, the hourly budget) are checked before an uploaded image is decoded: decoding is the
 * expensive part, and a request over its limits must not get that far.
 */
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
  if (request.imageBase64) {
    // decoded below, once the limits allow it
  } else if (character.imageUrl?.startsWith("/api/images/")) {
    imageId = character.imageUrl.slice("/api/images/".length);
  } else if (character.imageUrl && publicImagePath(character.imageUrl)) {
    imagePath = character.imageUrl;
  } else {
    throw new DomainError("avatar_no_portrait", "The character has no portrait to make an avatar from. Give an image.");
  }

  // The limits first: the budget is spent by the attempt, whatever the image turns out to be.
  await db.transaction(async (tx) => {
    await lockUser(tx, userId);
    await checkOpenJobs(tx, userId);
    await consume(tx, budgets.avatarGenerate(userId));
  });
  const uploaded = request.imageBase64 ? await preparePortrait(Buffer.from(request.imageBase64, "base64")) : null;

  const job = await db.transaction(async (tx) => {
    await lockUser(tx, userId);
    // Again: another request of the user's may have been queued while this image was decoded.
    await checkOpenJobs(tx, userId);
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

/** `now() + ms`, in SQL. */
const fromNow = (ms: number) => sql`now() + ${ms} * interval '1 millisecond'`;

/**
 * Cancels a job: a queued one leaves the queue at once; a running one is marked cancelled and
 * keeps its server (in the same statement, so no other job can slip onto it) until its driver
 * has stopped the server's work or seen it end. A finished job is left as it is. Answers the job.
 */
export async function cancelJob(db: Database, userId: string, jobId: string, config: Pick<AvatarEngineConfig, "holdMs"> = avatarConfigFromEnv()): Promise<AvatarJobView> {
  const [cancelled] = await db
    .update(avatarJobs)
    .set({
      status: "cancelled",
      currentStep: null,
      finishedAt: sql`now()`,
      updatedAt: sql`now()`,
      serverHeldUntil: sql`case when ${avatarJobs.status} = 'running' then ${fromNow(config.holdMs)} end`,
    })
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

type Sleep = (ms: number) => Promise<void>;

/** Whether a result that failed to fit is worth fetching again: only an incomplete file is. */
function incomplete(error: unknown, bytes: Uint8Array | undefined): boolean {
  if (error instanceof GeneratorError) return true; // the download itself failed
  if (bytes?.length === 0) return true;
  const reason = (error as { params?: { reason?: unknown } } | null)?.params?.reason;
  return reason === "avatar_truncated";
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
   * jobs run out and another instance takes them over, and the servers it held are let go when
   * their holds run out.
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

  private async claim(url: string): Promise<string | null> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`avatar-server:${url}`}))`);
      const rows = await tx.execute<{ id: string }>(sql`
        update ${avatarJobs}
        set status = 'running', server = ${url}, instance_id = ${this.config.instanceId}, lease_until = ${fromNow(this.config.leaseMs)},
            started_at = coalesce(started_at, now()), last_heard_at = now(), current_step = 'starting', updated_at = now()
        where id = (
          select j.id from ${avatarJobs} j
          where j.status = 'queued' and j.protocol = ${this.config.protocol}
            and not exists (select 1 from ${avatarJobs} r where r.server = ${url} and (r.status = 'running' or r.server_held_until > now()))
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
      update ${avatarJobs} set instance_id = ${this.config.instanceId}, lease_until = ${fromNow(this.config.leaseMs)}, updated_at = now()
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
      .set({ leaseUntil: fromNow(this.config.leaseMs) })
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

  /** Fails the job; with `hold`, its server stays taken (in the same statement) for the work left there. */
  private fail(jobId: string, code: string, hold = false) {
    return this.update(jobId, {
      status: "failed",
      errorCode: code,
      currentStep: null,
      finishedAt: sql`now()` as unknown as Date,
      leaseUntil: null,
      ...(hold ? { serverHeldUntil: fromNow(this.config.holdMs) as unknown as Date } : {}),
    });
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

  private async drive(jobId: string, sleep: Sleep) {
    let job = await this.mine(jobId);
    if (!job?.server) return void (await this.ended(jobId, null, null, sleep));
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
        if (!(await this.update(jobId, { currentStep: "uploading" }))) return void (await this.ended(jobId, generator, null, sleep));
        try {
          ({ remoteId } = await generator.start(image, job.options as GenerateOptions));
        } catch (error) {
          if (error instanceof GeneratorBusy) return void (await this.requeue(jobId, server));
          throw error;
        }
        // Cancelled while the image was on its way: the work has begun there all the same.
        if (!(await this.update(jobId, { remoteId, currentStep: "generating", lastHeardAt: sql`now()` as unknown as Date }))) {
          return void (await this.ended(jobId, generator, remoteId, sleep));
        }
      }
      let lastProgress = job.progress;
      let lastStep = job.currentStep;
      let invalid = 0;
      let completed = false;
      let answeredAt = Date.now();
      let failedPolls = 0;
      for (;;) {
        await sleep(this.config.pollMs);
        if (this.stopped) return;
        job = await this.mine(jobId);
        if (!job) return void (await this.ended(jobId, generator, remoteId, sleep));
        const silentFor = Date.now() - (job.lastHeardAt ?? job.startedAt ?? job.createdAt).getTime();
        let model: Uint8Array | undefined;
        if (!completed) {
          let result: PollResult;
          try {
            result = await generator.poll(remoteId);
            answeredAt = Date.now();
            failedPolls = 0;
          } catch (error) {
            if (!(error instanceof GeneratorError)) throw error;
            // No answer: the progress stands still, and past the bound the job ends.
            if (++failedPolls >= 2 && Date.now() - answeredAt >= this.config.unreachableMs) return void (await this.fail(jobId, "avatar_unreachable"));
            continue;
          }
          if (result.state === "failed") return void (await this.end(jobId, generator, remoteId, result.code, sleep));
          if (result.state === "busy") return void (await this.requeue(jobId, server));
          if (result.state === "lost") return void (await this.end(jobId, generator, remoteId, "avatar_interrupted", sleep));
          if (result.state === "running") {
            const elapsed = Date.now() - (job.startedAt ?? job.createdAt).getTime();
            const progress = result.progress ?? estimateProgress(elapsed, this.config.expectedMs);
            const news = (result.progress !== null && result.progress > lastProgress) || result.step !== lastStep;
            if (silentFor > this.config.timeoutMs && !news) return void (await this.end(jobId, generator, remoteId, "avatar_timeout", sleep));
            await this.update(jobId, {
              progress: Math.max(progress, lastProgress),
              currentStep: result.step,
              ...(news ? { lastHeardAt: sql`now()` as unknown as Date } : {}),
            });
            lastProgress = Math.max(progress, lastProgress);
            lastStep = result.step;
            continue;
          }
          completed = true;
          model = result.model;
        }
        await this.update(jobId, { currentStep: "validating", lastHeardAt: sql`now()` as unknown as Date });
        try {
          model ??= await generator.fetchResult(remoteId);
          const fitted = await (this.config.fit ?? ((bytes: Uint8Array) => fitGeneratedModel(bytes, this.config.limits)))(model);
          await this.accept(job, fitted);
          return;
        } catch (error) {
          if (error instanceof GeneratorError && error.code !== "avatar_invalid_model") throw error;
          // A file still being written, or a broken download: look again a few times. A model
          // that is whole but cannot be made to fit would only be refused again.
          if (!incomplete(error, model) || ++invalid > this.config.invalidRetries) return void (await this.fail(jobId, "avatar_invalid_model"));
          // Hunyuan3D answers the file with its status: poll again; others download again.
          if (generator.protocol === "hunyuan3d") completed = false;
        }
      }
    } catch (error) {
      if (this.stopped) return;
      await this.fail(jobId, error instanceof GeneratorError ? error.code : "avatar_failed");
    }
  }

  /**
   * Ends a running job without its result. Its work may go on at the server (Hunyuan3D cannot be
   * stopped, TRELLIS only by /interrupt), so the server stays held until it is free — except
   * after a Hunyuan3D restart, whose threads died with it.
   */
  private async end(jobId: string, generator: Generator, remoteId: string, code: string, sleep: Sleep) {
    const hold = generator.protocol === "trellis" || code === "avatar_timeout";
    if (await this.fail(jobId, code, hold)) {
      if (hold) await this.holdServer(jobId, generator, remoteId, sleep);
    } else {
      await this.ended(jobId, generator, remoteId, sleep);
    }
  }

  /** The job is no longer this driver's to run: if it was cancelled, see its server's work end. */
  private async ended(jobId: string, generator: Generator | null, remoteId: string | null, sleep: Sleep) {
    const [row] = await this.db
      .select({ status: avatarJobs.status, instanceId: avatarJobs.instanceId, heldUntil: avatarJobs.serverHeldUntil })
      .from(avatarJobs)
      .where(eq(avatarJobs.id, jobId));
    if (row?.status !== "cancelled" || row.instanceId !== this.config.instanceId || !row.heldUntil) return;
    if (generator && remoteId) await this.holdServer(jobId, generator, remoteId, sleep);
    else await this.releaseServer(jobId); // nothing was sent: nothing runs there
  }

  /**
   * Keeps the ended job's server until its work there is over (or the hold runs out): TRELLIS is
   * sent /interrupt, then both are asked until `settled`. A server that stops answering meanwhile
   * is let go after the unreachable bound: whatever ran there went with it.
   */
  private async holdServer(jobId: string, generator: Generator, remoteId: string, sleep: Sleep) {
    await generator.cancel(remoteId).catch(() => {});
    const [row] = await this.db.select({ heldUntil: avatarJobs.serverHeldUntil }).from(avatarJobs).where(eq(avatarJobs.id, jobId));
    const until = row?.heldUntil?.getTime() ?? 0;
    let answeredAt = Date.now();
    while (!this.stopped && Date.now() < until) {
      try {
        if (await generator.settled(remoteId)) break;
        answeredAt = Date.now();
      } catch {
        if (Date.now() - answeredAt >= this.config.unreachableMs) break;
      }
      await sleep(this.config.pollMs);
    }
    if (!this.stopped) await this.releaseServer(jobId);
  }

  private async releaseServer(jobId: string) {
    await this.db
      .update(avatarJobs)
      .set({ serverHeldUntil: null, updatedAt: sql`now()` })
      .where(and(eq(avatarJobs.id, jobId), eq(avatarJobs.instanceId, this.config.instanceId)));
    await notify(this.db, CHANNELS.avatar, "queue");
  }

  /** Stores the fitted model and attaches it to the character, if the job is still wanted. */
  private async accept(job: AvatarJob, { bytes, model, reduction }: FittedAvatarModel) {
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
        .set({
          status: "completed",
          progress: 1,
          currentStep: null,
          resultModelId: stored.id,
          reduction,
          finishedAt: sql`now()`,
          leaseUntil: null,
          lastHeardAt: sql`now()`,
          updatedAt: sql`now()`,
        })
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
