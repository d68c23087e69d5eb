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
    expect(trellis.requests[0]).toMatchObject({ seed: "5", output_format: "glb" });
    const model = await generator.fetchResult(remoteId);
    expect(Buffer.from(model.subarray(0, 4)).toString("latin1")).toBe("glTF");
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
