import { describe, expect, it } from "vitest";
import { idleMotion, mouthFromLevel } from "./motion";

describe("the mouth", () => {
  it("opens to the voice's level in the same frame", () => {
    expect(mouthFromLevel(0.8, 0)).toBe(0.8);
  });

  it("closes over a few frames when the voice drops, and is fully shut in silence", () => {
    let mouth = 0.8;
    const frames: number[] = [];
    for (let i = 0; i < 20; i++) frames.push((mouth = mouthFromLevel(0, mouth)));
    expect(frames[0]).toBeGreaterThan(0);
    expect(frames[0]).toBeLessThan(0.8);
    expect(frames.at(-1)).toBe(0);
  });

  it("stays within 0–1 whatever the level", () => {
    expect(mouthFromLevel(3, 0)).toBe(1);
    expect(mouthFromLevel(-1, 0)).toBe(0);
    expect(mouthFromLevel(Number.NaN, 0)).toBe(0);
  });
});

describe("idle motion", () => {
  it("blinks now and then, eyes open most of the time", () => {
    const samples = Array.from({ length: 2000 }, (_, i) => idleMotion(i * 0.01).blink);
    const closed = samples.filter((b) => b > 0.5).length;
    expect(closed).toBeGreaterThan(0);
    expect(closed / samples.length).toBeLessThan(0.1);
  });

  it("is still when the reader asks for reduced motion", () => {
    expect(idleMotion(1.234, true)).toEqual({ blink: 0, breath: 0, sway: 0 });
  });
});
