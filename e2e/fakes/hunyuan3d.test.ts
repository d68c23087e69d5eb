// Proves the Hunyuan3D fake speaks api_server.py's protocol (Tencent/Hunyuan3D-2) and keeps its
// unkind parts: no error state, no progress, unbounded parallel jobs, a blocking /generate,
// half-written files. Checks order and outcomes, never durations.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { validateAvatarModel } from "@/server/avatars/gltf";
import { HUNYUAN3D_SERVER_ERROR, pythonB64decode, rawTriangles, startFakeHunyuan3d, type FakeHunyuan3d } from "./hunyuan3d";

export const TINY_PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

let fake: FakeHunyuan3d;

beforeAll(async () => {
  fake = await startFakeHunyuan3d({ jobMs: 20 });
});

afterAll(async () => {
  await fake.close();
});

beforeEach(async () => {
  await fake.start(); // after a test that stopped it
  fake.reset();
});

const request = {
  image: TINY_PNG_BASE64,
  seed: 1234,
  octree_resolution: 128,
  num_inference_steps: 5,
  guidance_scale: 5.0,
  texture: false,
  face_count: 40000,
  type: "glb",
};

async function send(body: unknown): Promise<string> {
  const res = await fetch(`${fake.url}/send`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  expect(res.status).toBe(200);
  const json = (await res.json()) as { uid: string };
  expect(Object.keys(json)).toEqual(["uid"]);
  expect(json.uid).toMatch(/^[0-9a-f-]{36}$/);
  return json.uid;
}

async function status(uid: string): Promise<{ status: string; model_base64?: string }> {
  const res = await fetch(`${fake.url}/status/${uid}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { status: string; model_base64?: string };
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits until the fake's jobs have all finished one way or the other. */
async function jobsSettled(count: number): Promise<void> {
  await until(
    async () => fake.stats,
    (stats) => stats.jobsCompleted + stats.jobsDied >= count,
  );
}

describe("fake Hunyuan3D: the happy path", () => {
  it("/send answers a uid; /status says processing (no progress) then completed with a valid GLB", async () => {
    // Long enough that the first poll is always before the file exists.
    fake.setBehaviour({ jobMs: 1500 });
    const uid = await send(request);
    const first = await status(uid);
    expect(first).toEqual({ status: "processing" });
    const done = await until(() => status(uid), (s) => s.status === "completed");
    expect(Object.keys(done).sort()).toEqual(["model_base64", "status"]);
    const glb = Buffer.from(done.model_base64 ?? "", "base64");
    await expect(validateAvatarModel(glb)).resolves.toMatchObject({ format: "glb", vrmVersion: null });
    // The file stays: every later poll answers it again.
    expect(await status(uid)).toEqual(done);
    expect(fake.requests).toEqual([request]);
  });

  it("builds the model from the image: different images give different models", async () => {
    const a = await send(request);
    const gif = Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00;", "latin1").toString("base64");
    const b = await send({ ...request, image: gif });
    const [ma, mb] = await Promise.all([
      until(() => status(a), (s) => s.status === "completed"),
      until(() => status(b), (s) => s.status === "completed"),
    ]);
    expect(ma.model_base64).not.toEqual(mb.model_base64);
  });

  it("/generate blocks and answers the GLB itself", async () => {
    const res = await fetch(`${fake.url}/generate`, { method: "POST", body: JSON.stringify(request) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("model/gltf-binary");
    const bytes = new Uint8Array(await res.arrayBuffer());
    await expect(validateAvatarModel(bytes)).resolves.toMatchObject({ format: "glb" });
  });

  it("runs every /send job at once (unbounded threads)", async () => {
    fake.setBehaviour({ jobMs: 200 });
    const uids = await Promise.all([send(request), send(request), send(request), send(request)]);
    await Promise.all(uids.map((uid) => until(() => status(uid), (s) => s.status === "completed")));
    expect(fake.stats.maxConcurrentJobs).toBe(4);
  });

  it("answers nothing else while a blocking /generate runs", async () => {
    fake.setBehaviour({ jobMs: 150 });
    const order: string[] = [];
    // Its headers come when the model is done (the body, a large file, may still be on its way).
    const generate = fetch(`${fake.url}/generate`, { method: "POST", body: JSON.stringify(request) }).then(async (res) => {
      order.push("generate");
      await res.arrayBuffer();
    });
    // Let the /generate request reach the server first.
    await until(async () => fake.stats.jobsStarted, (n) => n >= 1);
    const poll = fetch(`${fake.url}/status/anything`).then(async (res) => {
      await res.json();
      order.push("status");
    });
    await Promise.all([generate, poll]);
    expect(order).toEqual(["generate", "status"]);
  });
});

describe("fake Hunyuan3D: threads, meshes, restarts", () => {
  it("a job runs to its end whatever the client does: stats.runningJobs counts those still running", async () => {
    fake.setBehaviour({ jobMs: 300 });
    await Promise.all([send(request), send(request)]); // and nobody polls them
    expect(fake.stats.runningJobs).toBe(2);
    await until(async () => fake.stats, (stats) => stats.jobsCompleted === 2);
    expect(fake.stats.runningJobs).toBe(0);
  });

  it("without texture, the raw mesh: triangles grow with octree_resolution, no face reduction", async () => {
    const sizes = new Map<number, number>();
    for (const octree of [128, 256]) {
      const uid = await send({ ...request, octree_resolution: octree, face_count: 1000 });
      const done = await until(() => status(uid), (s) => s.status === "completed");
      const glb = Buffer.from(done.model_base64 ?? "", "base64");
      sizes.set(octree, (await validateAvatarModel(glb, { maxTriangles: 5_000_000 })).triangles);
      expect(glb.includes(Buffer.from('"images"'))).toBe(false);
    }
    expect(sizes.get(128)).toBe(rawTriangles(128));
    expect(sizes.get(256)).toBe(rawTriangles(256));
    expect(rawTriangles(256)).toBeGreaterThan(500_000);
    // The server's own default is 128.
    const { octree_resolution: _omitted, ...withoutOctree } = request;
    const uid = await send(withoutOctree);
    const done = await until(() => status(uid), (s) => s.status === "completed");
    expect((await validateAvatarModel(Buffer.from(done.model_base64 ?? "", "base64"), { maxTriangles: 5_000_000 })).triangles).toBe(rawTriangles(128));
  });

  it("with texture (--enable_tex), FaceReducer brings the mesh to face_count and it is textured", async () => {
    fake.setBehaviour({ enableTex: true });
    const uid = await send({ ...request, texture: true, face_count: 30_000 });
    const done = await until(() => status(uid), (s) => s.status === "completed");
    const glb = Buffer.from(done.model_base64 ?? "", "base64");
    expect(await validateAvatarModel(glb)).toMatchObject({ triangles: 30_000 });
    expect(glb.includes(Buffer.from('"images"'))).toBe(true);
  });

  it("a restart closes the port, kills the running threads and forgets every uid", async () => {
    const finished = await send(request);
    await until(() => status(finished), (s) => s.status === "completed");
    fake.setBehaviour({ jobMs: 60_000 });
    const running = await send(request);
    expect(fake.stats.runningJobs).toBe(1);
    await fake.stop();
    // (a kept-alive connection is cut first; a new one is refused)
    await expect(fetch(`${fake.url}/status/${running}`).then(() => fetch(`${fake.url}/status/${running}`))).rejects.toThrow();
    await expect(fetch(`${fake.url}/status/${running}`)).rejects.toMatchObject({ cause: { code: "ECONNREFUSED" } });
    expect(fake.stats).toMatchObject({ runningJobs: 0, restarts: 1 });
    await fake.start();
    expect(await status(running)).toEqual({ status: "processing" });
    expect(await status(finished)).toEqual({ status: "processing" });
  });
});

describe("fake Hunyuan3D: no error state", () => {
  it("an unknown uid is 'processing' forever", async () => {
    expect(await status("00000000-0000-0000-0000-000000000000")).toEqual({ status: "processing" });
    expect(await status("not-even-a-uuid")).toEqual({ status: "processing" });
  });

  it.each([
    ["bad base64", { ...request, image: "abc" }],
    ["a data: URL prefix", { ...request, image: `data:image/png;base64,${TINY_PNG_BASE64}` }],
    ["base64 that is not an image", { ...request, image: Buffer.from("hello world!").toString("base64") }],
    ["no image", { seed: 1 }],
    ["texture without --enable_tex", { ...request, texture: true }],
    ["a type other than glb", { ...request, type: "obj" }],
  ])("a job that dies (%s) still says processing", async (_name, body) => {
    const uid = await send(body);
    await jobsSettled(1);
    expect(fake.stats.jobsDied).toBe(1);
    expect(await status(uid)).toEqual({ status: "processing" });
  });

  it("the same requests on /generate answer 404 with server_error_msg", async () => {
    for (const body of [{ ...request, image: "abc" }, { seed: 1 }, { ...request, texture: true }]) {
      const res = await fetch(`${fake.url}/generate`, { method: "POST", body: JSON.stringify(body) });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ text: HUNYUAN3D_SERVER_ERROR, error_code: 1 });
    }
  });

  it("texture works when the server has --enable_tex", async () => {
    fake.setBehaviour({ enableTex: true });
    const uid = await send({ ...request, texture: true });
    expect((await until(() => status(uid), (s) => s.status === "completed")).model_base64).toBeTruthy();
  });

  it("fault crash: processing forever; counted faults end", async () => {
    fake.setBehaviour({ fault: "crash", faultCount: 1 });
    const dead = await send(request);
    const alive = await send(request);
    await jobsSettled(2);
    expect(await status(dead)).toEqual({ status: "processing" });
    expect((await status(alive)).status).toBe("completed");
  });

  it("fault half-written: a truncated GLB once, then the full one", async () => {
    fake.setBehaviour({ fault: "half-written", faultCount: 1 });
    const uid = await send(request);
    const half = await until(() => status(uid), (s) => s.status === "completed");
    const full = await status(uid);
    const halfBytes = Buffer.from(half.model_base64 ?? "", "base64");
    const fullBytes = Buffer.from(full.model_base64 ?? "", "base64");
    expect(halfBytes.length).toBeLessThan(fullBytes.length);
    expect(fullBytes.subarray(0, halfBytes.length).equals(halfBytes)).toBe(true);
    await expect(validateAvatarModel(halfBytes)).rejects.toMatchObject({ params: { reason: "avatar_truncated" } });
    await expect(validateAvatarModel(fullBytes)).resolves.toMatchObject({ format: "glb" });
  });

  it("invalid JSON is Starlette's plain 500", async () => {
    const res = await fetch(`${fake.url}/send`, { method: "POST", body: "{" });
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("Internal Server Error");
  });

  it("has no health, progress or cancel route: FastAPI's 404 and 405", async () => {
    for (const path of ["/", "/health", "/status", "/cancel/x", "/progress/x"]) {
      const res = await fetch(`${fake.url}${path}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ detail: "Not Found" });
    }
    const res = await fetch(`${fake.url}/send`);
    expect(res.status).toBe(405);
    expect(await res.json()).toEqual({ detail: "Method Not Allowed" });
  });
});

describe("fake Hunyuan3D: control", () => {
  it("is steered over HTTP and refuses unknown knobs", async () => {
    const res = await fetch(`${fake.url}/__control`, { method: "POST", body: JSON.stringify({ fault: "crash", jobMs: 5 }) });
    expect(await res.json()).toMatchObject({ fault: "crash", faultCount: null, jobMs: 5 });
    const bad = await fetch(`${fake.url}/__control`, { method: "POST", body: JSON.stringify({ fault: "explode" }) });
    expect(bad.status).toBe(400);
    const reset = await fetch(`${fake.url}/__control/reset`, { method: "POST" });
    expect(await reset.json()).toMatchObject({ fault: "none", jobMs: 20, enableTex: false });
  });

  it("decodes base64 like Python's b64decode", () => {
    expect(pythonB64decode("aGk=")?.toString()).toBe("hi");
    expect(pythonB64decode("aG k=\n")?.toString()).toBe("hi");
    expect(pythonB64decode("aGk")).toBeNull();
  });
});
