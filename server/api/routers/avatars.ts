import { tracked } from "@trpc/server";
import { z } from "zod";
import { CHARACTER_LIMITS, idSchema } from "@/lib/schemas";
import { AVATAR_UPLOAD_MAX_BYTES } from "@/server/avatars/gltf";
import { cancelJob, isFinished, jobOf, jobsOf, requestGeneration, viewOf } from "@/server/avatars/jobs";
import { removeAvatarModel, uploadAvatarModel } from "@/server/avatars/models";
import type { Database } from "@/server/db";
import { CHANNELS, watch } from "@/server/db/notify";
import { budgets } from "@/server/limits/budgets";
import { consume } from "@/server/limits/rate-limit";
import { createTRPCRouter, protectedProcedure } from "../trpc";

/** Base64 of at most CHARACTER_LIMITS.imageBytes bytes (4 characters per 3 bytes), no data: prefix. */
const imageBase64Schema = z
  .string()
  .max(Math.ceil(CHARACTER_LIMITS.imageBytes / 3) * 4, "The image is too large.")
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, "Give the image as plain base64 (no data: prefix).");

/** The generator's parameters, bounded to what both servers accept. */
export const avatarGenerateOptionsSchema = z
  .object({
    seed: z.number().int().min(0).max(2_147_483_647).optional(),
    steps: z.number().int().min(1).max(50).optional(),
    guidance: z.number().min(0.1).max(10).optional(),
    faceCount: z.number().int().min(1_000).max(500_000).optional(),
    texture: z.boolean().optional(),
  })
  .strict();

const byJob = z.object({ jobId: idSchema });
/** A position in a job's stream: the time of the row's last change, as the last event's id. */
const lastEventIdSchema = z.string().regex(/^\d{1,15}$/).nullish();

/** Base64 of at most AVATAR_UPLOAD_MAX_BYTES (4 characters per 3 bytes), no data: prefix. */
const modelBase64Schema = z
  .string()
  .min(1, "The model file is empty.")
  .max(Math.ceil(AVATAR_UPLOAD_MAX_BYTES / 3) * 4, `The model file is larger than ${AVATAR_UPLOAD_MAX_BYTES / 1024 / 1024} MB.`)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, "The model file is not valid base64.");

/**
 * Avatars: 3D bodies for characters.
 * - Generation (server/avatars/jobs.ts), as the original API's `POST /api/generate` and its status:
 *   generate, get, job (progress stream), cancel, jobs.
 * - Bring your own (server/avatars/models.ts): upload, remove.
 */
export const avatarsRouter = createTRPCRouter({
  /**
   * Queues a 3D generation for one's own character, from its portrait or from `imageBase64`.
   * Like the original `POST /api/generate`: the job's id and an estimated time.
   */
  generate: protectedProcedure
    .input(z.object({ characterId: idSchema, imageBase64: imageBase64Schema.optional(), options: avatarGenerateOptionsSchema.optional() }))
    .mutation(async ({ ctx, input }) => {
      return requestGeneration(ctx.db, ctx.user.id, input);
    }),

  /** Like the original `GET /api/generate/status/{job_id}`: status, progress, step, result URL, error code. */
  get: protectedProcedure.input(byJob).query(async ({ ctx, input }) => viewOf(await jobOf(ctx.db, ctx.user.id, input.jobId))),

  /** The job as it changes (from NOTIFY, so from any instance), until it ends. Resumable by `lastEventId`. */
  job: protectedProcedure
    .input(byJob.extend({ lastEventId: lastEventIdSchema }))
    .subscription(async function* ({ ctx, input, signal }) {
      yield* followJob(ctx.db, ctx.user.id, input.jobId, input.lastEventId ?? null, signal);
    }),

  /** Cancels a queued or running job (a finished one is answered as it is). */
  cancel: protectedProcedure.input(byJob).mutation(({ ctx, input }) => cancelJob(ctx.db, ctx.user.id, input.jobId)),

  /** One's latest jobs for a character one may see. */
  jobs: protectedProcedure
    .input(z.object({ characterId: idSchema }))
    .query(({ ctx, input }) => jobsOf(ctx.db, ctx.user.id, input.characterId)),

  /** A VRM (0.x or 1.0) or GLB for one's own character; replaces its current avatar. */
  upload: protectedProcedure
    .input(z.object({ characterId: idSchema, dataBase64: modelBase64Schema }))
    .use(({ ctx, next }) => consume(ctx.db, budgets.upload(ctx.user.id)).then(() => next()))
    .mutation(({ ctx, input }) => uploadAvatarModel(ctx.db, ctx.user.id, input.characterId, Buffer.from(input.dataBase64, "base64"))),

  /** Detaches one's own character's avatar (the model goes when nothing else uses it). */
  remove: protectedProcedure
    .input(z.object({ characterId: idSchema }))
    .mutation(({ ctx, input }) => removeAvatarModel(ctx.db, ctx.user.id, input.characterId)),
});

/** A lost notification costs at most this much delay. */
const RECHECK_MS = 2_000;

async function* followJob(db: Database, userId: string, jobId: string, lastEventId: string | null, signal?: AbortSignal) {
  const changes = await watch(db, CHANNELS.avatar, (payload) => payload === jobId);
  try {
    let last = lastEventId;
    for (;;) {
      const job = viewOf(await jobOf(db, userId, jobId));
      const id = String(job.updatedAt.getTime());
      if (id !== last) {
        last = id;
        yield tracked(id, job);
      }
      if (isFinished(job.status) || signal?.aborted) return;
      await changes.next(RECHECK_MS, signal);
    }
  } finally {
    changes.close();
  }
}

