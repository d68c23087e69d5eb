import { describe, expect, it } from "vitest";
import { budgetFor, estimateTokens, recentTurnsThatFit, updateScale } from "./budget";

describe("token estimate", () => {
  it("counts Hangul about one token per syllable and Latin text about one per 3.5 characters", () => {
    expect(estimateTokens("안녕하세요")).toBe(5);
    expect(estimateTokens("a".repeat(35))).toBe(10);
    expect(estimateTokens("안녕 hello")).toBe(4);
    expect(estimateTokens("안녕하세요", 2)).toBe(10);
  });

  it("learns the real ratio from Ollama's prompt_eval_count, smoothly and within bounds", () => {
    expect(updateScale(null, 200, 100)).toBe(2);
    expect(updateScale(2, 100, 100)).toBeCloseTo(1.7);
    expect(updateScale(null, 10_000, 1)).toBe(4);
    expect(updateScale(1.5, 0, 100)).toBe(1.5);
  });
});

describe("budget", () => {
  it("leaves room for the reply and summarises above 80% of the window", () => {
    expect(budgetFor(8192, 1024)).toEqual({ prompt: 7168, summariseAbove: 6553 });
    // A reply may take at most a quarter of a small window.
    expect(budgetFor(2048, 1024)).toEqual({ prompt: 1536, summariseAbove: 1638 });
  });

  it("keeps the newest turns that fit, in order, and always the last one", () => {
    const turns = ["하나", "둘둘", "셋셋셋", "넷넷넷넷"].map((content) => ({ content }));
    expect(recentTurnsThatFit(turns, 100).map((t) => t.content)).toEqual(["하나", "둘둘", "셋셋셋", "넷넷넷넷"]);
    expect(recentTurnsThatFit(turns, 15).map((t) => t.content)).toEqual(["셋셋셋", "넷넷넷넷"]);
    expect(recentTurnsThatFit(turns, 1).map((t) => t.content)).toEqual(["넷넷넷넷"]);
  });
});
