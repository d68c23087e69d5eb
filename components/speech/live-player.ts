"use client";

/**
 * Plays a WAV stream as it arrives (a sentence GPT-SoVITS is still synthesising in a streaming
 * mode): the samples of each chunk are scheduled on one Web Audio context right after the
 * previous ones, so the first sound plays as soon as the first chunk is in, with no gap while the
 * rest streams. An HTMLAudioElement would wait for a complete, sized file.
 */

import { audioContext, speechDestination } from "./speech-level";

interface Format {
  sampleRate: number;
  channels: number;
}

/** A 16-bit PCM WAV header: its format and where the samples begin; "incomplete" until all of it is in, null if it isn't one. */
function readHeader(bytes: Uint8Array): { format: Format; dataOffset: number } | "incomplete" | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12) return "incomplete";
  if (tag(0) !== "RIFF" || tag(8) !== "WAVE") return null;
  let format: Format | null = null;
  for (let at = 12; ; ) {
    if (at + 8 > bytes.length) return "incomplete";
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    if (id === "data") return format ? { format, dataOffset: at + 8 } : null;
    if (at + 8 + size > bytes.length) return "incomplete";
    if (id === "fmt ") {
      if (view.getUint16(at + 8, true) !== 1 || view.getUint16(at + 22, true) !== 16) return null; // 16-bit PCM only
      format = { channels: view.getUint16(at + 10, true), sampleRate: view.getUint32(at + 12, true) };
    }
    at += 8 + size + (size % 2);
  }
}

function concat(a: Uint8Array, b: Uint8Array) {
  if (a.length === 0) return b;
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/** Lead time before the first samples play, so a chunk's scheduling never lands in the past. */
const LEAD_S = 0.03;

/**
 * Streams `url` and plays it as it comes. `done` settles when the last sample has played (or
 * rejects if the stream failed or broke off); `stop` silences it at once and ends the download.
 */
export function playStream(url: string): { done: Promise<void>; stop: () => void } {
  const download = new AbortController();
  const sources: AudioBufferSourceNode[] = [];
  let stopped = false;
  let wakeStopped = () => {};
  const stoppedNow = new Promise<void>((resolve) => (wakeStopped = resolve));

  const play = async () => {
    const context = audioContext();
    const response = await fetch(url, { signal: download.signal });
    if (!response.ok || !response.body) throw new Error("the audio could not be played");
    const reader = response.body.getReader();
    let pending: Uint8Array = new Uint8Array(0);
    let format: Format | null = null;
    let playAt = 0;
    let lastEnded: Promise<void> = Promise.resolve();
    for (;;) {
      const { value, done } = await reader.read();
      if (stopped) return;
      if (done) break;
      pending = concat(pending, value);
      if (!format) {
        const header = readHeader(pending);
        if (header === "incomplete") continue;
        if (header === null) throw new Error("the audio could not be played");
        format = header.format;
        pending = pending.slice(header.dataOffset);
      }
      const frameBytes = 2 * format.channels;
      const usable = pending.length - (pending.length % frameBytes);
      if (usable === 0) continue;
      const samples = new DataView(pending.buffer, pending.byteOffset, usable);
      const frames = usable / frameBytes;
      const buffer = context.createBuffer(format.channels, frames, format.sampleRate);
      for (let channel = 0; channel < format.channels; channel += 1) {
        const data = buffer.getChannelData(channel);
        for (let i = 0; i < frames; i += 1) data[i] = samples.getInt16((i * format.channels + channel) * 2, true) / 32768;
      }
      pending = pending.slice(usable);
      const source = context.createBufferSource();
      source.buffer = buffer;
      // Through the speech analyser (an avatar's mouth follows it) to the speakers.
      source.connect(speechDestination());
      playAt = Math.max(playAt, context.currentTime + LEAD_S);
      source.start(playAt);
      playAt += buffer.duration;
      sources.push(source);
      lastEnded = new Promise<void>((resolve) => (source.onended = () => resolve()));
    }
    if (!format) throw new Error("the audio could not be played");
    await Promise.race([lastEnded, stoppedNow]);
  };

  const done = play().catch((error: unknown) => {
    if (!stopped) throw error;
  });
  return {
    done,
    stop: () => {
      stopped = true;
      download.abort();
      for (const source of sources) {
        try {
          source.stop();
        } catch {
          // not started yet, or already ended
        }
      }
      wakeStopped();
    },
  };
}
