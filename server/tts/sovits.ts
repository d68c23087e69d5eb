import "server-only";
import { env } from "@/lib/env.mjs";
import type { VoiceParams } from "@/lib/schemas";
import { DomainError } from "@/server/errors";
import { SynthesisQueue } from "./queue";
import { isSilent, readWav } from "./wav";

const holder = globalThis as unknown as { afSovitsQueues?: Map<string, SynthesisQueue>; afSovitsFake?: Map<string, boolean> };
/** One queue per GPT-SoVITS server (by URL), for the whole process. */
const queues: Map<string, SynthesisQueue> = (holder.afSovitsQueues ??= new Map());
/** Whether a server's last answered probe came from the built-in fake, by URL. */
const seenFake: Map<string, boolean> = (holder.afSovitsFake ??= new Map());

function queueFor(url: string) {
  let queue = queues.get(url);
  if (!queue) {
    queue = new SynthesisQueue(() => env().SOVITS_CONCURRENCY);
    queues.set(url, queue);
  }
  return queue;
}

/** Requests this process has sent to the configured server and not yet had answered. */
export const synthesesInFlight = () => queueFor(env().SOVITS_URL).inFlight;

const isTimeout = (error: unknown) => error instanceof DOMException && error.name === "TimeoutError";

/**
 * GPT-SoVITS api_v2 has no health route: FastAPI's /openapi.json answers once the models are
 * loaded, so that is the probe (never /control, which restarts or exits the server). The server
 * answers nothing while it synthesises, so a probe that times out while this app has a synthesis
 * there in flight means "busy", not "down".
 */
export async function probeSovits(): Promise<{ busy: boolean; fake: boolean }> {
  const { SOVITS_URL, OLLAMA_TIMEOUT_MS } = env();
  const speakingAtStart = synthesesInFlight() > 0;
  let response: Response;
  try {
    response = await fetch(new URL("/openapi.json", SOVITS_URL), {
      signal: AbortSignal.timeout(Math.min(OLLAMA_TIMEOUT_MS, 5_000)),
    });
  } catch (error) {
    const busy = isTimeout(error) && (speakingAtStart || synthesesInFlight() > 0);
    if (busy) return { busy, fake: seenFake.get(SOVITS_URL) ?? false };
    throw error;
  }
  if (!response.ok) throw new Error(`GPT-SoVITS answered ${response.status}`);
  const spec = (await response.json()) as { info?: { title?: string; version?: string } };
  const fake = /fake/i.test(spec.info?.title ?? "");
  seenFake.set(SOVITS_URL, fake);
  return { busy: false, fake };
}

export const AUDIO_FORMATS = ["wav", "ogg", "aac"] as const;
export type AudioFormat = (typeof AUDIO_FORMATS)[number];
export const CONTENT_TYPES: Record<AudioFormat, string> = { wav: "audio/wav", ogg: "audio/ogg", aac: "audio/aac" };

/** A voice as GPT-SoVITS needs it (the voices table's columns). */
export interface SovitsVoice {
  refAudioPath: string;
  promptText: string;
  promptLang: string;
  auxRefAudioPaths: string[];
  params: VoiceParams;
}

/**
 * The `text_lang` for a text: GPT-SoVITS's "ko", "ja" and "zh" read that language mixed with
 * English, "en" English alone. Decided by the script most of the letters are in.
 */
export function textLanguage(text: string): "ko" | "ja" | "zh" | "en" {
  const count = (pattern: RegExp) => text.match(pattern)?.length ?? 0;
  const hangul = count(/\p{Script=Hangul}/gu);
  const kana = count(/[\p{Script=Hiragana}\p{Script=Katakana}]/gu);
  const han = count(/\p{Script=Han}/gu);
  if (hangul > 0 && hangul >= kana) return "ko";
  if (kana > 0) return "ja";
  if (han > 0) return "zh";
  return "en";
}

/** Network errors that mean no GPT-SoVITS is listening there (as opposed to one that failed). */
const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

/** The POST /tts body for one complete file (streaming_mode 0), in the protocol's field names. */
export function ttsRequest(voice: SovitsVoice, text: string, format: AudioFormat) {
  const { params } = voice;
  return {
    text,
    text_lang: textLanguage(text),
    ref_audio_path: voice.refAudioPath,
    prompt_lang: voice.promptLang.toLowerCase(),
    prompt_text: voice.promptText,
    aux_ref_audio_paths: voice.auxRefAudioPaths,
    top_k: params.topK ?? 15,
    top_p: params.topP ?? 1,
    temperature: params.temperature ?? 1,
    text_split_method: params.textSplitMethod ?? "cut5",
    speed_factor: params.speedFactor ?? 1,
    media_type: format,
    streaming_mode: 0,
  };
}

/** api_v2's answer to a failed inference (and to text with nothing to say): 1 s of silence at this rate. */
const SILENCE_SAMPLE_RATE = 16000;
/** Text GPT-SoVITS has something to say for: a letter or a digit. */
const SPEAKABLE = /[\p{L}\p{N}]/u;

export interface SynthesisTurn {
  /** Whose turn it is in the server's queue (a user id): turns go round the owners waiting. */
  owner: string;
  /** Fires when the audio is no longer wanted: a request still waiting is dropped, never sent. */
  signal?: AbortSignal;
}

/**
 * Synthesises `request` (from ttsRequest) into one audio file, when its turn in the server's
 * queue comes; SOVITS_TIMEOUT_MS counts from then (the synthesis, not the wait). A server that
 * can't be reached (or answers too late) is tts_unavailable; one that refuses or fails is
 * tts_failed — including the 200 with 16 kHz silence that api_v2 sends when inference fails, for
 * a text that has something to say. What GPT-SoVITS said (its errors name reference files and
 * paths on its host) and its address go to the server log only. A request dropped while waiting
 * rejects with its signal's reason.
 */
export function synthesize(request: ReturnType<typeof ttsRequest>, turn: SynthesisTurn): Promise<Buffer> {
  return queueFor(env().SOVITS_URL).run(turn.owner, () => send(request), turn.signal);
}

async function send(request: ReturnType<typeof ttsRequest>): Promise<Buffer> {
  const { SOVITS_URL, SOVITS_TIMEOUT_MS } = env();
  const log = (what: string) => console.warn(`[sovits] ${SOVITS_URL}, reference ${request.ref_audio_path}: ${what}`);
  let response: Response;
  try {
    response = await fetch(new URL("/tts", SOVITS_URL), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(SOVITS_TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = isTimeout(error);
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? "";
    log(timedOut ? `no answer within ${SOVITS_TIMEOUT_MS / 1000} s` : cause || (error as Error).message);
    if (!timedOut && !UNREACHABLE.has(cause)) {
      // Connected, but the answer broke off before it was complete.
      throw new DomainError("tts_failed", "The voice server broke off while answering.");
    }
    throw new DomainError(
      "tts_unavailable",
      timedOut ? `The voice server did not answer within ${SOVITS_TIMEOUT_MS / 1000} s.` : "The voice server is unreachable.",
    );
  }
  if (!response.ok) {
    const body = await response.text().catch(() => "");
    let detail = body.slice(0, 300);
    try {
      const json = JSON.parse(body) as { message?: string; Exception?: string; detail?: unknown };
      detail = [json.message, json.Exception].filter(Boolean).join(": ") || JSON.stringify(json.detail ?? json).slice(0, 300);
    } catch {
      // not JSON (a GET without languages answers 500 text/plain)
    }
    log(`HTTP ${response.status}: ${detail}`);
    throw new DomainError("tts_failed", "The voice server could not speak this.");
  }
  let bytes: Buffer;
  try {
    bytes = Buffer.from(await response.arrayBuffer());
    if (bytes.length === 0) throw new Error("empty body");
  } catch (error) {
    // Headers came but the body broke off: the server failed mid-way.
    log(`the audio broke off: ${(error as Error).message}`);
    throw new DomainError("tts_failed", "The voice server broke off while sending the audio.");
  }
  if (request.media_type === "wav" && SPEAKABLE.test(request.text)) {
    const wav = readWav(bytes);
    if (wav?.sampleRate === SILENCE_SAMPLE_RATE && isSilent(wav)) {
      log(`answered a ${request.text.length}-character text with ${SILENCE_SAMPLE_RATE} Hz silence: its inference failed`);
      throw new DomainError("tts_failed", "The voice server could not speak this.");
    }
  }
  return bytes;
}
