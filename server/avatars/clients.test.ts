import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeHunyuan3d, type FakeHunyuan3d } from "@/e2e/fakes/hunyuan3d";
import { startFakeTrellis, type FakeTrellis } from "@/e2e/fakes/trellis";
import { freePort } from "@/e2e/support/ports";
import { makeImage } from "@/server/images/test-images";
import { estimateProgress, GeneratorBusy, type Generator, type PollResult } from "./generator";
import { hunyuan3dGenerator } from "./hunyuan3d";
import { trellisGenerator } from "./trellis";

let hunyuan: FakeHunyuan3d;
let trellis: FakeTrellis;
beforeAll(async () => {
  [hunyuan, trellis] = await Promise.all([startFakeHunyuan3d({ port: 0, jobMs: 50 }), startFakeTrellis({ port: 0, jobMs: 100 })]);
});
afterAll(() => Promise.all([hunyuan.close(), trellis.close()]));

async function pollUntilDone(generator: Generator, remoteId: string): Promise<PollResult> {
  for (let i = 0; i < 500; i++) {
    const result = await generator.poll(remoteId);
    if (result.state !== "running") return result;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("never finished");
}

describe("estimateProgress", () => {
  it("rises with time, never reaches the cap, and is 0 before anything happened", () => {
    const values = [0, 1_000, 10_000, 60_000, 600_000, 6_000_000].map((t) => estimateProgress(t, 60_000));
    expect(values[0]).toBe(0);
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1]!);
    expect(values.at(-1)).toBeLessThanOrEqual(0.95);
    expect(estimateProgress(-5, 60_000)).toBe(0);
    expect(estimateProgress(1_000, 0)).toBe(0);
  });
});

describe("the Hunyuan3D-2 client", () => {
  it("sends the image as plain base64 with type glb, and texture only when configured", async () => {
    hunyuan.reset();
    const image = await makeImage("png", 32, 32);
    const plain = hunyuan3dGenerator(hunyuan.url);
    const { remoteId } = await plain.start(image, { texture: true, seed: 3 });
    const textured = hunyuan3dGenerator(hunyuan.url, { texture: true });
    await textured.start(image, { texture: true });
    const [first, second] = hunyuan.requests as Record<string, unknown>[];
    expect(first).toMatchObject({ image: image.toString("base64"), seed: 3, type: "glb", texture: false });
    expect(second).toMatchObject({ texture: true });
    const done = await pollUntilDone(plain, remoteId);
    expect(done.state).toBe("completed");
    expect(done.state === "completed" && done.model!.length).toBeGreaterThan(0);
  });

  it("asks for the server's own defaults (octree 128, turbo's 5 steps, guidance 5); face_count only with a texture", async () => {
    hunyuan.reset();
    const image = await makeImage("png", 32, 32);
    await hunyuan3dGenerator(hunyuan.url).start(image, {});
    await hunyuan3dGenerator(hunyuan.url, { texture: true }).start(image, {});
    await hunyuan3dGenerator(hunyuan.url).start(image, { steps: 30, guidance: 7, seed: 9, faceCount: 10_000 });
    const [plain, textured, asked] = hunyuan.requests as Record<string, unknown>[];
    expect(plain).toEqual({ image: image.toString("base64"), seed: 1234, octree_resolution: 128, num_inference_steps: 5, guidance_scale: 5, texture: false, type: "glb" });
    expect(textured).toMatchObject({ texture: true, face_count: 40_000 });
    expect(asked).toMatchObject({ seed: 9, num_inference_steps: 30, guidance_scale: 7, octree_resolution: 128 });
    expect(asked).not.toHaveProperty("face_count");
  });

  it("says a job is lost once the server was seen down and then answers 'processing' for it (a restart)", async () => {
    hunyuan.reset();
    hunyuan.setBehaviour({ jobMs: 3_600_000 });
    const generator = hunyuan3dGenerator(hunyuan.url);
    const { remoteId } = await generator.start(await makeImage("png", 32, 32), {});
    expect(await generator.poll(remoteId)).toMatchObject({ state: "running" });
    expect(await generator.settled(remoteId)).toBe(false);
    await hunyuan.stop();
    await expect(generator.poll(remoteId)).rejects.toMatchObject({ code: "avatar_unreachable", unreachable: "down" });
    await hunyuan.start();
    expect(await generator.poll(remoteId)).toEqual({ state: "lost" });
    // A job sent after the restart is not lost.
    const after = await generator.start(await makeImage("png", 32, 32), {});
    expect(await generator.poll(after.remoteId)).toMatchObject({ state: "running" });
    hunyuan.setBehaviour({ jobMs: 0 });
    expect(await pollUntilDone(generator, after.remoteId)).toMatchObject({ state: "completed" });
    expect(await generator.settled(after.remoteId)).toBe(true);
  });

  it("probes without starting any work", async () => {
    hunyuan.reset();
    expect(await hunyuan3dGenerator(hunyuan.url).probe()).toEqual({ ok: true, busy: false });
    expect(hunyuan.stats.jobsStarted).toBe(0);
    expect(await hunyuan3dGenerator(`http://127.0.0.1:${await freePort()}`).probe()).toEqual({ ok: false, busy: false });
  });
});

describe("the TRELLIS client", () => {
  it("runs the blocking generate in the background, reports the server's progress, then downloads the model", async () => {
    trellis.reset();
    const generator = trellisGenerator(trellis.url);
    const { remoteId } = await generator.start(await makeImage("png", 32, 32), { seed: 5 });
    expect((await generator.poll(remoteId)).state).toBe("running");
    expect(await pollUntilDone(generator, remoteId)).toEqual({ state: "completed" });
    // Only what was asked: the server's form defaults do the rest.
    expect(trellis.requests[0]).toEqual({ file: { filename: "image.png", size: expect.any(Number), type: "image/png" }, seed: "5", output_format: "glb" });
    const model = await generator.fetchResult(remoteId);
    expect(Buffer.from(model.subarray(0, 4)).toString("latin1")).toBe("glTF");
  });

  it("maps steps, guidance and a face budget onto both samplers and mesh_simplify_ratio when asked", async () => {
    trellis.reset();
    const generator = trellisGenerator(trellis.url);
    const { remoteId } = await generator.start(await makeImage("png", 32, 32), { steps: 20, guidance: 4, faceCount: 100_000 });
    await pollUntilDone(generator, remoteId);
    expect(trellis.requests[0]).toMatchObject({
      ss_sampling_steps: "20",
      slat_sampling_steps: "20",
      ss_guidance_strength: "4",
      slat_guidance_strength: "4",
      mesh_simplify_ratio: "0.9",
    });
  });

  it("is settled only once /ping says it is not busy", async () => {
    trellis.reset();
    trellis.setBehaviour({ jobMs: 3_600_000 });
    const generator = trellisGenerator(trellis.url);
    const { remoteId } = await generator.start(await makeImage("png", 32, 32), {});
    for (let i = 0; i < 100 && !(await generator.probe()).busy; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await generator.settled(remoteId)).toBe(false);
    await generator.cancel(remoteId);
    for (let i = 0; i < 100 && !(await generator.settled(remoteId)); i++) await new Promise((r) => setTimeout(r, 10));
    expect(await generator.settled(remoteId)).toBe(true);
    expect(trellis.stats.interrupts).toBe(1);
  });

  it("says busy while another generation runs, and a job it does not know is lost", async () => {
    trellis.reset();
    trellis.setBehaviour({ jobMs: 300 });
    const first = trellisGenerator(trellis.url);
    const { remoteId } = await first.start(await makeImage("png", 32, 32), {});
    for (let i = 0; i < 100 && !(await first.probe()).busy; i++) await new Promise((r) => setTimeout(r, 10));
    await expect(trellisGenerator(trellis.url).start(await makeImage("png", 32, 32), {})).rejects.toBeInstanceOf(GeneratorBusy);
    expect(await trellisGenerator(trellis.url).poll(remoteId)).toEqual({ state: "lost" });
    await first.cancel(remoteId);
    for (let i = 0; i < 100 && trellis.stats.generationsCancelled === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(trellis.stats.generationsCancelled).toBe(1);
  });
});
