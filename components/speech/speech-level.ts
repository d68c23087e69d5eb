"use client";

/**
 * How loud the character's speech is right now, for an avatar's mouth. Everything the app plays
 * as speech — clips on audio elements and live streams alike — goes through one analyser on the
 * page's audio context, so the mouth follows the very samples being heard, with no extra request.
 *
 * Only while something listens (an avatar on screen) are audio elements routed through Web Audio;
 * otherwise they play as plain elements, as before.
 */

let context: AudioContext | null = null;
let bus: { input: GainNode; analyser: AnalyserNode; samples: Float32Array<ArrayBuffer> } | null = null;
let listeners = 0;
const routed = new WeakSet<HTMLMediaElement>();

/** The page's audio context, resumed (it starts suspended until the page has been interacted with). */
export function audioContext() {
  context ??= new AudioContext();
  if (context.state === "suspended") void context.resume();
  return context;
}

function speechBus() {
  if (bus) return bus;
  const ctx = audioContext();
  const input = ctx.createGain();
  const analyser = ctx.createAnalyser();
  // ~23 ms of samples at 44.1 kHz: one animation frame's worth.
  analyser.fftSize = 1024;
  analyser.smoothingTimeConstant = 0;
  input.connect(analyser);
  analyser.connect(ctx.destination);
  bus = { input, analyser, samples: new Float32Array(new ArrayBuffer(analyser.fftSize * 4)) };
  return bus;
}

/** Where speech played with Web Audio goes: through the analyser to the speakers. */
export function speechDestination(): AudioNode {
  return speechBus().input;
}

/** Sends an audio element's sound through the analyser while an avatar listens. Idempotent. */
export function routeSpeechElement(element: HTMLMediaElement) {
  if (listeners === 0 || routed.has(element)) return;
  routed.add(element);
  audioContext().createMediaElementSource(element).connect(speechDestination());
}

/** An avatar starts (or stops) following speech; returns the stop. */
export function listenToSpeech(): () => void {
  listeners += 1;
  speechBus();
  let done = false;
  return () => {
    if (done) return;
    done = true;
    listeners -= 1;
  };
}

/**
 * The loudness of the speech playing now, 0 (silence) to 1, from the root mean square of the
 * latest samples, scaled so that ordinary speech opens the mouth fully.
 */
export function speechLevel(): number {
  if (!bus) return 0;
  bus.analyser.getFloatTimeDomainData(bus.samples);
  let sum = 0;
  for (const sample of bus.samples) sum += sample * sample;
  const rms = Math.sqrt(sum / bus.samples.length);
  // Below the noise floor is silence; speech peaks around 0.2–0.3 RMS.
  return Math.min(1, Math.max(0, (rms - 0.01) * 5));
}
