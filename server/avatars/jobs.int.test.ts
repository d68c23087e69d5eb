import { eq, inArray, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startFakeHunyuan3d, type FakeHunyuan3d } from "@/e2e/fakes/hunyuan3d";
import { startFakeTrellis, type FakeTrellis } from "@/e2e/fakes/trellis";
import { isolatedDatabase } from "@/e2e/support/isolated-db";
import { callersOn } from "@/e2e/support/test-caller";
import { avatarJobs, avatarModels, characters, images, users } from "@/server/db/schema";
import { makeImage } from "@/server/images/test-images";
import { validateAvatarModel } from "./gltf";
import type { AvatarProtocol } from "./generator";
import { AvatarJobEngine, avatarConfigFromEnv, cancelJob, jobOf, requestGeneration, viewOf, type AvatarEngineConfig } from "./jobs";

// The router's configuration (env): generation on, pointing at nothing — jobs made through the
// API are driven by the engines each test starts, against the fakes.
process.env.AVATAR3D_URL = "http://127.0.0.1:9";
process.env.AVATAR_JOBS_PER_USER = "2";

let hunyuan: FakeHunyuan3d;
let trellis: FakeTrellis;
let isolated: Awaited<ReturnType<typeof isolatedDatabase>>;
const engines: AvatarJobEngine[] = [];

beforeAll(async () => {
  [hunyuan, trellis] = await Promise.all([startFakeHunyuan3d({ port: 0, jobMs: 150 }), startFakeTrellis({ port: 0, jobMs: 200 })]);
  isolated = await isolatedDatabase();
}, 60_000);
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
  // Nothing left open for the next test's servers.
  await isolated.db.update(avatarJobs).set({ status: "cancelled" }).where(inArray(avatarJobs.status, ["queued", "running"]));
  hunyuan.reset();
  trellis.reset();
});
afterAll(async () => {
  await Promise.all([hunyuan?.close(), trellis?.close()]);
  await isolated?.drop();
});

const db = () => isolated.db;

function configFor(protocol: AvatarProtocol, overrides: Partial<AvatarEngineConfig> = {}): AvatarEngineConfig {
  return {
    ...avatarConfigFromEnv(),
    servers: [protocol === "hunyuan3d" ? hunyuan.url : trellis.url],
    protocol,
    timeoutMs: 5_000,
    leaseMs: 1_000,
    pollMs: 25,
    expectedMs: 300,
    invalidRetries: 3,
    busyRetryMs: 50,
    requestTimeoutMs: 5_000,
    instanceId: crypto.randomUUID(),
    ...overrides,
  };
}

async function startEngine(config: AvatarEngineConfig) {
  const engine = new AvatarJobEngine(db(), config);
  engines.push(engine);
  await engine.start();
  return engine;
}

async function newUser(name = "아바타") {
  const [user] = await db().insert(users).values({ email: `${crypto.randomUUID()}@example.com`, name }).returning();
  return user!;
}

/** A character of `userId` whose portrait is an uploaded PNG. */
async function characterWithPortrait(userId: string, visibility: "private" | "public" = "private") {
  const png = await makeImage("png", 64, 64);
  const [image] = await db()
    .insert(images)
    .values({ ownerId: userId, contentType: "image/png", sha256: "x", bytes: png })
    .returning({ id: images.id });
  const [character] = await db()
    .insert(characters)
    .values({ ownerId: userId, name: "조각상", imageUrl: `/api/images/${image!.id}`, visibility })
    .returning();
  return character!;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const job = (id: string) => db().select().from(avatarJobs).where(eq(avatarJobs.id, id)).then((rows) => rows[0]!);
const finished = (id: string, what = "the job to end") => until(() => job(id), (j) => !["queued", "running"].includes(j.status), what);

describe("avatar generation jobs", () => {
  for (const protocol of ["hunyuan3d", "trellis"] as const) {
    it(`${protocol}: generates from the portrait with rising progress, stores a valid GLB and attaches it`, async () => {
      const user = await newUser();
      const character = await characterWithPortrait(user.id);
      const config = configFor(protocol);
      const answer = await requestGeneration(db(), user.id, { characterId: character.id }, config);
      expect(answer).toMatchObject({ status: "queued", estimatedTimeMs: expect.any(Number) });
      await startEngine(config);

      const seen: number[] = [];
      const done = await until(
        async () => {
          const j = await job(answer.jobId);
          seen.push(j.progress);
          return j;
        },
        (j) => j.status !== "queued" && j.status !== "running",
        "the job to complete",
      );
      expect(done).toMatchObject({ status: "completed", progress: 1, errorCode: null });
      expect(seen.some((p) => p > 0 && p < 1)).toBe(true);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);

      const [model] = await db().select().from(avatarModels).where(eq(avatarModels.id, done.resultModelId!));
      expect(model).toMatchObject({ ownerId: user.id, source: protocol, format: "glb" });
      await expect(validateAvatarModel(new Uint8Array(model!.bytes))).resolves.toMatchObject({ format: "glb" });
      const [attached] = await db().select({ avatarModelId: characters.avatarModelId }).from(characters).where(eq(characters.id, character.id));
      expect(attached!.avatarModelId).toBe(model!.id);
      expect(viewOf(done)).toMatchObject({ status: "completed", resultUrl: `/api/avatars/${model!.id}`, error: null });
    });
  }

  it("hunyuan3d: a job whose server thread crashed ('processing' forever) fails with avatar_timeout", async () => {
    hunyuan.setBehaviour({ fault: "crash" });
    const user = await newUser();
    const character = await characterWithPortrait(user.id);
    const config = configFor("hunyuan3d", { timeoutMs: 400 });
    const { jobId } = await requestGeneration(db(), user.id, { characterId: character.id }, config);
    await startEngine(config);
    const done = await finished(jobId);
    expect(done).toMatchObject({ status: "failed", errorCode: "avatar_timeout" });
    // Estimated progress rose, but never to "done".
    expect(done.progress).toBeGreaterThan(0);
    expect(done.progress).toBeLessThan(1);
  });

  it("trellis: a generation that stops reporting progress fails with avatar_timeout and is interrupted", async () => {
    trellis.setBehaviour({ jobMs: 60_000 });
    const user = await newUser();
    const character = await characterWithPortrait(user.id);
    const config = configFor("trellis", { timeoutMs: 400 });
    const { jobId } = await requestGeneration(db(), user.id, { characterId: character.id }, config);
    await startEngine(config);
    expect(await finished(jobId)).toMatchObject({ status: "failed", errorCode: "avatar_timeout" });
    await until(async () => trellis.stats.generationsCancelled, (n) => n === 1, "the interrupt");
  });

  it("hunyuan3d: a half-written model is not accepted; the complete file is, once it is there", async () => {
    hunyuan.setBehaviour({ fault: "half-written" });
    const user = await newUser();
    const character = await characterWithPortrait(user.id);
    const config = configFor("hunyuan3d");
    const { jobId } = await requestGeneration(db(), user.id, { characterId: character.id }, config);
    await startEngine(config);
    const done = await finished(jobId);
    expect(done.status).toBe("completed");
    const [model] = await db().select().from(avatarModels).where(eq(avatarModels.id, done.resultModelId!));
    await expect(validateAvatarModel(new Uint8Array(model!.bytes))).resolves.toBeTruthy();
  });

  it("a model that never validates fails with avatar_invalid_model", async () => {
    const user = await newUser();
    const character = await characterWithPortrait(user.id);
    const config = configFor("hunyuan3d", {
      validate: () => Promise.reject(new Error("truncated")),
      invalidRetries: 2,
    });
    const { jobId } = await requestGeneration(db(), user.id, { characterId: character.id }, config);
    await startEngine(config);
    expect(await finished(jobId)).toMatchObject({ status: "failed", errorCode: "avatar_invalid_model", resultModelId: null });
  });

  it("trellis: a failing pipeline fails the job with a code, never the server's text", async () => {
    trellis.setBehaviour({ fault: "fail" });
    const user = await newUser();
    const character = await characterWithPortrait(user.id);
    const config = configFor("trellis");
    const { jobId } = await requestGeneration(db(), user.id, { characterId: character.id }, config);
    await startEngine(config);
    const done = await finished(jobId);
    expect(done).toMatchObject({ status: "failed", errorCode: "avatar_failed" });
    expect(JSON.stringify(viewOf(done))).not.toContain("CUDA");
  });

  it("trellis: while the server is busy (503) the job waits in the queue, then runs", async () => {
    trellis.setBehaviour({ jobMs: 600 });
    // Someone else's generation on the same server, outside the app.
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(await makeImage("png", 32, 32))], { type: "image/png" }), "x.png");
    const outside = fetch(`${trellis.url}/generate_no_preview`, { method: "POST", body: form });
    await until(async () => (await (await fetch(`${trellis.url}/ping`)).json()) as { busy: boolean }, (p) => p.busy, "the server to be busy");

    const user = await newUser();
    const character = await characterWithPortrait(user.id);
    const config = configFor("trellis");
    const { jobId } = await requestGeneration(db(), user.id, { characterId: character.id }, config);
    await startEngine(config);
    await until(() => job(jobId), (j) => j.currentStep === "waiting_for_server", "the job to wait for the server");
    expect((await job(jobId)).status).toBe("queued");
    await outside;
    expect(await finished(jobId)).toMatchObject({ status: "completed" });
  });

  it("cancels a queued job at once, and a running one (interrupted, its result ignored)", async () => {
    trellis.setBehaviour({ jobMs: 60_000 });
    const user = await newUser();
    const character = await characterWithPortrait(user.id);
    const config = configFor("trellis");
    const running = await requestGeneration(db(), user.id, { characterId: character.id }, config);
    const queued = await requestGeneration(db(), user.id, { characterId: character.id }, config);
    await startEngine(config);
    await until(() => job(running.jobId), (j) => j.currentStep === "generating", "the first job to run");
    expect((await job(queued.jobId)).status).toBe("queued");

    expect(await cancelJob(db(), user.id, queued.jobId)).toMatchObject({ status: "cancelled" });
    expect(await cancelJob(db(), user.id, running.jobId)).toMatchObject({ status: "cancelled" });
    await until(async () => trellis.stats.generationsCancelled, (n) => n === 1, "the running generation to be interrupted");
    // Cancelling again answers the job as it is.
    expect(await cancelJob(db(), user.id, running.jobId)).toMatchObject({ status: "cancelled" });
    const [attached] = await db().select({ avatarModelId: characters.avatarModelId }).from(characters).where(eq(characters.id, character.id));
    expect(attached!.avatarModelId).toBeNull();
    expect((await job(running.jobId)).status).toBe("cancelled");
  });

  it("hunyuan3d: a cancelled running job's result is ignored when it arrives", async () => {
    hunyuan.setBehaviour({ jobMs: 400 });
    const user = await newUser();
    const character = await characterWithPortrait(user.id);
    const config = configFor("hunyuan3d");
    const { jobId } = await requestGeneration(db(), user.id, { characterId: character.id }, config);
    await startEngine(config);
    await until(() => job(jobId), (j) => j.remoteId !== null, "the job to be sent");
    await cancelJob(db(), user.id, jobId);
    await until(async () => hunyuan.stats.jobsCompleted, (n) => n === 1, "the server to finish anyway");
    await new Promise((r) => setTimeout(r, 100));
    expect(await job(jobId)).toMatchObject({ status: "cancelled", resultModelId: null });
    expect(await db().select().from(avatarModels).where(eq(avatarModels.ownerId, user.id))).toEqual([]);
  });

  it("hunyuan3d: a job survives its instance: another instance takes it over after the lease and finishes it", async () => {
    hunyuan.setBehaviour({ jobMs: 500 });
    const user = await newUser();
    const character = await characterWithPortrait(user.id);
    const { jobId } = await requestGeneration(db(), user.id, { characterId: character.id }, configFor("hunyuan3d"));
    const first = await startEngine(configFor("hunyuan3d"));
    const sent = await until(() => job(jobId), (j) => j.remoteId !== null, "the job to be sent");
    await first.stop(); // the instance dies
    await db().update(avatarJobs).set({ leaseUntil: sql`now() - interval '1 second'` }).where(eq(avatarJobs.id, jobId));

    const second = await startEngine(configFor("hunyuan3d"));
    const done = await finished(jobId);
    expect(done).toMatchObject({ status: "completed", remoteId: sent.remoteId, instanceId: second.instanceId });
    expect(hunyuan.stats.jobsStarted).toBe(1); // polled, not sent again
  });

  it("trellis: a job whose instance died fails with avatar_interrupted (its blocking request died with it)", async () => {
    trellis.setBehaviour({ jobMs: 60_000 });
    const user = await newUser();
    const character = await characterWithPortrait(user.id);
    const { jobId } = await requestGeneration(db(), user.id, { characterId: character.id }, configFor("trellis"));
    const first = await startEngine(configFor("trellis"));
    await until(() => job(jobId), (j) => j.currentStep === "generating", "the job to run");
    await first.stop();
    await db().update(avatarJobs).set({ leaseUntil: sql`now() - interval '1 second'` }).where(eq(avatarJobs.id, jobId));
    await startEngine(configFor("trellis"));
    expect(await finished(jobId)).toMatchObject({ status: "failed", errorCode: "avatar_interrupted" });
    await until(async () => trellis.stats.generationsCancelled, (n) => n === 1, "the orphaned generation to be interrupted");
  });

  it("ends a job queued for another kind of generator than the one configured now, instead of leaving it queued", async () => {
    const user = await newUser();
    const character = await characterWithPortrait(user.id);
    // Queued while the app spoke TRELLIS; it restarts speaking Hunyuan3D.
    const { jobId } = await requestGeneration(db(), user.id, { characterId: character.id }, configFor("trellis"));
    await startEngine(configFor("hunyuan3d"));
    expect(await finished(jobId)).toMatchObject({ status: "failed", errorCode: "avatar_interrupted" });
    expect(trellis.stats.generationsStarted).toBe(0);
  });

  it("limits open jobs per user (AVATAR_JOBS_PER_USER)", async () => {
    const user = await newUser();
    const character = await characterWithPortrait(user.id);
    const config = configFor("hunyuan3d");
    await requestGeneration(db(), user.id, { characterId: character.id }, config);
    const second = await requestGeneration(db(), user.id, { characterId: character.id }, config);
    await expect(requestGeneration(db(), user.id, { characterId: character.id }, config)).rejects.toMatchObject({
      code: "avatar_too_many_jobs",
      params: { max: 2 },
    });
    await cancelJob(db(), user.id, second.jobId);
    await expect(requestGeneration(db(), user.id, { characterId: character.id }, config)).resolves.toMatchObject({ status: "queued" });
  });

  it("runs one job at a time per server, fairly: each user's first job before anyone's second", async () => {
    hunyuan.setBehaviour({ jobMs: 150 });
    const [greedy, other] = [await newUser("욕심"), await newUser("다른")];
    const [mine, theirs] = [await characterWithPortrait(greedy.id), await characterWithPortrait(other.id)];
    const config = configFor("hunyuan3d");
    const a1 = await requestGeneration(db(), greedy.id, { characterId: mine.id }, config);
    const a2 = await requestGeneration(db(), greedy.id, { characterId: mine.id }, config);
    const b1 = await requestGeneration(db(), other.id, { characterId: theirs.id }, config);
    await startEngine(config);
    await Promise.all([a1, a2, b1].map((j) => finished(j.jobId)));
    const rows = await db().select().from(avatarJobs).where(inArray(avatarJobs.id, [a1.jobId, a2.jobId, b1.jobId]));
    const order = rows.sort((x, y) => x.startedAt!.getTime() - y.startedAt!.getTime()).map((r) => r.id);
    expect(order).toEqual([a1.jobId, b1.jobId, a2.jobId]);
    // Never two at once on the one server.
    expect(hunyuan.stats.maxConcurrentJobs).toBe(1);
    for (const r of rows) expect(r.status).toBe("completed");
  });

  it("is off when no server is configured", async () => {
    const user = await newUser();
    const character = await characterWithPortrait(user.id);
    await expect(requestGeneration(db(), user.id, { characterId: character.id }, configFor("hunyuan3d", { servers: [] }))).rejects.toMatchObject({
      code: "avatar_generation_off",
    });
  });
});

describe("avatars procedures", () => {
  const callerFor = (user: { id: string; name: string | null; email: string | null } | null) => callersOn(db())(user);

  it("generate → get → jobs → cancel for the owner; NOT_FOUND for another user, UNAUTHORIZED for visitors", async () => {
    const owner = await newUser("주인");
    const other = await newUser("남");
    const character = await characterWithPortrait(owner.id);
    const answer = await callerFor(owner).avatars.generate({ characterId: character.id, options: { seed: 7 } });
    expect(answer).toMatchObject({ jobId: expect.any(String), status: "queued" });
    expect((await job(answer.jobId)).options).toEqual({ seed: 7 });
    expect(await callerFor(owner).avatars.get({ jobId: answer.jobId })).toMatchObject({ status: "queued", progress: 0, currentStep: "queued", resultUrl: null, error: null });
    expect((await callerFor(owner).avatars.jobs({ characterId: character.id })).map((j) => j.jobId)).toEqual([answer.jobId]);

    await expect(callerFor(other).avatars.generate({ characterId: character.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(callerFor(other).avatars.get({ jobId: answer.jobId })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(callerFor(other).avatars.cancel({ jobId: answer.jobId })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(callerFor(other).avatars.jobs({ characterId: character.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(callerFor(null).avatars.generate({ characterId: character.id })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(callerFor(null).avatars.get({ jobId: answer.jobId })).rejects.toMatchObject({ code: "UNAUTHORIZED" });

    expect(await callerFor(owner).avatars.cancel({ jobId: answer.jobId })).toMatchObject({ status: "cancelled" });
    expect(await jobOf(db(), owner.id, answer.jobId)).toMatchObject({ status: "cancelled" });
  });

  it("lets only the owner generate: another's public character is FORBIDDEN, a preset too", async () => {
    const owner = await newUser();
    const other = await newUser();
    const character = await characterWithPortrait(owner.id, "public");
    await expect(callerFor(other).avatars.generate({ characterId: character.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(callerFor(other).avatars.generate({ characterId: "preset-hermione" })).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("needs a portrait or an image, and takes an uploaded image instead", async () => {
    const owner = await newUser();
    const [bare] = await db().insert(characters).values({ ownerId: owner.id, name: "민얼굴" }).returning();
    await expect(callerFor(owner).avatars.generate({ characterId: bare!.id })).rejects.toMatchObject({
      code: "PRECONDITION_FAILED",
      cause: { code: "avatar_no_portrait" },
    });
    const imageBase64 = (await makeImage("png", 48, 48)).toString("base64");
    const { jobId } = await callerFor(owner).avatars.generate({ characterId: bare!.id, imageBase64 });
    const row = await job(jobId);
    expect(row.imageId).not.toBeNull();
    await expect(callerFor(owner).avatars.generate({ characterId: bare!.id, imageBase64: "data:image/png;base64,AAAA" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("streams a job's progress from NOTIFY until it ends", async () => {
    hunyuan.setBehaviour({ jobMs: 200 });
    const owner = await newUser();
    const character = await characterWithPortrait(owner.id);
    const { jobId } = await requestGeneration(db(), owner.id, { characterId: character.id }, configFor("hunyuan3d"));
    await startEngine(configFor("hunyuan3d"));
    const events: { status: string; progress: number }[] = [];
    // Server-side calls get tracked events as the raw [id, data] envelopes the procedure yields.
    for await (const event of await callerFor(owner).avatars.job({ jobId })) {
      events.push((event as unknown as [string, { status: string; progress: number }])[1]);
    }
    expect(events.at(-1)).toMatchObject({ status: "completed", progress: 1 });
    expect(events.some((e) => e.status === "running")).toBe(true);
  });
});
