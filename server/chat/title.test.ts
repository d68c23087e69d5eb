import { describe, expect, it } from "vitest";
import { cleanTitle } from "./title";

describe("cleanTitle", () => {
  it("keeps the first line, without labels, quotes, narration marks or a final stop", () => {
    expect(cleanTitle('제목: "비 오는 밤의 카페"\n설명…')).toBe("비 오는 밤의 카페");
    expect(cleanTitle("Title: A Night at the Library.")).toBe("A Night at the Library");
    expect(cleanTitle("*메뉴판을 가리키며* 오늘의 추천")).toBe("메뉴판을 가리키며 오늘의 추천");
    expect(cleanTitle("「우주 항해 일지」")).toBe("우주 항해 일지");
  });

  it("gives up on empty output and shortens long titles", () => {
    expect(cleanTitle("  \n ")).toBeNull();
    expect(cleanTitle('""')).toBeNull();
    expect(cleanTitle("가".repeat(100))).toHaveLength(60);
  });
});
