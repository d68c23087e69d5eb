/**
 * The avatar's motion as pure functions of time and loudness, so they can be tested without a GPU.
 */

/** Opening follows a louder voice at once; closing eases (~60 ms), so syllables don't flutter. */
export function mouthFromLevel(level: number, previous: number): number {
  const target = Math.min(1, Math.max(0, Number.isFinite(level) ? level : 0));
  if (target >= previous) return target;
  const eased = previous + (target - previous) * 0.35;
  // Silence closes the mouth fully rather than leaving it a hair open.
  return eased < 0.02 ? 0 : eased;
}

export interface IdleMotion {
  /** 0 open → 1 closed */
  blink: number;
  /** -1…1, one breath every ~4 s */
  breath: number;
  /** -1…1, a slow turn for a model without a rig */
  sway: number;
}

const BLINK_EVERY_S = 4.2;
const BLINK_S = 0.15;

/** Blinking, breathing and swaying at `time` seconds; still (eyes open) when motion is reduced. */
export function idleMotion(time: number, reducedMotion = false): IdleMotion {
  if (reducedMotion) return { blink: 0, breath: 0, sway: 0 };
  // Blinks at slightly uneven intervals, each closing and opening over BLINK_S.
  const cycle = BLINK_EVERY_S + Math.sin(Math.floor(time / BLINK_EVERY_S) * 12.9898) * 0.8;
  const phase = time % cycle;
  const blink = phase < BLINK_S ? Math.sin((phase / BLINK_S) * Math.PI) : 0;
  return { blink, breath: Math.sin((time * 2 * Math.PI) / 4), sway: Math.sin((time * 2 * Math.PI) / 12) };
}
