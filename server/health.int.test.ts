import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { FAKE_OLLAMA_VERSION, startFakeOllama, type FakeOllama } from "@/e2e/fakes/ollama";
import { startFakeSovits, type FakeSovits } from "@/e2e/fakes/sovits";
import { testDatabase } from "@/e2e/support/test-db";
import { checkHealth } from "./health";

const { db, sql } = testDatabase();
let ollama: FakeOllama;
let sovits: FakeSovits;

beforeAll(async () => {
  // An Ollama without the default model (qwen2.5:7b): the LLM answers, but chats would fail.
  ollama = await startFakeOllama({ port: 0, models: [{ name: "llama3.2:1b" }] });
  sovits = await startFakeSovits({ port: 0 });
  Object.assign(process.env, { OLLAMA_HOST: ollama.url, SOVITS_URL: sovits.url });
});
afterAll(async () => {
  await Promise.all([ollama.close(), sovits.close()]);
  await sql.end();
});

describe("health", () => {
  it("tells signed-in users that the default model is missing, without naming models, versions or addresses", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const report = await checkHealth(db, { signedIn: true });
    expect(report.status).toBe("degraded");
    expect(report.services.llm).toEqual({ status: "degraded", latencyMs: expect.any(Number), fake: true, defaultModelInstalled: false });
    expect(report.services.tts).toEqual({ status: "ok", latencyMs: expect.any(Number), fake: true });
    const text = JSON.stringify(report);
    for (const internal of [ollama.url, sovits.url, "127.0.0.1", "qwen2.5", "llama3.2", FAKE_OLLAMA_VERSION]) expect(text).not.toContain(internal);

    // The server's log says what is wrong, once per change rather than on every poll.
    await checkHealth(db, { signedIn: false });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.join(" ")).toMatch(/llm is degraded: Ollama 0\.33\.0-fake has no qwen2\.5:7b/);
    warn.mockRestore();
  });

  it("tells visitors only that each service is up", async () => {
    expect(await checkHealth(db, { signedIn: false })).toEqual({
      status: "ok",
      checkedAt: expect.any(String),
      backend: { status: "ok" },
      services: { database: { status: "ok" }, llm: { status: "ok" }, tts: { status: "ok" } },
    });
  });
});
