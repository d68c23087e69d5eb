import { describe, expect, it } from "vitest";
import { crossOriginPageWrite } from "./request-origin";

const check = (method: string, headers: Record<string, string>) => crossOriginPageWrite(method, new Headers(headers));

describe("crossOriginPageWrite", () => {
  it("refuses a Server Action or form post whose Origin is another site", () => {
    expect(check("POST", { host: "app.example", origin: "https://evil.example", "next-action": "abc" })).toBe(true);
    expect(check("POST", { host: "app.example", origin: "https://app.example.evil.example" })).toBe(true);
    expect(check("POST", { host: "app.example:3000", origin: "http://app.example:3001" })).toBe(true);
    expect(check("POST", { host: "app.example", origin: "null" })).toBe(true);
    expect(check("POST", { host: "app.example", origin: "not a url" })).toBe(true);
    expect(check("POST", { origin: "https://app.example" })).toBe(true);
    // Behind a proxy the forwarded host is the one that counts.
    expect(check("POST", { host: "127.0.0.1:3000", "x-forwarded-host": "evil.example", origin: "https://app.example" })).toBe(true);
  });

  it("lets same-origin writes, reads and origin-less requests through", () => {
    expect(check("POST", { host: "app.example:3000", origin: "http://app.example:3000", "next-action": "abc" })).toBe(false);
    expect(check("POST", { host: "127.0.0.1:3000", "x-forwarded-host": "app.example, proxy.internal", origin: "https://app.example" })).toBe(false);
    expect(check("POST", { host: "app.example" })).toBe(false);
    expect(check("GET", { host: "app.example", origin: "https://evil.example" })).toBe(false);
    expect(check("HEAD", { host: "app.example", origin: "https://evil.example" })).toBe(false);
  });
});
