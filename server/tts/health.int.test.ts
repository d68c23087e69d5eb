import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { startFakeOllama, type FakeOllama } from "@/e2e/fakes/ollama";
import { startFakeSovits, type FakeSovits } from "@/e2e/fakes/sovits";
import { testDatabase } from "@/e2e/support/test-db";
import { voices } from "@/server/db/schema";
import { checkHealth } from "@/server/health";
import { ttsRequest } from "./sovits";
import { speak } from "./speech";

// GPT-SoVITS answers nothing while it synthesises, its liveness probe included (the fake too).

const { db, sql } = testDatabase();
let ollama: FakeOllama;
let sovits: FakeSovits;

beforeAll(async () => {
  [ollama, sovits] = await Promise.all([startFakeOllama({ port: 0 }), startFakeSovits({ port: 0, latencyMs: 5 })]);
  // The probes give up after this (at most 5 s otherwise).
  Object.assign(process.env, { OLLAMA_HOST: ollama.url, SOVITS_URL: sovits.url, OLLAMA_TIMEOUT_MS: "300" });
});
beforeEach(() => sovits.reset());
afterAll(async () => {
  await Promise.all([ollama.close(), sovits.close()]);
  await sql.end();
});

async function until(condition: () => boolean) {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

async function presetVoice() {
  const [voice] = await db.select().from(voices).where(eq(voices.id, "preset-voice-calm"));
  return voice!;
}

describe("the voice server's health while it speaks", () => {
  it("is busy, not down, while a synthesis of this app holds it; the app as a whole stays ok", async () => {
    expect((await checkHealth(db, { signedIn: true })).services.tts).toMatchObject({ status: "ok", fake: true });
    sovits.setBehaviour({ latencyMs: 1500 });
    const speaking = speak(db, await presetVoice(), `오래 걸리는 문장이에요 ${crypto.randomUUID().slice(0, 8)}.`, "wav", { owner: "someone" });
    await until(() => sovits.stats.syntheses === 1);

    const report = await checkHealth(db, { signedIn: true });
    expect(report.services.tts).toEqual({ status: "busy", latencyMs: expect.any(Number), fake: true });
    expect(report.status).toBe("ok");
    // Visitors are told up or down only.
    expect((await checkHealth(db, { signedIn: false })).services.tts).toEqual({ status: "ok" });

    await speaking;
    expect((await checkHealth(db, { signedIn: true })).services.tts.status).toBe("ok");
  });

  it("is down when it does not answer and this app has nothing in flight there", async () => {
    const log = vi.spyOn(console, "warn").mockImplementation(() => {});
    sovits.setBehaviour({ latencyMs: 1500 });
    // A synthesis of someone else (another app on the same server) holds it.
    const foreign = fetch(new URL("/tts", sovits.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(ttsRequest(await presetVoice(), "다른 앱의 문장이에요.", "wav")),
    });
    await until(() => sovits.stats.syntheses > 0);

    const report = await checkHealth(db, { signedIn: true });
    expect(report.services.tts.status).toBe("down");
    expect(report.status).toBe("degraded");
    expect(log.mock.calls.map((call) => call.join(" ")).join("\n")).toMatch(/tts is down/);
    await (await foreign).arrayBuffer();
    log.mockRestore();
  });
});
