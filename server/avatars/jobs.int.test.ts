import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { eq, inArray, isNotNull, sql } from "drizzle-orm";
import { Agent, getGlobalDispatcher, setGlobalDispatcher } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { rawTriangles, startFakeHunyuan3d, type FakeHunyuan3d } from "@/e2e/fakes/hunyuan3d";
import { startFakeTrellis, type FakeTrellis } from "@/e2e/fakes/trellis";
import { isolatedDatabase } from "@/e2e/support/isolated-db";
import { callersOn } from "@/e2e/support/test-caller";
import { avatarJobs, avatarModels, characters, images, users } from "@/server/db/schema";
import { preparePortrait } from "@/server/images/process";
import { makeImage } from "@/server/images/test-images";
import { avatarError, validateAvatarModel } from "./gltf";
import type { AvatarProtocol, Generator } from "./generator";
import { hunyuan3dGenerator } from "./hunyuan3d";
import { AvatarJobEngine, avatarConfigFromEnv, cancelJob, jobOf, requestGeneration, viewOf, type AvatarEngineConfig } from "./jobs";

// Counts decodes of uploaded images (avatars.generate must check its limits before decoding).
vi.mock("@/server/images/process", async (importOriginal) => {
  const original = await importOriginal<typeof import("@/server/images/process")>();
  return { ...original, preparePortrait: vi.fn(original.preparePortrait) };
});

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
  // Nothing left open or held for the next test's servers.
  await isolated.db.update(avatarJobs).set({ status: "cancelled" }).where(inArray(avatarJobs.status, ["queued", "running"]));
  await isolated.db.update(avatarJobs).set({ serverHeldUntil: null }).where(isNotNull(avatarJobs.serverHeldUntil));
  await Promise.all([hunyuan.start(), trellis.start()]); // after a test that stopped one
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
    unreachableMs: 5_000,
    holdMs: 30_000,
    generateTimeoutMs: 60_000,
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

  it("a model that stays incomplete is fetched again a few times, then fails with avatar_invalid_model", async () => {
    const user = await newUser();
    const character = await characterWithPortrait(user.id);
    let fits = 0;
    const config = configFor("hunyuan3d", {
      fit: () => {
        fits += 1;
        return Promise.reject(avatarError("avatar_truncated"));
      },
      invalidRetries: 2,
    });
    const { jobId } = await requestGeneration(db(), user.id, { characterId: character.id }, config);
    await startEngine(config);
    expect(await finished(jobId)).toMatchObject({ status: "failed", errorCode: "avatar_invalid_model", resultModelId: null });
    expect(fits).toBe(3);
  });

  for (const protocol of ["hunyuan3d", "trellis"] as const) {
    it(`${protocol}: a whole model that cannot be made to fit fails at once, without fetching it again`, async () => {
      const user = await newUser();
      const character = await characterWithPortrait(user.id);
      let fits = 0;
      const config = configFor(protocol, {
        fit: () => {
          fits += 1;
          return Promise.reject(avatarError("avatar_too_many_triangles", { max: 1_000 }));
        },
      });
      const { jobId } = await requestGeneration(db(), user.id, { characterId: character.id }, config);
      await startEngine(config);
      expect(await finished(jobId)).toMatchObject({ status: "failed", errorCode: "avatar_invalid_model" });
      expect(fits).toBe(1);
    });
  }

  it("hunyuan3d: a raw heavy mesh is simplified to the triangle limit, and the job says from how many", async () => {
    const user = await newUser();
    const character = await characterWithPortrait(user.id);
    const config = configFor("hunyuan3d", { limits: { maxTriangles: 50_000 } });
    const { jobId } = await requestGeneration(db(), user.id, { characterId: character.id }, config);
    await startEngine(config);
    const done = await finished(jobId);
    expect(done).toMatchObject({ status: "completed", reduction: { fromTriangles: rawTriangles(128) } });
    expect(done.reduction!.toTriangles).toBeLessThanOrEqual(50_000);
    const [model] = await db().select().from(avatarModels).where(eq(avatarModels.id, done.resultModelId!));
    const stored = await validateAvatarModel(new Uint8Array(model!.bytes), { maxTriangles: 50_000 });
    expect(stored.triangles).toBe(done.reduction!.toTriangles);
    expect(viewOf(done).reduction).toEqual(done.reduction);
    // The server's defaults were asked for (octree 128, turbo's 5 steps), not more.
    expect(hunyuan.requests[0]).toMatchObject({ octree_resolution: 128, num_inference_steps: 5, guidance_scale: 5, texture: false });
    expect(hunyuan.requests[0]).not.toHaveProperty("face_count");
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

/** Two users, each with a character, for a job that runs and one that waits behind it. */
async function twoUsers() {
  const [first, second] = [await newUser("먼저"), await newUser("나중")];
  return { first, second, firstCharacter: await characterWithPortrait(first.id), secondCharacter: await characterWithPortrait(second.id) };
}

/** `generator` with its failed polls counted. */
function countingFailures(generator: Generator) {
  const counted = { failedPolls: 0 };
  const wrapped: Generator = {
    ...generator,
    poll: (remoteId) =>
      generator.poll(remoteId).catch((error: unknown) => {
        counted.failedPolls += 1;
        throw error;
      }),
  };
  return Object.assign(counted, { generator: wrapped });
}

describe("the forge against the real servers", () => {
  for (const ending of ["cancel", "timeout"] as const) {
    it(`hunyuan3d: after a ${ending}, the job holds its server until the server's thread ends; the next job starts only then`, async () => {
      hunyuan.setBehaviour({ jobMs: 3_600_000 }); // until the test ends it
      const { first, second, firstCharacter, secondCharacter } = await twoUsers();
      const config = configFor("hunyuan3d", ending === "timeout" ? { timeoutMs: 300 } : {});
      const running = await requestGeneration(db(), first.id, { characterId: firstCharacter.id }, config);
      await startEngine(config);
      await until(() => job(running.jobId), (j) => j.remoteId !== null, "the job to be sent");
      const waiting = await requestGeneration(db(), second.id, { characterId: secondCharacter.id }, config);
      if (ending === "cancel") await cancelJob(db(), first.id, running.jobId);
      const ended = await finished(running.jobId);
      expect(ended.status).toBe(ending === "cancel" ? "cancelled" : "failed");
      expect(ended.serverHeldUntil).not.toBeNull();

      // The driver keeps asking about the uid while the thread runs; nothing else is sent.
      const polls = hunyuan.stats.statusPolls;
      await until(async () => hunyuan.stats.statusPolls, (n) => n >= polls + 5, "the held uid to be polled");
      expect(hunyuan.stats).toMatchObject({ jobsStarted: 1, runningJobs: 1 });
      expect(await job(waiting.jobId)).toMatchObject({ status: "queued", startedAt: null });

      hunyuan.setBehaviour({ jobMs: 0 }); // the thread ends
      expect(await finished(waiting.jobId)).toMatchObject({ status: "completed" });
      expect(hunyuan.stats.maxConcurrentJobs).toBe(1);
      expect(await job(running.jobId)).toMatchObject({ status: ended.status, serverHeldUntil: null, resultModelId: null });
    });
  }

  it("hunyuan3d: a held server is let go when the hold runs out (a dead instance's hold ends by itself)", async () => {
    hunyuan.setBehaviour({ jobMs: 3_600_000 });
    const { first, second, firstCharacter, secondCharacter } = await twoUsers();
    const config = configFor("hunyuan3d");
    const running = await requestGeneration(db(), first.id, { characterId: firstCharacter.id }, config);
    const engine = await startEngine(config);
    await until(() => job(running.jobId), (j) => j.remoteId !== null, "the job to be sent");
    await engine.stop(); // the instance dies, then the job is cancelled: nobody watches its thread
    await cancelJob(db(), first.id, running.jobId, { holdMs: 60_000 });
    const waiting = await requestGeneration(db(), second.id, { characterId: secondCharacter.id }, config);
    const other = await startEngine(config);
    await other.tick();
    expect(await job(waiting.jobId)).toMatchObject({ status: "queued", startedAt: null });
    await db().update(avatarJobs).set({ serverHeldUntil: sql`now() - interval '1 second'` }).where(eq(avatarJobs.id, running.jobId));
    hunyuan.setBehaviour({ jobMs: 100 });
    expect(await finished(waiting.jobId)).toMatchObject({ status: "completed" });
  });

  it("trellis: a generation that outlasts the default dispatcher's header timeout completes on the long one", async () => {
    // Node's fetch waits 300 s for headers; here its default dispatcher waits 500 ms.
    const original = getGlobalDispatcher();
    const shortened = new Agent({ headersTimeout: 500 });
    setGlobalDispatcher(shortened);
    // A server that never answers, asked after the generation started: once the default
    // dispatcher has given up on it, the generation has waited longer than that timeout too.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      trellis.setBehaviour({ jobMs: 3_600_000 });
      const user = await newUser();
      const character = await characterWithPortrait(user.id);
      const config = configFor("trellis", { timeoutMs: 600_000, unreachableMs: 600_000 });
      const { jobId } = await requestGeneration(db(), user.id, { characterId: character.id }, config);
      await startEngine(config);
      await until(async () => trellis.stats.generationsStarted, (n) => n === 1, "the generation to start");
      const witness = await fetch(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/`).catch((error: unknown) => error);
      expect(witness).toMatchObject({ cause: { code: "UND_ERR_HEADERS_TIMEOUT" } });

      trellis.setBehaviour({ jobMs: 0 }); // the generation ends now
      expect(await finished(jobId)).toMatchObject({ status: "completed" });
      // The blocking request itself waited for the answer (it was not lost and then followed).
      expect(trellis.stats).toMatchObject({ clientsGone: 0, generationsCompleted: 1 });
    } finally {
      setGlobalDispatcher(original);
      await shortened.close();
      silent.closeAllConnections();
      silent.close();
    }
  });

  it("trellis: a cancel sends /interrupt, and the next job waits until /ping says the server is free", async () => {
    trellis.setBehaviour({ jobMs: 3_600_000, interruptLagMs: 3_600_000 });
    const { first, second, firstCharacter, secondCharacter } = await twoUsers();
    const config = configFor("trellis");
    const running = await requestGeneration(db(), first.id, { characterId: firstCharacter.id }, config);
    await startEngine(config);
    await until(() => job(running.jobId), (j) => j.currentStep === "generating", "the job to run");
    const waiting = await requestGeneration(db(), second.id, { characterId: secondCharacter.id }, config);
    await cancelJob(db(), first.id, running.jobId);
    await until(async () => trellis.stats.interrupts, (n) => n === 1, "the interrupt");
    const pings = trellis.stats.pings;
    await until(async () => trellis.stats.pings, (n) => n >= pings + 5, "the server to be asked whether it is free");
    expect(await job(waiting.jobId)).toMatchObject({ status: "queued", startedAt: null, currentStep: "queued" });

    trellis.setBehaviour({ interruptLagMs: 0, jobMs: 100 }); // the generation notices the interrupt
    expect(await finished(waiting.jobId)).toMatchObject({ status: "completed" });
    expect(trellis.stats).toMatchObject({ generationsCancelled: 1, generationsCompleted: 1, rejectedBusy: 0 });
  });

  it("trellis: after a lost connection the job follows the generation still running there and gets its model", async () => {
    trellis.setBehaviour({ jobMs: 600, fault: "drop", faultCount: 1 });
    const { first, second, firstCharacter, secondCharacter } = await twoUsers();
    const config = configFor("trellis");
    const running = await requestGeneration(db(), first.id, { characterId: firstCharacter.id }, config);
    const next = await requestGeneration(db(), second.id, { characterId: secondCharacter.id }, config);
    await startEngine(config);
    expect(await finished(running.jobId)).toMatchObject({ status: "completed" });
    expect(await finished(next.jobId)).toMatchObject({ status: "completed" });
    expect(trellis.stats).toMatchObject({ clientsGone: 1, generationsStarted: 2, generationsCompleted: 2, rejectedBusy: 0 });
  });

  for (const protocol of ["hunyuan3d", "trellis"] as const) {
    it(`${protocol}: a server that dies mid-job ends it as avatar_unreachable within the short bound, not the silence limit`, async () => {
      const fake = protocol === "hunyuan3d" ? hunyuan : trellis;
      fake.setBehaviour({ jobMs: 3_600_000 });
      const user = await newUser();
      const character = await characterWithPortrait(user.id);
      const config = configFor(protocol, { timeoutMs: 3_600_000, unreachableMs: 300 });
      const { jobId } = await requestGeneration(db(), user.id, { characterId: character.id }, config);
      await startEngine(config);
      await until(() => job(jobId), (j) => j.currentStep === "generating", "the job to run");
      await fake.stop();
      const done = await finished(jobId);
      expect(done).toMatchObject({ status: "failed", errorCode: "avatar_unreachable" });
      expect(done.progress).toBeLessThan(1);
    });
  }

  it("hunyuan3d: a server that restarted and lost the job ends it as avatar_interrupted; the progress stops", async () => {
    hunyuan.setBehaviour({ jobMs: 3_600_000 });
    const user = await newUser();
    const character = await characterWithPortrait(user.id);
    const counting = countingFailures(hunyuan3dGenerator(hunyuan.url));
    const config = configFor("hunyuan3d", { timeoutMs: 3_600_000, unreachableMs: 3_600_000, generatorFor: () => counting.generator });
    const { jobId } = await requestGeneration(db(), user.id, { characterId: character.id }, config);
    await startEngine(config);
    await until(() => job(jobId), (j) => j.remoteId !== null, "the job to be sent");
    await hunyuan.stop();
    await until(async () => counting.failedPolls, (n) => n >= 1, "a poll to find the server down");
    await hunyuan.start(); // back, knowing no uid: "processing" for ever
    const done = await finished(jobId);
    expect(done).toMatchObject({ status: "failed", errorCode: "avatar_interrupted", serverHeldUntil: null });
    expect(done.progress).toBeLessThan(1);
  });

  it("avatars.generate checks the limits before it decodes the image", async () => {
    const user = await newUser();
    const character = await characterWithPortrait(user.id);
    const config = configFor("hunyuan3d");
    await requestGeneration(db(), user.id, { characterId: character.id }, config);
    await requestGeneration(db(), user.id, { characterId: character.id }, config);
    vi.mocked(preparePortrait).mockClear();
    // Not an image at all: decoding it would fail with another error.
    const imageBase64 = Buffer.from("not an image, but it would be decoded first").toString("base64");
    await expect(requestGeneration(db(), user.id, { characterId: character.id, imageBase64 }, config)).rejects.toMatchObject({ code: "avatar_too_many_jobs" });
    expect(preparePortrait).not.toHaveBeenCalled();
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
