import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "./query-helpers";

describe("page cursors", () => {
  it("round-trip", () => {
    const at = new Date("2026-11-23T10:00:00.123Z");
    expect(decodeCursor(encodeCursor(at, "abc-1"))).toEqual({ at, id: "abc-1" });
  });

  it("refuse times Postgres cannot store or that no row has, and anything else", () => {
    for (const bad of [
      "0000-01-01T00:00:00Z|abc",
      "+275760-09-13T00:00:00.000Z|abc",
      "-000001-01-01T00:00:00.000Z|abc",
      "2024-13-45T25:61:00Z|abc",
      "2024-01-01T00:00:00Z|",
      "2024-01-01T00:00:00Z|a'b",
      "garbage",
    ]) {
      expect(() => decodeCursor(bad), bad).toThrow(/cursor is not valid/);
    }
  });
});
