// Fake Hunyuan3D-2 API server (Tencent/Hunyuan3D-2 `api_server.py`, FastAPI + uvicorn), speaking
// its real protocol so the app's generator client can be tested against it:
//
//   POST /send        JSON {image: base64 (no data: prefix), seed, octree_resolution,
//                     num_inference_steps, guidance_scale, texture, face_count, type} → {"uid"}
//                     (the job runs in a new thread; nothing is checked before answering)
//   GET  /status/{uid} → {"status":"processing"} until `gradio_cache/<uid>.glb` exists, then
//                     {"status":"completed","model_base64"} (on every later call too)
//   POST /generate    same JSON, BLOCKING inside the event loop, answers the file itself
//                     (model/gltf-binary), or 404 {"text": server_error_msg, "error_code": 1}
//
// The real server's unkind parts, on by default at short timings:
// - NO error state: a job whose thread raised (bad base64, not an image, no image, `texture: true`
//   without --enable_tex, `type` other than "glb", fault "crash") says "processing" forever;
//   so does any uid that never existed;
// - no progress, no health route, no cancel: anything else is FastAPI's 404 {"detail":"Not Found"}
//   (405 {"detail":"Method Not Allowed"} for a known path);
// - unbounded, uncancellable threads: every /send job runs at once, to its end, whatever the
//   client does (`stats.runningJobs` says how many still run);
// - /generate is synchronous code in an async route: while it runs, the whole server answers
//   nothing (every other request waits for it);
// - /status may read a file being written (fault "half-written": the first completed answer
//   carries a truncated GLB, later ones the full file);
// - without texture, the raw marching-cubes mesh with no face reduction: its triangle count grows
//   with octree_resolution (~9.5·R²: 155,648 at the default 128, 622,592 at 256); with texture,
//   FaceReducer brings it to face_count (default 40,000) and the mesh is textured;
// - a restart (`restart()`, or `stop()` then `start()`) closes the port and forgets every uid (they
//   read "processing" for ever) and kills the running threads.
// Models are made from the image (e2e/fixtures/avatars.ts: a lumpy bust coloured from its bytes).
//
//   npx tsx e2e/fakes/hunyuan3d.ts --port 8081 [--job-ms 300] [--enable-tex]
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { parseArgs } from "node:util";
import { createHash } from "node:crypto";
import { WebIO } from "@gltf-transform/core";
import { buildTexturedGeneratorGlb, type Rgb } from "../fixtures/avatars";
import {
  FAULT_COUNT_ERROR,
  closeOnSignal,
  isDirectRun,
  isFaultCount,
  isRecord,
  numberArg,
  parseJson,
  patchBehaviour,
  readBody,
  Semaphore,
  sendJson,
  sendText,
  serveControl,
  startHttpServer,
  takeFault,
  type RunningServer,
} from "./server-kit";

export const HUNYUAN3D_FAULTS = [
  "none",
  "crash", // the job's thread dies (a CUDA error): /status says "processing" forever, /generate answers 404
  "half-written", // the first /status after completion returns a truncated model_base64
] as const;
export type Hunyuan3dFault = (typeof HUNYUAN3D_FAULTS)[number];

export interface Hunyuan3dBehaviour {
  /** How long a job takes from /send (or /generate) to its file existing (read while it runs). */
  jobMs: number;
  /** The server was started with --enable_tex (else `texture: true` kills the job). */
  enableTex: boolean;
  fault: Hunyuan3dFault;
  faultCount: number | null;
}

export interface Hunyuan3dStats {
  jobsStarted: number;
  jobsCompleted: number;
  /** Jobs whose thread raised (they stay "processing" forever). */
  jobsDied: number;
  /** Jobs running now (their threads go on whether or not anyone still polls them). */
  runningJobs: number;
  /** Most jobs running at the same time. */
  maxConcurrentJobs: number;
  statusPolls: number;
  /** Times the server was stopped (a crash or restart: uids and running threads are gone). */
  restarts: number;
}

export interface FakeHunyuan3dOptions {
  port?: number;
  host?: string;
  jobMs?: number;
  enableTex?: boolean;
}

export interface FakeHunyuan3d {
  url: string;
  port: number;
  close(): Promise<void>;
  /** The process dies: the port is closed (connections refused), its threads and uids are gone. */
  stop(): Promise<void>;
  /** Listens again on the same port, knowing no uid (after `stop`). */
  start(): Promise<void>;
  /** stop(), then start() after `downMs` (the real one loads its models before it listens). */
  restart(downMs?: number): Promise<void>;
  setBehaviour(patch: Partial<Hunyuan3dBehaviour>): Hunyuan3dBehaviour;
  /** Back to the start options; forgets jobs, recorded requests and counters. */
  reset(): void;
  readonly behaviour: Hunyuan3dBehaviour;
  /** Bodies received on /send and /generate (raw text when not JSON), oldest first. */
  readonly requests: unknown[];
  readonly stats: Hunyuan3dStats;
}

export const DEFAULT_HUNYUAN3D_JOB_MS = 300;
/** ModelWorker.generate's defaults. */
export const HUNYUAN3D_DEFAULT_OCTREE_RESOLUTION = 128;
export const HUNYUAN3D_DEFAULT_FACE_COUNT = 40_000;

/** Triangles of the raw surface extracted at `octreeResolution` (grows with its square, like a real surface's). */
export function rawTriangles(octreeResolution: number): number {
  return Math.round(9.5 * octreeResolution * octreeResolution);
}
/** api_server.py's server_error_msg, the only error it ever sends. */
export const HUNYUAN3D_SERVER_ERROR = "**NETWORK ERROR DUE TO HIGH TRAFFIC. PLEASE REGENERATE OR REFRESH THIS PAGE.**";
const MAX_RECORDED_REQUESTS = 200;

const ROUTE_METHODS: Array<[RegExp, string[]]> = [
  [/^\/send$/, ["POST"]],
  [/^\/generate$/, ["POST"]],
  [/^\/status\/[^/]+$/, ["GET"]],
  [/^\/__control$/, ["GET", "POST"]],
  [/^\/__control\/requests$/, ["GET"]],
  [/^\/__control\/stats$/, ["GET"]],
  [/^\/__control\/reset$/, ["POST"]],
];

interface Job {
  state: "running" | "completed" | "died";
  glb: Uint8Array | null;
  halfWrittenPending: boolean;
}

const io = new WebIO();
/** Recent meshes by shape, so a test sending the same image again is not slowed by rebuilding. */
const meshCache = new Map<string, Promise<Uint8Array>>();

/** The export of a job: the raw untextured surface, or the face-reduced textured mesh. */
function meshFor(image: Uint8Array, triangles: number, textured: boolean): Promise<Uint8Array> {
  const digest = createHash("sha256").update(image).digest();
  const colour: Rgb = [digest[0] ?? 0, digest[1] ?? 0, digest[2] ?? 0];
  const key = `${colour.join(",")}/${triangles}/${textured}`;
  let mesh = meshCache.get(key);
  if (!mesh) {
    mesh = buildTexturedGeneratorGlb({ triangles, colour }).then(async (glb) => {
      if (textured) return glb;
      // trimesh exports a bare mesh: no texture, a plain colour.
      const document = await io.readBinary(glb);
      for (const texture of document.getRoot().listTextures()) texture.dispose();
      for (const material of document.getRoot().listMaterials()) material.setBaseColorFactor([colour[0] / 255, colour[1] / 255, colour[2] / 255, 1]);
      return io.writeBinary(document);
    });
    meshCache.set(key, mesh);
    if (meshCache.size > 8) meshCache.delete(meshCache.keys().next().value!);
  }
  return mesh;
}

/** A positive integer parameter as Python would take it (else the default). */
function intParam(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : fallback;
}

/** Python's base64.b64decode(validate=False): drops non-alphabet characters, then needs full quads. */
export function pythonB64decode(text: string): Buffer | null {
  const cleaned = text.replace(/[^A-Za-z0-9+/=]/g, "");
  const unpadded = cleaned.replace(/=+$/, "");
  if (unpadded.includes("=") || cleaned.length % 4 !== 0) return null; // binascii.Error: Incorrect padding
  return Buffer.from(cleaned, "base64");
}

/** What PIL.Image.open would recognise (the formats an avatar picture can be). */
export function looksLikeImage(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 12));
  return (
    head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) ||
    (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) ||
    (head.subarray(0, 4).toString("latin1") === "RIFF" && head.subarray(8, 12).toString("latin1") === "WEBP") ||
    head.subarray(0, 4).toString("latin1") === "GIF8" ||
    head.subarray(0, 2).toString("latin1") === "BM"
  );
}

/** A tiny OBJ for /generate with type "obj" (trimesh exports what it is asked). */
const OBJ_BOX = "o Box\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n";

class Hunyuan3dFake {
  behaviour: Hunyuan3dBehaviour;
  readonly requests: unknown[] = [];
  readonly stats: Hunyuan3dStats = emptyStats();
  private readonly jobs = new Map<string, Job>();
  /** The threads running now; a restart empties it (they die with the process). */
  private readonly running = new Set<Job>();
  private generation = 0;
  /** uvicorn's one event loop: a blocking /generate holds it, every other request waits for it. */
  private readonly eventLoop = new Semaphore(() => 1);

  constructor(private readonly initial: Hunyuan3dBehaviour) {
    this.behaviour = { ...initial };
  }

  setBehaviour(patch: Partial<Hunyuan3dBehaviour>): Hunyuan3dBehaviour {
    this.behaviour = patchBehaviour(this.behaviour, patch);
    return this.behaviour;
  }

  reset(): void {
    this.behaviour = { ...this.initial };
    this.requests.length = 0;
    this.forget();
    Object.assign(this.stats, emptyStats());
  }

  /** The process is gone: its uids and threads with it. */
  forget(): void {
    this.jobs.clear();
    this.running.clear();
    this.generation += 1;
    this.stats.runningJobs = 0;
  }

  handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const route = ROUTE_METHODS.find(([pattern]) => pattern.test(path));
    if (!route) return sendJson(res, 404, { detail: "Not Found" });
    if (!route[1].includes(req.method ?? "GET")) return sendJson(res, 405, { detail: "Method Not Allowed" });
    if (path.startsWith("/__control")) return this.control(req, res, path);

    const body = req.method === "POST" ? await readBody(req) : "";
    // Wait for the event loop (held by a blocking /generate) before anything is answered.
    const release = await this.eventLoop.acquire();
    if (!release) return;
    if (path === "/generate") return this.generateBlocking(body, res, release);
    try {
      if (path === "/send") return this.send(body, res);
      return this.status(decodeURIComponent(path.slice("/status/".length)), res);
    } finally {
      release();
    }
  };

  private record(raw: string): unknown {
    const parsed = parseJson(raw);
    this.requests.push(parsed.ok ? parsed.value : raw);
    if (this.requests.length > MAX_RECORDED_REQUESTS) this.requests.shift();
    return parsed.ok ? parsed.value : undefined;
  }

  /** `await request.json()` failing is an unhandled exception: Starlette's plain 500. */
  private send(raw: string, res: ServerResponse): void {
    const params = this.record(raw);
    if (params === undefined) return sendText(res, 500, "Internal Server Error");
    const uid = randomUUID();
    const job: Job = { state: "running", glb: null, halfWrittenPending: false };
    this.jobs.set(uid, job);
    void this.runJob(job, params);
    sendJson(res, 200, { uid });
  }

  /** worker.generate(): resolves with the model, or null when the thread raised. */
  private async runJob(job: Job, params: unknown): Promise<void> {
    const generation = this.generation;
    this.stats.jobsStarted += 1;
    this.running.add(job);
    this.stats.runningJobs = this.running.size;
    this.stats.maxConcurrentJobs = Math.max(this.stats.maxConcurrentJobs, this.running.size);
    const { fault, next } = takeFault(this.behaviour);
    this.behaviour = next;
    try {
      const glb = await this.produce(params, fault);
      if (generation !== this.generation) return;
      if (!glb) {
        job.state = "died";
        this.stats.jobsDied += 1;
        return;
      }
      job.glb = glb;
      job.state = "completed";
      job.halfWrittenPending = fault === "half-written";
      this.stats.jobsCompleted += 1;
    } finally {
      if (generation === this.generation) {
        this.running.delete(job);
        this.stats.runningJobs = this.running.size;
      }
    }
  }

  private async produce(params: unknown, fault: Hunyuan3dFault): Promise<Uint8Array | null> {
    if (!isRecord(params)) return null; // 'in' on a non-dict raises
    let image: Buffer | null = null;
    if ("image" in params) {
      image = typeof params.image === "string" ? pythonB64decode(params.image) : null;
      if (!image || !looksLikeImage(image)) return null; // binascii.Error / PIL.UnidentifiedImageError
    } else {
      return null; // "text" uses pipeline_t2i, which is commented out; neither → ValueError
    }
    // The job's length is read as it runs: a test may stretch a thread, or end it when it likes.
    const started = Date.now();
    while (Date.now() - started < this.behaviour.jobMs) await new Promise((resolve) => setTimeout(resolve, Math.min(10, this.behaviour.jobMs)));
    if (fault === "crash") return null;
    const textured = params.texture === true;
    if (textured && !this.behaviour.enableTex) return null; // no pipeline_tex attribute
    if ((params.type ?? "glb") !== "glb") return null; // saved as <uid>.<type>; /status looks for .glb
    const raw = rawTriangles(intParam(params.octree_resolution, HUNYUAN3D_DEFAULT_OCTREE_RESOLUTION));
    // FaceReducer runs only on the texture path; the bare shape is exported as extracted.
    const triangles = textured ? Math.min(raw, intParam(params.face_count, HUNYUAN3D_DEFAULT_FACE_COUNT)) : raw;
    return meshFor(image, triangles, textured);
  }

  private status(uid: string, res: ServerResponse): void {
    this.stats.statusPolls += 1;
    const job = this.jobs.get(uid);
    if (!job || job.state !== "completed" || !job.glb) return sendJson(res, 200, { status: "processing" });
    let bytes = job.glb;
    if (job.halfWrittenPending) {
      job.halfWrittenPending = false;
      bytes = bytes.subarray(0, Math.floor(bytes.length / 2));
    }
    sendJson(res, 200, { status: "completed", model_base64: Buffer.from(bytes).toString("base64") });
  }

  private async generateBlocking(raw: string, res: ServerResponse, release: () => void): Promise<void> {
    try {
      const params = this.record(raw);
      if (params === undefined) return sendText(res, 500, "Internal Server Error");
      const type = isRecord(params) && typeof params.type === "string" ? params.type : "glb";
      const glb = await this.produceForGenerate(params);
      if (!glb) return sendJson(res, 404, { text: HUNYUAN3D_SERVER_ERROR, error_code: 1 });
      if (type === "obj") {
        res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(OBJ_BOX) });
        return void res.end(OBJ_BOX);
      }
      res.writeHead(200, { "Content-Type": "model/gltf-binary", "Content-Length": glb.length });
      res.end(Buffer.from(glb));
    } finally {
      release();
    }
  }

  /** /generate raises inside the request (→ 404) where /send's thread would die silently. */
  private async produceForGenerate(params: unknown): Promise<Uint8Array | null> {
    this.stats.jobsStarted += 1;
    const { fault, next } = takeFault(this.behaviour);
    this.behaviour = next;
    const glb = await this.produce(isRecord(params) ? { ...params, type: "glb" } : params, fault === "half-written" ? "none" : fault);
    if (glb) this.stats.jobsCompleted += 1;
    else this.stats.jobsDied += 1;
    return glb;
  }

  private async control(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    return serveControl(req, res, path, this, parseBehaviourPatch);
  }
}

function emptyStats(): Hunyuan3dStats {
  return { jobsStarted: 0, jobsCompleted: 0, jobsDied: 0, runningJobs: 0, maxConcurrentJobs: 0, statusPolls: 0, restarts: 0 };
}

function parseBehaviourPatch(body: unknown): Partial<Hunyuan3dBehaviour> | string {
  if (!isRecord(body)) return "body must be a JSON object";
  const allowed = ["jobMs", "enableTex", "fault", "faultCount"];
  const unknownKey = Object.keys(body).find((key) => !allowed.includes(key));
  if (unknownKey) return `unknown key "${unknownKey}" (allowed: ${allowed.join(", ")})`;
  const patch: Partial<Hunyuan3dBehaviour> = {};
  if (body.jobMs !== undefined) {
    if (typeof body.jobMs !== "number" || !Number.isInteger(body.jobMs) || body.jobMs < 0) return "jobMs must be an integer >= 0";
    patch.jobMs = body.jobMs;
  }
  if (body.enableTex !== undefined) {
    if (typeof body.enableTex !== "boolean") return "enableTex must be a boolean";
    patch.enableTex = body.enableTex;
  }
  if (body.fault !== undefined) {
    const known = HUNYUAN3D_FAULTS.find((name) => name === body.fault);
    if (!known) return `fault must be one of ${HUNYUAN3D_FAULTS.join(", ")}`;
    patch.fault = known;
  }
  if (body.faultCount !== undefined) {
    if (!isFaultCount(body.faultCount)) return FAULT_COUNT_ERROR;
    patch.faultCount = body.faultCount;
  }
  return patch;
}

export async function startFakeHunyuan3d(opts: FakeHunyuan3dOptions = {}): Promise<FakeHunyuan3d> {
  const fake = new Hunyuan3dFake({
    jobMs: opts.jobMs ?? DEFAULT_HUNYUAN3D_JOB_MS,
    enableTex: opts.enableTex ?? false,
    fault: "none",
    faultCount: null,
  });
  const host = opts.host ?? "127.0.0.1";
  let server: RunningServer | null = await startHttpServer(fake.handle, opts.port ?? 0, host);
  const { url, port } = server;
  const stop = async () => {
    const running = server;
    server = null;
    fake.forget();
    fake.stats.restarts += 1;
    await running?.close();
  };
  const start = async () => {
    server ??= await startHttpServer(fake.handle, port, host);
  };
  return {
    url,
    port,
    close: async () => {
      await server?.close();
      server = null;
    },
    stop,
    start,
    restart: async (downMs = 0) => {
      await stop();
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      await start();
    },
    setBehaviour: (patch) => fake.setBehaviour(patch),
    reset: () => fake.reset(),
    get behaviour() {
      return fake.behaviour;
    },
    get requests() {
      return fake.requests;
    },
    get stats() {
      return { ...fake.stats };
    },
  };
}

if (isDirectRun(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "job-ms": { type: "string" },
      "enable-tex": { type: "boolean" },
    },
  });
  const fake = await startFakeHunyuan3d({
    port: numberArg(values.port, 8081, "port"),
    host: values.host ?? "127.0.0.1",
    jobMs: numberArg(values["job-ms"], DEFAULT_HUNYUAN3D_JOB_MS, "job-ms"),
    enableTex: values["enable-tex"] ?? false,
  });
  console.log(`fake hunyuan3d listening on ${fake.url}`);
  closeOnSignal(fake.close);
}
