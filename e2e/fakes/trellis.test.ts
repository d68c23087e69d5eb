// Proves the TRELLIS fake speaks trellis-stable-projectorz's api_spz protocol and keeps its
// unkind parts: one global job, blocking generation, 503 when busy, errors folded into 500s,
// /interrupt, a model deleted by a failure. Checks order and outcomes, never durations.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { validateAvatarModel } from "@/server/avatars/gltf";
import { FAKE_TRELLIS_FAILURE, startFakeTrellis, TRELLIS_BUSY, type FakeTrellis } from "./trellis";

const TINY_PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

let fake: FakeTrellis;

beforeAll(async () => {
  fake = await startFakeTrellis({ jobMs: 20 });
});

afterAll(async () => {
  await fake.close();
});

beforeEach(async () => {
  await fake.start(); // after a test that stopped it
  fake.reset();
});

function form(fields: Record<string, string>, file?: Uint8Array): FormData {
  const data = new FormData();
  for (const [key, value] of Object.entries(fields)) data.set(key, value);
  if (file) data.set("file", new Blob([new Uint8Array(file)], { type: "image/png" }), "input.png");
  return data;
}

const ARGS = {
  seed: "7",
  ss_guidance_strength: "7.5",
  ss_sampling_steps: "12",
  slat_guidance_strength: "3",
  slat_sampling_steps: "12",
  mesh_simplify_ratio: "0.95",
  texture_size: "1024",
  output_format: "glb",
};

async function generate(body: FormData): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${fake.url}/generate_no_preview`, { method: "POST", body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function getJson(path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${fake.url}${path}`);
  return (await res.json()) as Record<string, unknown>;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("fake TRELLIS: the happy path", () => {
  it("says FAILED before any generation, and is not busy", async () => {
    expect(await getJson("/ping")).toEqual({ status: "running", message: "Trellis API is operational", busy: false });
    expect(await getJson("/status")).toEqual({ status: "FAILED", progress: 0, message: "", busy: false });
    const res = await fetch(`${fake.url}/download/model`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ detail: "Mesh not found" });
  });

  it("generate_no_preview with image_base64 blocks until COMPLETE; /download/model is a valid GLB", async () => {
    const result = await generate(form({ ...ARGS, image_base64: `data:image/png;base64,${TINY_PNG_BASE64}` }));
    expect(result).toEqual({
      status: 200,
      json: { status: "COMPLETE", progress: 100, message: "Generation complete", preview_urls: null, model_url: "/download/model" },
    });
    expect(await getJson("/status")).toEqual({ status: "COMPLETE", progress: 100, message: "Generation complete", busy: false });
    const res = await fetch(`${fake.url}/download/model`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("model/gltf-binary");
    await expect(validateAvatarModel(new Uint8Array(await res.arrayBuffer()))).resolves.toMatchObject({ format: "glb" });
    expect(fake.requests[0]).toMatchObject({ seed: "7", output_format: "glb" });
  });

  it("accepts a multipart file", async () => {
    const result = await generate(form(ARGS, Buffer.from(TINY_PNG_BASE64, "base64")));
    expect(result.status).toBe(200);
    expect(fake.requests[0]).toMatchObject({ file: { filename: "input.png", type: "image/png" } });
  });

  it("reports progress on /status while it runs (one global job), and /ping says busy", async () => {
    fake.setBehaviour({ jobMs: 1000 });
    const running = generate(form({ ...ARGS, image_base64: TINY_PNG_BASE64 }));
    const during = await until(() => getJson("/status"), (s) => s.busy === true && s.status === "PROCESSING" && Number(s.progress) > 0);
    expect([10, 50, 70]).toContain(during.progress);
    expect(await getJson("/ping")).toMatchObject({ busy: true });
    expect((await running).status).toBe(200);
  });

  it("the UI panel's /generate takes JSON with single_multi_img_input", async () => {
    const res = await fetch(`${fake.url}/generate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ single_multi_img_input: [TINY_PNG_BASE64], seed: 3, ss_steps: 12 }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "COMPLETE", model_url: "/download/model" });
  });
});

describe("fake TRELLIS: unkind parts", () => {
  it("answers 503 to a second generation while one runs; on /generate that is a 500", async () => {
    fake.setBehaviour({ jobMs: 1000 });
    const first = generate(form({ ...ARGS, image_base64: TINY_PNG_BASE64 }));
    await until(() => getJson("/status"), (s) => s.busy === true);
    expect(await generate(form({ ...ARGS, image_base64: TINY_PNG_BASE64 }))).toEqual({ status: 503, json: { detail: TRELLIS_BUSY } });
    const panel = await fetch(`${fake.url}/generate`, { method: "POST", body: JSON.stringify({ single_multi_img_input: [TINY_PNG_BASE64] }) });
    expect(panel.status).toBe(500);
    expect(await panel.json()).toEqual({ detail: `503: ${TRELLIS_BUSY}` });
    expect((await first).status).toBe(200);
    expect(fake.stats.rejectedBusy).toBe(2);
  });

  it("folds validation errors into a 500 with the HTTPException text, and /status turns FAILED", async () => {
    expect(await generate(form(ARGS))).toEqual({ status: 500, json: { detail: "400: No input images provided" } });
    expect(await getJson("/status")).toEqual({ status: "FAILED", progress: 0, message: "400: No input images provided", busy: false });
    const badSteps = await generate(form({ ...ARGS, ss_sampling_steps: "80", image_base64: TINY_PNG_BASE64 }));
    expect(badSteps).toEqual({ status: 500, json: { detail: "400: SS sampling steps must be above 0 and <= 50" } });
    const badFormat = await generate(form({ ...ARGS, output_format: "obj", image_base64: TINY_PNG_BASE64 }));
    expect(badFormat.json.detail).toBe("400: Unsupported output format");
    const notImage = await generate(form({ ...ARGS, image_base64: Buffer.from("nope nope").toString("base64") }));
    expect(notImage.status).toBe(500);
    expect(String(notImage.json.detail)).toMatch(/^400: Invalid base64 data: /);
  });

  it("answers FastAPI's 422 for a non-numeric form field, before starting anything", async () => {
    const result = await generate(form({ ...ARGS, seed: "abc", image_base64: TINY_PNG_BASE64 }));
    expect(result.status).toBe(422);
    expect(result.json.detail).toEqual([
      { type: "int_parsing", loc: ["body", "seed"], msg: "Input should be a valid integer, unable to parse string as an integer", input: "abc" },
    ]);
    expect(fake.stats.generationsStarted).toBe(0);
  });

  it("fault fail: 500 with the pipeline's error, and the previous model is deleted", async () => {
    expect((await generate(form({ ...ARGS, image_base64: TINY_PNG_BASE64 }))).status).toBe(200);
    fake.setBehaviour({ fault: "fail", faultCount: 1 });
    expect(await generate(form({ ...ARGS, image_base64: TINY_PNG_BASE64 }))).toEqual({ status: 500, json: { detail: FAKE_TRELLIS_FAILURE } });
    expect(await getJson("/status")).toMatchObject({ status: "FAILED", message: FAKE_TRELLIS_FAILURE });
    expect((await fetch(`${fake.url}/download/model`)).status).toBe(404);
    expect((await generate(form({ ...ARGS, image_base64: TINY_PNG_BASE64 }))).status).toBe(200);
  });

  it("/interrupt cancels the running generation (499, FAILED 'Cancelled by user')", async () => {
    expect(await (await fetch(`${fake.url}/interrupt`, { method: "POST" })).json()).toEqual({ status: "no_generation_in_progress" });
    fake.setBehaviour({ jobMs: 60_000 });
    const running = generate(form({ ...ARGS, image_base64: TINY_PNG_BASE64 }));
    await until(() => getJson("/status"), (s) => s.busy === true);
    expect(await (await fetch(`${fake.url}/interrupt`, { method: "POST" })).json()).toEqual({ status: "interrupt_requested" });
    expect(await running).toEqual({ status: 499, json: { detail: "Generation cancelled by user" } });
    expect(await getJson("/status")).toEqual({ status: "FAILED", progress: 0, message: "Cancelled by user", busy: false });
  });

  it("a generation goes on (busy) for interruptLagMs after /interrupt, then answers 499", async () => {
    fake.setBehaviour({ jobMs: 60_000, interruptLagMs: 60_000 });
    const running = generate(form({ ...ARGS, image_base64: TINY_PNG_BASE64 }));
    await until(() => getJson("/status"), (s) => s.busy === true);
    await fetch(`${fake.url}/interrupt`, { method: "POST" });
    expect(await getJson("/ping")).toMatchObject({ busy: true });
    fake.setBehaviour({ interruptLagMs: 0 });
    expect((await running).status).toBe(499);
    expect(await getJson("/ping")).toMatchObject({ busy: false });
    expect(fake.stats).toMatchObject({ interrupts: 1, generationsCancelled: 1 });
  });

  it("a client that disconnects does not stop the generation", async () => {
    fake.setBehaviour({ jobMs: 200 });
    const controller = new AbortController();
    const request = fetch(`${fake.url}/generate_no_preview`, {
      method: "POST",
      body: form({ ...ARGS, image_base64: TINY_PNG_BASE64 }),
      signal: controller.signal,
    }).catch(() => null);
    await until(() => getJson("/status"), (s) => s.busy === true);
    controller.abort();
    await request;
    const done = await until(() => getJson("/status"), (s) => s.busy === false);
    expect(done.status).toBe("COMPLETE");
    expect((await fetch(`${fake.url}/download/model`)).status).toBe(200);
  });

  it("fault drop: the request's connection is cut, the server stays busy with the generation and completes it", async () => {
    fake.setBehaviour({ jobMs: 60_000, fault: "drop", faultCount: 1 });
    await expect(generate(form({ ...ARGS, image_base64: TINY_PNG_BASE64 }))).rejects.toThrow();
    expect(await getJson("/ping")).toMatchObject({ busy: true });
    expect((await generate(form({ ...ARGS, image_base64: TINY_PNG_BASE64 }))).status).toBe(503);
    fake.setBehaviour({ jobMs: 0 }); // the generation under way ends now
    const done = await until(() => getJson("/status"), (s) => s.busy === false);
    expect(done.status).toBe("COMPLETE");
    expect((await fetch(`${fake.url}/download/model`)).status).toBe(200);
    expect(fake.stats).toMatchObject({ generationsCompleted: 1, clientsGone: 1 });
  });

  it("a generation's length is read while it runs: stretched, it answers nothing until it is ended", async () => {
    fake.setBehaviour({ jobMs: 3_600_000 });
    let answered = false;
    const running = generate(form({ ...ARGS, image_base64: TINY_PNG_BASE64 })).then((result) => {
      answered = true;
      return result;
    });
    await until(() => getJson("/status"), (s) => s.busy === true && s.progress === 10);
    expect(answered).toBe(false);
    fake.setBehaviour({ jobMs: 0 });
    expect((await running).status).toBe(200);
  });

  it("stop and start: refused while down; back as freshly started, the generation and model gone", async () => {
    expect((await generate(form({ ...ARGS, image_base64: TINY_PNG_BASE64 }))).status).toBe(200);
    fake.setBehaviour({ jobMs: 60_000 });
    const running = generate(form({ ...ARGS, image_base64: TINY_PNG_BASE64 })).catch((error: unknown) => error);
    await until(() => getJson("/status"), (s) => s.busy === true);
    await fake.stop();
    expect(await running).toBeInstanceOf(Error);
    // (a kept-alive connection is cut first; a new one is refused)
    await expect(fetch(`${fake.url}/ping`).then(() => fetch(`${fake.url}/ping`))).rejects.toThrow();
    await expect(fetch(`${fake.url}/ping`)).rejects.toMatchObject({ cause: { code: "ECONNREFUSED" } });
    await fake.start();
    expect(await getJson("/status")).toEqual({ status: "FAILED", progress: 0, message: "", busy: false });
    expect((await fetch(`${fake.url}/download/model`)).status).toBe(404);
  });

  it("models keep what mesh_simplify_ratio leaves of the raw mesh, textured", async () => {
    for (const [ratio, triangles] of [
      ["0.95", 25_000],
      ["0.9", 50_000],
    ] as const) {
      expect((await generate(form({ ...ARGS, mesh_simplify_ratio: ratio, image_base64: TINY_PNG_BASE64 }))).status).toBe(200);
      const glb = new Uint8Array(await (await fetch(`${fake.url}/download/model`)).arrayBuffer());
      expect(await validateAvatarModel(glb)).toMatchObject({ triangles });
      expect(Buffer.from(glb).includes(Buffer.from('"images"'))).toBe(true);
    }
  });

  it("unknown routes are FastAPI's 404, wrong methods 405; supported operations are listed", async () => {
    for (const path of ["/health", "/generate_preview", "/download/preview/gaussian", "/status/abc"]) {
      const res = await fetch(`${fake.url}${path}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ detail: "Not Found" });
    }
    const res = await fetch(`${fake.url}/generate_no_preview`);
    expect(res.status).toBe(405);
    expect(await getJson("/info/supported_operations")).toEqual(["make_meshes_and_tex"]);
  });

  it("is steered over /__control", async () => {
    const res = await fetch(`${fake.url}/__control`, { method: "POST", body: JSON.stringify({ fault: "fail" }) });
    expect(await res.json()).toEqual({ jobMs: 20, interruptLagMs: 50, fault: "fail", faultCount: null });
    expect((await fetch(`${fake.url}/__control`, { method: "POST", body: JSON.stringify({ nope: 1 }) })).status).toBe(400);
  });
});
