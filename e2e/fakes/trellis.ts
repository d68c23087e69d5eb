// Fake TRELLIS server as packaged for StableProjectorz (IgorAherne/trellis-stable-projectorz,
// `api_spz/main_api.py --port 7960`, routes in api_spz/routes/generation.py), speaking its real
// protocol so the app's generator client can be tested against it:
//
//   GET  /ping      → {"status":"running","message":"Trellis API is operational","busy"}
//   GET  /status    → {"status": PROCESSING|PREVIEW_READY|COMPLETE|FAILED, "progress" 0–100,
//                     "message", "busy"} of the ONE current/last generation (FAILED before any)
//   POST /generate_no_preview  multipart `file` or form field `image_base64` ("…base64," prefixes
//                     are cut), plus seed, ss_guidance_strength, ss_sampling_steps,
//                     slat_guidance_strength, slat_sampling_steps, preview_resolution,
//                     preview_frames, preview_fps, mesh_simplify_ratio, texture_size,
//                     output_format. BLOCKS until done → {"status":"COMPLETE","progress":100,
//                     "message":"Generation complete","preview_urls":null,"model_url":"/download/model"}
//   POST /generate  JSON {single_multi_img_input: [base64…], seed, ss_strength, ss_steps,
//                     slat_strength, slat_steps, mesh_simplify, texture_size} (the UI panel's route)
//   GET  /download/model → the GLB (model/gltf-binary), 404 {"detail":"Mesh not found"} when none
//   POST /interrupt → {"status":"interrupt_requested"} or {"status":"no_generation_in_progress"}
//   GET  /info/supported_operations → ["make_meshes_and_tex"]
// Not served (404): the preview routes (/generate_preview, /resume_from_preview,
// /generate_multi_*, /download/preview/*), which the app does not use.
//
// The real server's unkind parts, on by default at short timings:
// - one generation at a time: another one gets 503 {"detail":"Server is busy with another generation"}
//   (but /generate wraps every error, so there it is 500 {"detail":"503: Server is busy …"});
// - validation errors raised inside the generation are caught and re-raised as 500 with the
//   HTTPException's text: {"detail":"400: No input images provided"}, and /status turns FAILED;
//   non-numeric form fields are FastAPI's 422 before anything starts;
// - a client that disconnects does NOT stop the generation (only /interrupt does, → 499
//   {"detail":"Generation cancelled by user"}, /status FAILED "Cancelled by user");
// - a failed or cancelled generation deletes the previous model (/download/model → 404);
// - fault "fail": the pipeline raises (500 {"detail": "<python error>"}, /status FAILED);
// - fault "drop": the blocking request's connection is cut once the generation started (a proxy
//   or the network), and the server stays busy with it until it is done: the client must follow
//   it on /status (or /interrupt it), and a new generation meanwhile gets 503;
// - a generation takes `jobMs`, read while it runs (a test can stretch it past a client's header
//   timeout and end it when it likes), and answers nothing before it is done;
// - `stop()` / `start()`: the process dies (port closed, generation and model gone) and comes back.
// Models are textured meshes of ~500,000·(1 − mesh_simplify_ratio) triangles (25,000 at the
// default 0.95), coloured from the image (e2e/fixtures/avatars.ts); textures are 256 px whatever
// texture_size says, to keep the fake quick.
//
//   npx tsx e2e/fakes/trellis.ts --port 7960 [--job-ms 400]
import type { IncomingMessage, ServerResponse } from "node:http";
import { parseArgs } from "node:util";
import { createHash } from "node:crypto";
import { buildTexturedGeneratorGlb, type Rgb } from "../fixtures/avatars";
import { looksLikeImage, pythonB64decode } from "./hunyuan3d";
import {
  FAULT_COUNT_ERROR,
  closeOnSignal,
  isDirectRun,
  isFaultCount,
  isRecord,
  numberArg,
  parseJson,
  patchBehaviour,
  sendJson,
  serveControl,
  startHttpServer,
  type RunningServer,
  takeFault,
} from "./server-kit";

export const TRELLIS_FAULTS = [
  "none",
  "fail", // the pipeline raises mid-generation: 500 {"detail": FAKE_TRELLIS_FAILURE}, /status FAILED
  "drop", // the blocking request's connection is cut; the generation goes on (busy) to its end
] as const;
export type TrellisFault = (typeof TRELLIS_FAULTS)[number];

export type TrellisTaskStatus = "PROCESSING" | "PREVIEW_READY" | "COMPLETE" | "FAILED";

export interface TrellisBehaviour {
  /** How long a generation takes (half for the structure, half for the GLB), read while it runs. */
  jobMs: number;
  /**
   * How long a generation goes on after /interrupt before it notices (cancel_event is checked
   * between sampler steps and export stages; /ping says busy meanwhile), read while it runs.
   */
  interruptLagMs: number;
  fault: TrellisFault;
  faultCount: number | null;
}

export interface TrellisStats {
  generationsStarted: number;
  generationsCompleted: number;
  generationsFailed: number;
  generationsCancelled: number;
  rejectedBusy: number;
  /** /ping and /interrupt requests received. */
  pings: number;
  interrupts: number;
  /** Clients that left while their generation went on. */
  clientsGone: number;
}

export interface FakeTrellisOptions {
  port?: number;
  host?: string;
  jobMs?: number;
  interruptLagMs?: number;
}

export interface FakeTrellis {
  url: string;
  port: number;
  close(): Promise<void>;
  /** The process dies: the port is closed (connections refused), the generation and model are gone. */
  stop(): Promise<void>;
  /** Listens again on the same port (after `stop`), as freshly started. */
  start(): Promise<void>;
  setBehaviour(patch: Partial<TrellisBehaviour>): TrellisBehaviour;
  /** Back to the start options; forgets the last generation, its model, requests and counters. */
  reset(): void;
  readonly behaviour: TrellisBehaviour;
  /** The form fields (files as {filename, size, type}) of each generation request, oldest first. */
  readonly requests: Array<Record<string, unknown>>;
  readonly stats: TrellisStats;
}

export const DEFAULT_TRELLIS_JOB_MS = 400;
export const DEFAULT_TRELLIS_INTERRUPT_LAG_MS = 50;
/** Triangles of a generated mesh before `mesh_simplify_ratio` removes its share. */
export const TRELLIS_RAW_TRIANGLES = 500_000;
export const TRELLIS_BUSY = "Server is busy with another generation";
export const FAKE_TRELLIS_FAILURE = "CUDA out of memory. Tried to allocate 2.00 GiB (fake)";
const MAX_RECORDED_REQUESTS = 200;
const MAX_BODY_BYTES = 64 * 1024 * 1024;

const ROUTES: Record<string, string[]> = {
  "/ping": ["GET"],
  "/status": ["GET"],
  "/generate_no_preview": ["POST"],
  "/generate": ["POST"],
  "/interrupt": ["POST"],
  "/download/model": ["GET"],
  "/info/supported_operations": ["GET"],
  "/__control": ["GET", "POST"],
  "/__control/requests": ["GET"],
  "/__control/stats": ["GET"],
  "/__control/reset": ["POST"],
};

/** A Starlette HTTPException raised on purpose (status + detail). */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(typeof detail === "string" ? detail : "validation error");
  }
  /** str(HTTPException) in Starlette: "<status>: <detail>". */
  get pythonText(): string {
    return `${this.status}: ${String(this.detail)}`;
  }
}

class Cancelled extends Error {}

interface Args {
  seed: number;
  ss_guidance_strength: number;
  ss_sampling_steps: number;
  slat_guidance_strength: number;
  slat_sampling_steps: number;
  preview_resolution: number;
  preview_frames: number;
  preview_fps: number;
  mesh_simplify_ratio: number;
  texture_size: number;
  output_format: string;
}

const ARG_DEFAULTS: Args = {
  seed: 1,
  ss_guidance_strength: 7.5,
  ss_sampling_steps: 12,
  slat_guidance_strength: 3.0,
  slat_sampling_steps: 12,
  preview_resolution: 512,
  preview_frames: 150,
  preview_fps: 20,
  mesh_simplify_ratio: 0.95,
  texture_size: 1024,
  output_format: "glb",
};
const INT_FIELDS = new Set(["seed", "ss_sampling_steps", "slat_sampling_steps", "preview_resolution", "preview_frames", "preview_fps", "texture_size"]);

/** FastAPI's Form(...) parsing into GenerationArgForm: a 422 list of pydantic errors. */
function parseArgsForm(form: FormData): Args {
  const args: Record<string, number | string> = { ...ARG_DEFAULTS };
  const errors: unknown[] = [];
  for (const key of Object.keys(ARG_DEFAULTS)) {
    const raw = form.get(key);
    if (raw === null) continue;
    const text = typeof raw === "string" ? raw : "";
    if (key === "output_format") {
      args[key] = text;
      continue;
    }
    const value = Number(text.trim());
    if (INT_FIELDS.has(key)) {
      if (text.trim() === "" || !Number.isInteger(value)) {
        errors.push({ type: "int_parsing", loc: ["body", key], msg: "Input should be a valid integer, unable to parse string as an integer", input: text });
      } else args[key] = value;
    } else if (text.trim() === "" || !Number.isFinite(value)) {
      errors.push({ type: "float_parsing", loc: ["body", key], msg: "Input should be a valid number, unable to parse string as a number", input: text });
    } else args[key] = value;
  }
  if (errors.length > 0) throw new HttpError(422, errors);
  return args as unknown as Args;
}

/** _gen_3d_validate_params */
function validateArgs(hasImage: boolean, arg: Args): void {
  if (!hasImage) throw new HttpError(400, "No input images provided");
  if (!(arg.ss_guidance_strength > 0 && arg.ss_guidance_strength <= 10)) throw new HttpError(400, "SS guidance strength must be above 0 and <= 10");
  if (!(arg.ss_sampling_steps > 0 && arg.ss_sampling_steps <= 50)) throw new HttpError(400, "SS sampling steps must be above 0 and <= 50");
  if (!(arg.slat_sampling_steps > 0 && arg.slat_sampling_steps <= 50)) throw new HttpError(400, "Slat sampling steps must be above 0 and <= 50");
  if (!(arg.slat_guidance_strength > 0 && arg.slat_guidance_strength <= 10)) throw new HttpError(400, "Slat guidance strength must be above 0 and <= 10");
  if (!(arg.preview_frames > 15 && arg.preview_frames <= 1000)) throw new HttpError(400, "Preview frames must be above 15 and <= 1000");
  if (!(arg.mesh_simplify_ratio >= 0 && arg.mesh_simplify_ratio <= 100)) {
    throw new HttpError(400, "mesh_simplify_ratio must be between 0 and 1, or between 0 and 100");
  }
  if (!["glb", "gltf"].includes(arg.output_format)) throw new HttpError(400, "Unsupported output format");
}

/** _gen_3d_get_image for the base64 branch. */
function imageFromBase64(text: string): Buffer {
  const payload = text.includes("base64,") ? (text.split("base64,")[1] ?? "") : text;
  const bytes = pythonB64decode(payload);
  if (!bytes) throw new HttpError(400, "Invalid base64 data: Incorrect padding");
  if (!looksLikeImage(bytes)) throw new HttpError(400, "Invalid base64 data: cannot identify image file <_io.BytesIO object at 0x7f00fake>");
  return bytes;
}

function imageFromFile(bytes: Buffer): Buffer {
  if (!looksLikeImage(bytes)) {
    throw new HttpError(400, "get_image - issue opening the image file: cannot identify image file <_io.BytesIO object at 0x7f00fake>");
  }
  return bytes;
}

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "Request Entity Too Large");
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Multipart or urlencoded form (anything else reads as an empty form, like FastAPI's Form(None)). */
async function readForm(req: IncomingMessage): Promise<FormData> {
  const body = await readRaw(req);
  const type = req.headers["content-type"] ?? "";
  if (!/^(multipart\/form-data|application\/x-www-form-urlencoded)/i.test(type)) return new FormData();
  try {
    return await new Response(new Uint8Array(body), { headers: { "content-type": type } }).formData();
  } catch {
    throw new HttpError(400, "There was an error parsing the body");
  }
}

class TrellisFake {
  behaviour: TrellisBehaviour;
  readonly requests: Array<Record<string, unknown>> = [];
  readonly stats: TrellisStats = emptyStats();
  private current = { status: "FAILED" as TrellisTaskStatus, progress: 0, message: "" };
  private busy = false;
  private cancelRequested = false;
  private cancelRequestedAt = 0;
  private model: Uint8Array | null = null;
  private epoch = 0;

  constructor(private readonly initial: TrellisBehaviour) {
    this.behaviour = { ...initial };
  }

  setBehaviour(patch: Partial<TrellisBehaviour>): TrellisBehaviour {
    this.behaviour = patchBehaviour(this.behaviour, patch);
    return this.behaviour;
  }

  reset(): void {
    this.behaviour = { ...this.initial };
    this.requests.length = 0;
    Object.assign(this.stats, emptyStats());
    this.forget();
  }

  /** As freshly started: no generation, no model (a generation still running ends, unanswered or 499). */
  forget(): void {
    this.current = { status: "FAILED", progress: 0, message: "" };
    this.model = null;
    this.busy = false;
    this.cancelRequested = true;
    this.epoch += 1;
  }

  handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const methods = ROUTES[path];
    if (!methods) return sendJson(res, 404, { detail: "Not Found" });
    if (!methods.includes(req.method ?? "GET")) return sendJson(res, 405, { detail: "Method Not Allowed" });
    switch (`${req.method} ${path}`) {
      case "GET /ping":
        this.stats.pings += 1;
        return sendJson(res, 200, { status: "running", message: "Trellis API is operational", busy: this.busy });
      case "GET /status":
        return sendJson(res, 200, { ...this.current, busy: this.busy });
      case "GET /info/supported_operations":
        return sendJson(res, 200, ["make_meshes_and_tex"]);
      case "POST /interrupt":
        this.stats.interrupts += 1;
        if (!this.busy) return sendJson(res, 200, { status: "no_generation_in_progress" });
        this.cancelRequested = true;
        this.cancelRequestedAt = Date.now();
        return sendJson(res, 200, { status: "interrupt_requested" });
      case "GET /download/model":
        if (!this.model) return sendJson(res, 404, { detail: "Mesh not found" });
        res.writeHead(200, {
          "Content-Type": "model/gltf-binary",
          "Content-Length": this.model.length,
          "Content-Disposition": 'attachment; filename="model.glb"',
        });
        return void res.end(Buffer.from(this.model));
      case "POST /generate_no_preview":
        return this.generateNoPreview(req, res);
      case "POST /generate":
        return this.generateFromPanel(req, res);
      default:
        return this.control(req, res, path);
    }
  };

  private async generateNoPreview(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let form: FormData;
    let args: Args;
    try {
      form = await readForm(req);
      args = parseArgsForm(form);
    } catch (error) {
      if (error instanceof HttpError) return sendJson(res, error.status, { detail: error.detail });
      throw error;
    }
    const file = form.get("file");
    const imageBase64 = form.get("image_base64");
    this.recordForm(form);
    const result = await this.run(res, args, async () => {
      const hasBase64 = typeof imageBase64 === "string" && imageBase64 !== "";
      const hasFile = file !== null && typeof file !== "string";
      validateArgs(hasBase64 || hasFile, args);
      if (hasBase64) return imageFromBase64(imageBase64);
      return imageFromFile(Buffer.from(await (file as Blob).arrayBuffer()));
    });
    if (!res.destroyed) sendJson(res, result.status, result.body);
  }

  /** The UI panel's route: every error, the busy one included, becomes a 500 with its text. */
  private async generateFromPanel(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = parseJson((await readRaw(req)).toString("utf8"));
    const data = parsed.ok && isRecord(parsed.value) ? parsed.value : null;
    if (!data) return sendJson(res, 422, { detail: [{ type: "dict_type", loc: ["body"], msg: "Input should be a valid dictionary", input: null }] });
    this.recordJson(data);
    const int = (value: unknown, fallback: number) => (value === undefined ? fallback : Math.trunc(Number(value)));
    const args: Args = {
      ...ARG_DEFAULTS,
      seed: int(data.seed, 1),
      ss_guidance_strength: Number(data.ss_strength ?? 7.5),
      ss_sampling_steps: int(data.ss_steps, 12),
      slat_guidance_strength: Number(data.slat_strength ?? 3.0),
      slat_sampling_steps: int(data.slat_steps, 12),
      mesh_simplify_ratio: Number(data.mesh_simplify ?? 0.95),
      texture_size: int(data.texture_size, 1024),
    };
    const images = Array.isArray(data.single_multi_img_input) ? data.single_multi_img_input : [];
    if (images.length === 0) return sendJson(res, 500, { detail: "400: No images provided" });
    const result = await this.run(res, args, () => {
      validateArgs(true, args);
      const first = images[0];
      if (typeof first !== "string") throw new HttpError(400, "Invalid base64 data: argument should be a bytes-like object or ASCII string, not 'int'");
      return Promise.resolve(imageFromBase64(first));
    });
    if (result.status === 200) return sendJson(res, 200, result.body);
    const detail = isRecord(result.body) ? String(result.body.detail) : "";
    sendJson(res, 500, { detail: result.status === 500 ? detail : `${result.status}: ${detail}` });
  }

  /** The lock, the pipeline and the error handling shared by the generation routes. */
  private async run(
    res: ServerResponse,
    args: Args,
    getImage: () => Promise<Buffer>,
  ): Promise<{ status: number; body: unknown }> {
    if (this.busy) {
      this.stats.rejectedBusy += 1;
      return { status: 503, body: { detail: TRELLIS_BUSY } };
    }
    this.busy = true;
    this.cancelRequested = false;
    const epoch = this.epoch;
    this.current = { status: "PROCESSING", progress: 0, message: "" };
    this.stats.generationsStarted += 1;
    res.on("close", () => {
      if (!res.writableFinished) this.stats.clientsGone += 1;
    });
    const { fault, next } = takeFault(this.behaviour);
    this.behaviour = next;
    const started = Date.now();
    try {
      const image = await getImage();
      this.update("PROCESSING", 10, "Generating 3D structure...");
      if (fault === "drop") res.destroy();
      await this.step(epoch, started, 0.5);
      if (fault === "fail") throw new Error(FAKE_TRELLIS_FAILURE);
      this.update("PROCESSING", 50, "3D structure generated");
      this.update("PROCESSING", 70, "Generating GLB file...");
      const glb = await texturedMesh(image, args.mesh_simplify_ratio);
      await this.step(epoch, started, 1);
      if (epoch !== this.epoch) throw new Cancelled();
      this.model = glb;
      this.update("COMPLETE", 100, "Generation complete");
      this.stats.generationsCompleted += 1;
      return {
        status: 200,
        body: { status: "COMPLETE", progress: 100, message: "Generation complete", preview_urls: null, model_url: "/download/model" },
      };
    } catch (error) {
      if (epoch !== this.epoch) return { status: 499, body: { detail: "Generation cancelled by user" } };
      this.model = null; // cleanup_generation_files()
      if (error instanceof Cancelled) {
        this.update("FAILED", 0, "Cancelled by user");
        this.stats.generationsCancelled += 1;
        return { status: 499, body: { detail: "Generation cancelled by user" } };
      }
      const text = error instanceof HttpError ? error.pythonText : error instanceof Error ? error.message : String(error);
      this.update("FAILED", 0, text);
      this.stats.generationsFailed += 1;
      return { status: 500, body: { detail: text } };
    } finally {
      if (epoch === this.epoch) this.busy = false;
    }
  }

  private update(status: TrellisTaskStatus, progress: number, message: string): void {
    this.current = { status, progress, message };
  }

  /**
   * Pipeline work that checks cancel_event as it goes (every ~10 ms), until `share` of the
   * generation's time since `started` is spent. The time is read as it goes: a test may stretch
   * or end the generation under way.
   */
  private async step(epoch: number, started: number, share: number): Promise<void> {
    for (;;) {
      if (epoch !== this.epoch) throw new Cancelled();
      if (this.cancelRequested && Date.now() - this.cancelRequestedAt >= this.behaviour.interruptLagMs) throw new Cancelled();
      const left = started + this.behaviour.jobMs * share - Date.now();
      if (left <= 0) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(10, left)));
    }
  }

  private recordForm(form: FormData): void {
    const fields: Record<string, unknown> = {};
    for (const [key, value] of form.entries()) {
      fields[key] = typeof value === "string" ? value : { filename: value.name, size: value.size, type: value.type };
    }
    this.recordJson(fields);
  }

  private recordJson(fields: Record<string, unknown>): void {
    this.requests.push(fields);
    if (this.requests.length > MAX_RECORDED_REQUESTS) this.requests.shift();
  }

  private async control(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    return serveControl(req, res, path, this, parseBehaviourPatch);
  }
}

/** The GLB a generation writes: textured, with what mesh_simplify_ratio leaves of the raw mesh. */
function texturedMesh(image: Uint8Array, simplifyRatio: number): Promise<Uint8Array> {
  const ratio = simplifyRatio > 0.999 ? simplifyRatio / 100 : simplifyRatio;
  const triangles = Math.max(1_000, Math.round(TRELLIS_RAW_TRIANGLES * (1 - Math.min(1, ratio))));
  const digest = createHash("sha256").update(image).digest();
  const colour: Rgb = [digest[0] ?? 0, digest[1] ?? 0, digest[2] ?? 0];
  return buildTexturedGeneratorGlb({ triangles, colour });
}

function emptyStats(): TrellisStats {
  return { generationsStarted: 0, generationsCompleted: 0, generationsFailed: 0, generationsCancelled: 0, rejectedBusy: 0, clientsGone: 0, pings: 0, interrupts: 0 };
}

function parseBehaviourPatch(body: unknown): Partial<TrellisBehaviour> | string {
  if (!isRecord(body)) return "body must be a JSON object";
  const allowed = ["jobMs", "interruptLagMs", "fault", "faultCount"];
  const unknownKey = Object.keys(body).find((key) => !allowed.includes(key));
  if (unknownKey) return `unknown key "${unknownKey}" (allowed: ${allowed.join(", ")})`;
  const patch: Partial<TrellisBehaviour> = {};
  if (body.jobMs !== undefined) {
    if (typeof body.jobMs !== "number" || !Number.isInteger(body.jobMs) || body.jobMs < 0) return "jobMs must be an integer >= 0";
    patch.jobMs = body.jobMs;
  }
  if (body.interruptLagMs !== undefined) {
    if (typeof body.interruptLagMs !== "number" || !Number.isInteger(body.interruptLagMs) || body.interruptLagMs < 0) return "interruptLagMs must be an integer >= 0";
    patch.interruptLagMs = body.interruptLagMs;
  }
  if (body.fault !== undefined) {
    const known = TRELLIS_FAULTS.find((name) => name === body.fault);
    if (!known) return `fault must be one of ${TRELLIS_FAULTS.join(", ")}`;
    patch.fault = known;
  }
  if (body.faultCount !== undefined) {
    if (!isFaultCount(body.faultCount)) return FAULT_COUNT_ERROR;
    patch.faultCount = body.faultCount;
  }
  return patch;
}

export async function startFakeTrellis(opts: FakeTrellisOptions = {}): Promise<FakeTrellis> {
  const fake = new TrellisFake({
    jobMs: opts.jobMs ?? DEFAULT_TRELLIS_JOB_MS,
    interruptLagMs: opts.interruptLagMs ?? DEFAULT_TRELLIS_INTERRUPT_LAG_MS,
    fault: "none",
    faultCount: null,
  });
  const host = opts.host ?? "127.0.0.1";
  let server: RunningServer | null = await startHttpServer(fake.handle, opts.port ?? 0, host);
  const { url, port } = server;
  return {
    url,
    port,
    close: async () => {
      await server?.close();
      server = null;
    },
    stop: async () => {
      const running = server;
      server = null;
      fake.forget();
      await running?.close();
    },
    start: async () => {
      server ??= await startHttpServer(fake.handle, port, host);
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
  const { values } = parseArgs({ options: { port: { type: "string" }, host: { type: "string" }, "job-ms": { type: "string" } } });
  const fake = await startFakeTrellis({
    port: numberArg(values.port, 7960, "port"),
    host: values.host ?? "127.0.0.1",
    jobMs: numberArg(values["job-ms"], DEFAULT_TRELLIS_JOB_MS, "job-ms"),
  });
  console.log(`fake trellis listening on ${fake.url}`);
  closeOnSignal(fake.close);
}
