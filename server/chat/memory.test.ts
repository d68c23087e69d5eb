import { describe, expect, it } from "vitest";
import { summaryBackoffMs } from "./memory";

describe("summary back-off", () => {
  it("waits 1 min, 5 min, then 30 min after failures in a row, and no longer than that", () => {
    expect([1, 2, 3, 4, 20].map(summaryBackoffMs)).toEqual([60_000, 300_000, 1_800_000, 1_800_000, 1_800_000]);
  });
});
