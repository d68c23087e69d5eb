import { describe, expect, it } from "vitest";
import { contentDisposition, downloadName } from "./download";

describe("download names", () => {
  const when = new Date("2024-05-10T14:30:12Z");

  it("names the chat by character and title, with the date and time, safe on every file system", () => {
    expect(downloadName(["아리아", "별빛 아래/둘이서: \"비밀\""], when, "jsonl")).toBe("아리아 - 별빛 아래 둘이서 비밀 2024-05-10_1430.jsonl");
    expect(downloadName(["아리아", "아리아"], when, "md")).toBe("아리아 2024-05-10_1430.md");
    expect(downloadName(["\u202e", null], when, "md")).toBe("chat 2024-05-10_1430.md");
    expect(downloadName(["x".repeat(300)], when, "md")).toHaveLength(80 + " 2024-05-10_1430.md".length);
  });

  it("sends an ASCII fallback and the real name per RFC 5987", () => {
    const header = contentDisposition("아리아 - 밤 (1) 2024-05-10_1430.jsonl");
    expect(header).toBe(
      `attachment; filename="___ - _ (1) 2024-05-10_1430.jsonl"; filename*=UTF-8''%EC%95%84%EB%A6%AC%EC%95%84%20-%20%EB%B0%A4%20%281%29%202024-05-10_1430.jsonl`,
    );
    expect(decodeURIComponent(header.split("UTF-8''")[1]!)).toBe("아리아 - 밤 (1) 2024-05-10_1430.jsonl");
  });
});
