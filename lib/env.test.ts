import { describe, expect, it } from "vitest";
import { devLoginEnabled, parseEnv } from "./env.mjs";

describe("configuration", () => {
  it("uses the documented defaults when nothing is set", () => {
    const env = parseEnv({});
    expect(env.OLLAMA_HOST).toBe("http://127.0.0.1:11434");
    expect(env.SOVITS_URL).toBe("http://127.0.0.1:9880");
    expect(env.MAX_CONCURRENT_GENERATIONS).toBe(20);
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it("names the variable that is wrong", () => {
    expect(() => parseEnv({ OLLAMA_HOST: "localhost:11434" })).toThrow(/OLLAMA_HOST \("localhost:11434"\)/);
    expect(() => parseEnv({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL/);
    expect(() => parseEnv({ MAX_CONCURRENT_GENERATIONS: "0" })).toThrow(/MAX_CONCURRENT_GENERATIONS/);
  });

  it("requires AUTH_SECRET in production and both Google credentials together", () => {
    expect(() => parseEnv({ NODE_ENV: "production" })).toThrow(/AUTH_SECRET \(unset\): is required in production/);
    expect(() => parseEnv({ AUTH_GOOGLE_ID: "id" })).toThrow(/AUTH_GOOGLE_SECRET/);
  });

  it("keeps models loaded 30 minutes and gives background calls two minutes unless told otherwise", () => {
    const env = parseEnv({});
    expect(env.OLLAMA_KEEP_ALIVE).toBe("30m");
    expect(env.OLLAMA_BACKGROUND_TIMEOUT_MS).toBe(120_000);
  });

  it("sends keep_alive as Ollama reads it: a duration as written, plain seconds as a number", () => {
    expect(parseEnv({ OLLAMA_KEEP_ALIVE: "1h30m" }).OLLAMA_KEEP_ALIVE).toBe("1h30m");
    expect(parseEnv({ OLLAMA_KEEP_ALIVE: "600" }).OLLAMA_KEEP_ALIVE).toBe(600);
    expect(parseEnv({ OLLAMA_KEEP_ALIVE: "-1" }).OLLAMA_KEEP_ALIVE).toBe(-1);
    expect(() => parseEnv({ OLLAMA_KEEP_ALIVE: "half an hour" })).toThrow(/OLLAMA_KEEP_ALIVE \("half an hour"\)/);
    expect(() => parseEnv({ OLLAMA_BACKGROUND_TIMEOUT_MS: "10" })).toThrow(/OLLAMA_BACKGROUND_TIMEOUT_MS/);
  });

  it("treats empty values as unset", () => {
    expect(parseEnv({ OLLAMA_MODEL: "" }).OLLAMA_MODEL).toBe("qwen2.5:7b");
  });

  it("offers the development sign-in only outside production unless enabled explicitly", () => {
    const secret = "x".repeat(32);
    expect(devLoginEnabled(parseEnv({ NODE_ENV: "development" }))).toBe(true);
    expect(devLoginEnabled(parseEnv({ NODE_ENV: "production", AUTH_SECRET: secret }))).toBe(false);
    expect(devLoginEnabled(parseEnv({ NODE_ENV: "production", AUTH_SECRET: secret, AUTH_DEV_LOGIN: "true" }))).toBe(true);
  });
});
