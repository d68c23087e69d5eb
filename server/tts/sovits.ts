import "server-only";
import { env } from "@/lib/env.mjs";
import type { VoiceParams } from "@/lib/schemas";
import { DomainError } from "@/server/errors";
import { SynthesisQueue } from "./queue";
import { anotherServer, markFailing, markHealthy, sovitsState, synthesisServers } from "./servers";
import { isSilent, readWav, readWavHeader, writeWav, type WavFormat } from "./wav";

const holder = globalThis as unknown as { afSovitsQueue?: SynthesisQueue };
/** One queue for the pool of GPT-SoVITS servers, for the whole process. */
const queue: SynthesisQueue = (holder.afSovitsQueue ??= new SynthesisQueue(synthesisServers));

/** Requests this process has sent to `url` (or to any server) and not yet had answered. */
export const synthesesInFlight = (url?: string) => queue.inFlight(url);

const isTimeout = (error: unknown) => error instanceof DOMException && error.name === "TimeoutError";

/** How often a server that could not be reached is probed again while nobody asks for health. */
const REPROBE_MS = 10_000;

/**
 * GPT-SoVITS api_v2 has no health route: FastAPI's /openapi.json answers once the models are
 * loaded, so that is the probe (never /control, which restarts or exits the server). The server
 * answers nothing while it synthesises, so a probe that times out while this app has a synthesis
 * there in flight means "busy", not "down". A server that answers is marked healthy (work waiting
 * for the pool may go to it again); one that can't be reached is marked failing.
 */
export async function probeSovits(url: string): Promise<{ busy: boolean; fake: boolean }> {
  const { OLLAMA_TIMEOUT_MS } = env();
  const state = sovitsState(url);
  const speakingAtStart = synthesesInFlight(url) > 0;
  let response: Response;
  try {
    response = await fetch(new URL("/openapi.json", url), {
      signal: AbortSignal.timeout(Math.min(OLLAMA_TIMEOUT_MS, 5_000)),
    });
  } catch (error) {
    const busy = isTimeout(error) && (speakingAtStart || synthesesInFlight(url) > 0);
    if (busy) return { busy, fake: state.fake };
    if (!isTimeout(error)) markFailing(url);
    throw error;
  }
  if (!response.ok) throw new Error(`GPT-SoVITS answered ${response.status}`);
  const spec = (await response.json()) as { info?: { title?: string; version?: string } };
  state.fake = /fake/i.test(spec.info?.title ?? "");
  if (state.failingSince !== null) {
    markHealthy(url);
    queue.pump();
  }
  return { busy: false, fake: state.fake };
}

/** A server that could not be reached: skipped, and probed again until it answers. */
function noteUnreachable(url: string) {
  if (sovitsState(url).failingSince !== null) return;
  markFailing(url);
  const reprobe = () => {
    if (sovitsState(url).failingSince === null) return;
    probeSovits(url).catch(() => setTimeout(reprobe, REPROBE_MS).unref());
  };
  setTimeout(reprobe, REPROBE_MS).unref();
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

/** GPT-SoVITS's streaming modes: 0 one complete file; 1 a fragment per text segment; 2 streaming; 3 fixed-length chunks (fastest). */
export type StreamingMode = 0 | 1 | 2 | 3;

/**
 * The POST /tts body, in the protocol's field names. Streaming (modes 1–3) is asked only for wav,
 * the one format whose stream the app can read as it comes (one header, then PCM).
 */
export function ttsRequest(voice: SovitsVoice, text: string, format: AudioFormat, streamingMode: StreamingMode = 0) {
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
    streaming_mode: format === "wav" ? streamingMode : 0,
  };
}

export type TtsRequest = ReturnType<typeof ttsRequest>;

/** api_v2's answer to a failed inference (and to text with nothing to say): 1 s of silence at this rate. */
export const SILENCE_SAMPLE_RATE = 16000;
/** Text GPT-SoVITS has something to say for: a letter or a digit. */
const SPEAKABLE = /[\p{L}\p{N}]/u;

export interface SynthesisTurn {
  /** Whose turn it is in the servers' queue (a user id): turns go round the owners waiting. */
  owner: string;
  /** Fires when the audio is no longer wanted: a request still waiting is dropped, never sent. */
  signal?: AbortSignal;
}

/** Where a streamed synthesis's audio goes as it arrives (streaming modes 1–3). */
export interface AudioSink {
  /** The stream's header came: the format of the samples that follow. */
  begin(format: WavFormat): void;
  /** More samples (16-bit PCM; a chunk may end inside a sample). */
  append(pcm: Buffer): void;
}

/** Thrown by `send` when nothing listens at a server: the request was never received, so another server may take it. */
class Unreachable extends Error {}

/**
 * Synthesises `request` (from ttsRequest) into one complete audio file, when its turn in the
 * servers' queue comes; SOVITS_TIMEOUT_MS counts from then (the synthesis, not the wait). In a
 * streaming mode, `sink` also gets the audio as it arrives. A server that can't be reached is
 * skipped (marked failing) and the request goes to another of the pool; with none left it is
 * tts_unavailable, as is one that answers too late. One that refuses or fails is tts_failed —
 * including the 200 with 16 kHz silence that api_v2 sends when inference fails, for a text that
 * has something to say, and a stream that breaks off. What GPT-SoVITS said (its errors name
 * reference files and paths on its host) and its address go to the server log only. A request
 * dropped while waiting rejects with its signal's reason.
 */
export async function synthesize(request: TtsRequest, turn: SynthesisTurn, sink?: AudioSink): Promise<Buffer> {
  const tried = new Set<string>();
  for (;;) {
    try {
      return await queue.run(
        turn.owner,
        (url) => {
          tried.add(url);
          return send(url, request, sink);
        },
        turn.signal,
        tried,
      );
    } catch (error) {
      if (!(error instanceof Unreachable)) throw error;
      if (!anotherServer(tried)) throw new DomainError("tts_unavailable", "The voice server is unreachable.");
    }
  }
}

async function send(url: string, request: TtsRequest, sink: AudioSink | undefined): Promise<Buffer> {
  const { SOVITS_TIMEOUT_MS } = env();
  const log = (what: string) => console.warn(`[sovits] ${url}, reference ${request.ref_audio_path}: ${what}`);
  let response: Response;
  try {
    response = await fetch(new URL("/tts", url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(SOVITS_TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = isTimeout(error);
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? "";
    log(timedOut ? `no answer within ${SOVITS_TIMEOUT_MS / 1000} s` : cause || (error as Error).message);
    if (!timedOut && UNREACHABLE.has(cause)) {
      noteUnreachable(url);
      throw new Unreachable(cause);
    }
    if (!timedOut) {
      // Connected, but the answer broke off before it was complete.
      throw new DomainError("tts_failed", "The voice server broke off while answering.");
    }
    throw new DomainError("tts_unavailable", `The voice server did not answer within ${SOVITS_TIMEOUT_MS / 1000} s.`);
  }
  markHealthy(url);
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
    bytes = request.streaming_mode > 0 && response.body ? await readStream(response.body, sink) : Buffer.from(await response.arrayBuffer());
    if (bytes.length === 0) throw new Error("empty body");
  } catch (error) {
    // Headers came but the body broke off: the server failed mid-way (a streamed failure can only cut the body off).
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

/**
 * A streamed wav: a header whose data size is 0, then bare PCM until the body ends. The samples
 * go to `sink` as they come; the result is the complete file, its sizes written in.
 */
async function readStream(body: ReadableStream<Uint8Array>, sink: AudioSink | undefined): Promise<Buffer> {
  let head = Buffer.alloc(0);
  let format: WavFormat | null = null;
  const samples: Buffer[] = [];
  const reader = body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    let pcm = Buffer.from(value);
    if (!format) {
      head = Buffer.concat([head, pcm]);
      const found = readWavHeader(head);
      if (found === "incomplete") continue;
      if (found === null) throw new Error("the stream is not a wav file");
      format = found.format;
      sink?.begin(format);
      pcm = head.subarray(found.dataOffset);
    }
    if (pcm.length === 0) continue;
    samples.push(pcm);
    sink?.append(pcm);
  }
  if (!format) throw new Error("the stream ended before its header");
  return writeWav(format, Buffer.concat(samples));
}
