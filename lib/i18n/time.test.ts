import { describe, expect, it } from "vitest";
import { formatDateTime, formatTime, formatWhen, isTimeZone, resolveTimeZone } from "./time";

const at = Date.parse("2026-11-24T06:30:00Z"); // 15:30 in Seoul, 01:30 in New York

describe("times in the reader's zone and language", () => {
  it("accepts only zones the runtime knows", () => {
    expect(isTimeZone("Asia/Seoul")).toBe(true);
    expect(isTimeZone("Mars/Olympus")).toBe(false);
    expect(isTimeZone("<script>")).toBe(false);
    expect(resolveTimeZone("America%2FNew_York")).toBe("America/New_York");
    expect(resolveTimeZone(undefined)).toBe("UTC");
    expect(resolveTimeZone("%E0%A4%A")).toBe("UTC");
  });

  it("formats in the given zone, not the server's", () => {
    expect(formatTime(at, "ko", "Asia/Seoul")).toBe("오후 3:30");
    expect(formatTime(at - 8 * 3600_000, "ko", "Asia/Seoul")).toBe("오전 7:30");
    expect(formatTime(at, "en", "America/New_York")).toBe("1:30 AM");
    expect(formatDateTime(at, "ko", "Asia/Seoul")).toContain("2026. 11. 24.");
  });

  it("says today's times relatively, in the reader's language", () => {
    expect(formatWhen(at - 3 * 60_000, "ko", "Asia/Seoul", at)).toBe("3분 전");
    expect(formatWhen(at - 2 * 3600_000, "en", "Asia/Seoul", at)).toBe("2 hr. ago");
    expect(formatWhen(at - 10_000, "ko", "Asia/Seoul", at)).toBe("지금");
  });

  it("gives earlier days as a date, and today as a time before the clock is known", () => {
    expect(formatWhen(at - 24 * 3600_000, "ko", "Asia/Seoul", at)).toBe("11월 23일");
    // Three hours later, still the 24th in New York: today there.
    expect(formatWhen(at, "en", "America/New_York", at + 3 * 3600_000)).toBe("3 hr. ago");
    expect(formatWhen(at, "ko", "Asia/Seoul", null)).toBe("오후 3:30");
    expect(formatWhen(Date.parse("2025-03-01T00:00:00Z"), "en", "UTC", at)).toBe("Mar 1, 2025");
  });
});
