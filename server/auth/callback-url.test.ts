import { describe, expect, it } from "vitest";
import { authRedirect, isSameSitePath, safeCallbackPath } from "./callback-url";

/** The value as the sign-in page receives it from `/signin?callbackUrl=<raw>` (decoded once). */
const fromQuery = (raw: string) => new URLSearchParams(`callbackUrl=${raw}`).get("callbackUrl");

describe("callback URLs after sign-in", () => {
  it("accepts the app's own paths, with their queries and fragments", () => {
    for (const path of ["/", "/chat/abc123", "/characters/preset-seoyun", "/characters?q=%ED%97%A4%EB%A5%B4&tag=a%20b", "/settings#tokens"]) {
      expect(isSameSitePath(path), path).toBe(true);
      expect(safeCallbackPath(path)).toBe(path);
    }
    expect(safeCallbackPath(fromQuery("%2Fchat%2Fsome-session"))).toBe("/chat/some-session");
  });

  it.each([
    ["a backslash (%5C)", "/%5Cevil.example/x"],
    ["a tab (%09)", "/%09/evil.example"],
    ["a newline (%0A)", "/%0A/evil.example"],
    ["a carriage return (%0D)", "/%0D/evil.example"],
    ["a leading space", "%20//evil.example"],
    ["/\\", "/\\evil.example"],
    ["//", "//evil.example/x"],
    ["/// (three slashes)", "///evil.example"],
    ["an absolute https URL", "https://evil.example/x"],
    ["a scheme with a single slash", "http:/evil.example"],
    ["javascript:", "javascript:alert(document.cookie)"],
    ["javascript: after a slash-less path", "javascript%3Aalert(1)"],
    ["a backslash encoded twice (%255C)", "/%255Cevil.example"],
    ["slashes encoded twice (%252F)", "/%252F%252Fevil.example"],
    ["a tab encoded twice (%2509)", "/%2509/evil.example"],
    ["a backslash encoded three times", "/%25255Cevil.example"],
    ["a non-breaking space", "/%C2%A0/evil.example"],
    ["a malformed escape", "/%E0%A4%A"],
    ["an empty value", ""],
  ])("refuses %s", (_name, raw) => {
    const value = fromQuery(raw);
    expect(isSameSitePath(value)).toBe(false);
    expect(safeCallbackPath(value)).toBe("/");
  });

  it("refuses what isn't a string", () => {
    for (const value of [null, undefined, 42, ["/"], { toString: () => "/" }]) expect(isSameSitePath(value)).toBe(false);
  });

  it("keeps Auth.js's own redirects on the app's origin", () => {
    const baseUrl = "http://localhost:3000";
    expect(authRedirect({ url: "/chat/x?y=1", baseUrl })).toBe("http://localhost:3000/chat/x?y=1");
    expect(authRedirect({ url: "http://localhost:3000/voices", baseUrl })).toBe("http://localhost:3000/voices");
    for (const url of [
      "https://evil.example/x",
      "http://localhost:3000.evil.example/",
      "http://localhost:3000/\\evil.example",
      "http://localhost:3000//evil.example",
      "//evil.example",
      "/\\evil.example",
      "/\t/evil.example",
      "javascript:alert(1)",
      "not a url",
    ]) {
      expect(authRedirect({ url, baseUrl }), url).toBe("http://localhost:3000/");
    }
  });
});
