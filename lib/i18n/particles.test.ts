import { describe, expect, it } from "vitest";
import { en } from "./en";
import { translator } from "./index";
import { ko } from "./ko";
import { finalConsonant, isParticle, particleFor, withParticle } from "./particles";

describe("Korean particles", () => {
  it("follow a Hangul word's final consonant", () => {
    expect(withParticle("별", "이/가")).toBe("별이");
    expect(withParticle("아리아", "이/가")).toBe("아리아가");
    expect(withParticle("목소리", "은/는")).toBe("목소리는");
    expect(withParticle("음성", "은/는")).toBe("음성은");
    expect(withParticle("대화", "을/를")).toBe("대화를");
    expect(withParticle("캐릭터 설정", "을/를")).toBe("캐릭터 설정을");
    expect(withParticle("헤르미온느", "와/과")).toBe("헤르미온느와");
    expect(withParticle("제목", "와/과")).toBe("제목과");
  });

  it("take 로 after ㄹ, as after a vowel", () => {
    expect(withParticle("서울", "으로/로")).toBe("서울로");
    expect(withParticle("부산", "으로/로")).toBe("부산으로");
    expect(withParticle("바다", "으로/로")).toBe("바다로");
  });

  it("read digits in Korean", () => {
    expect(particleFor("3", "이/가")).toBe("이"); // 삼
    expect(particleFor("2", "이/가")).toBe("가"); // 이
    expect(particleFor("버전 7", "은/는")).toBe("은"); // 칠
    expect(particleFor("10", "을/를")).toBe("을"); // 십
    expect(particleFor("100", "와/과")).toBe("과"); // 백
    expect(particleFor("1000", "으로/로")).toBe("으로"); // 천
    expect(particleFor("0", "이/가")).toBe("이"); // 영
    expect(particleFor("4", "이/가")).toBe("가"); // 사
  });

  it("read Latin letters as Koreans say them", () => {
    expect(particleFor("Aria", "이/가")).toBe("가");
    expect(particleFor("Bob", "이/가")).toBe("이");
    expect(particleFor("Paul", "으로/로")).toBe("로");
    expect(particleFor("Ollama", "은/는")).toBe("는");
    expect(particleFor("GPT-SoVITS", "은/는")).toBe("는");
    expect(particleFor("Jasmine", "을/를")).toBe("를");
    expect(particleFor("Sam", "을/를")).toBe("을");
    expect(particleFor("Ming", "와/과")).toBe("과");
  });

  it("skip quotes, brackets and punctuation after the word", () => {
    expect(withParticle("“별”", "이/가")).toBe("“별”이");
    expect(withParticle("“아리아”", "이/가")).toBe("“아리아”가");
    expect(withParticle("(음성)", "은/는")).toBe("(음성)은");
    expect(withParticle("「하루」!", "을/를")).toBe("「하루」!를");
  });

  it("show both forms when the word cannot be read", () => {
    expect(particleFor("🙂", "이/가")).toBe("이(가)");
    expect(particleFor("", "을/를")).toBe("을(를)");
    expect(particleFor("…", "으로/로")).toBe("(으)로");
    expect(finalConsonant("🙂")).toBeNull();
  });
});

describe("translator with particles", () => {
  it("fills {name|이/가} with the agreeing particle, and {“name”|…} quoted", () => {
    const t = translator("ko");
    expect(t("character.deleteBody", { name: "별" })).toMatch(/^“별”이 갤러리에서/);
    expect(t("character.deleteBody", { name: "아리아" })).toMatch(/^“아리아”가 갤러리에서/);
    expect(t("chats.noResults", { q: "사과" })).toBe("“사과”가 들어간 메시지가 없어요.");
    expect(t("chats.noResults", { q: "수박" })).toBe("“수박”이 들어간 메시지가 없어요.");
    expect(t("chats.deleteBody", { title: "첫 만남" })).toMatch(/^“첫 만남”과 모든/);
    expect(t("chats.deleteBody", { title: "모험" })).toMatch(/^“모험”과 모든/);
    expect(t("chats.deleteBody", { title: "바다" })).toMatch(/^“바다”와 모든/);
  });

  it("leaves a missing parameter as written", () => {
    expect(translator("ko")("chats.noResults")).toContain("{“q”|이/가}");
  });

  it("the catalogs use only known particles and never write both forms", () => {
    for (const [key, text] of Object.entries({ ...ko, ...Object.fromEntries(Object.entries(en).map(([k, v]) => [`en:${k}`, v])) })) {
      for (const match of text.matchAll(/\{[^{}|]*\|([^{}]+)\}/g)) expect(isParticle(match[1] ?? ""), `${key}: ${match[0]}`).toBe(true);
      expect(text, key).not.toMatch(/[이가은는을를와과]\([이가은는을를와과]\)/);
    }
  });
});
