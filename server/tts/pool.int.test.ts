import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeSovits, type FakeSovits } from "@/e2e/fakes/sovits";
import { freePort } from "@/e2e/support/ports";
import { testDatabase } from "@/e2e/support/test-db";
import { checkHealth } from "@/server/health";
import { sovitsState } from "./servers";
import type { SovitsVoice } from "./sovits";
import { speak } from "./speech";

// A pool of GPT-SoVITS servers (SOVITS_URL with several, comma-separated): two that work, each
// speaking one request at a time, listed after one that is down.

const { db, sql } = testDatabase();
let first: FakeSovits;
let second: FakeSovits;
let revived: FakeSovits | null = null;
let gonePort: number;
let gone: string;

const voice: SovitsVoice = { refAudioPath: "presets/pool.wav", promptText: "안녕하세요.", promptLang: "ko", auxRefAudioPaths: [], params: {} };
const unique = () => crypto.randomUUID().slice(0, 8);
const syntheses = (fake: FakeSovits) => fake.requests.filter((r) => r.path === "/tts").length;

beforeAll(async () => {
  first = await startFakeSovits({ port: 0, latencyMs: 120 });
  second = await startFakeSovits({ port: 0, latencyMs: 120 });
  gonePort = await freePort();
  gone = `http://127.0.0.1:${gonePort}`;
  Object.assign(process.env, { SOVITS_URL: `${gone},${first.url},${second.url}`, SOVITS_CONCURRENCY: "1", OLLAMA_TIMEOUT_MS: "1000" });
});
afterAll(async () => {
  await Promise.all([first.close(), second.close(), revived?.close()]);
  await sql.end();
});

describe("a pool of GPT-SoVITS servers", () => {
  it("moves a sentence that met the down server to one that works, and skips that server from then on", async () => {
    const spoken = await speak(db, voice, `풀에서 읽는 첫 문장이에요 ${unique()}.`, "wav", { owner: "ann" });
    expect(spoken.cached).toBe(false);
    expect(syntheses(first) + syntheses(second)).toBe(1);
    expect(sovitsState(gone).failingSince).not.toBeNull();
  });

  it("spreads sentences over the servers that work: two at once, one on each", async () => {
    const before = [syntheses(first), syntheses(second)];
    await Promise.all([
      speak(db, voice, `앤의 문장이에요 ${unique()}.`, "wav", { owner: "ann" }),
      speak(db, voice, `밥의 문장이에요 ${unique()}.`, "wav", { owner: "bob" }),
    ]);
    expect([syntheses(first) - before[0]!, syntheses(second) - before[1]!]).toEqual([1, 1]);
  });

  it("reports each server to signed-in users (no addresses), and only up or down to visitors", async () => {
    const report = await checkHealth(db, { signedIn: true });
    expect(report.services.tts).toMatchObject({ status: "ok", servers: ["down", "ok", "ok"] });
    expect(JSON.stringify(report)).not.toContain("127.0.0.1");
    const visitor = await checkHealth(db, { signedIn: false });
    expect(visitor.services.tts).toEqual({ status: "ok" });
  });

  it("takes a server back once its probe finds it answering", async () => {
    revived = await startFakeSovits({ port: gonePort, latencyMs: 120 });
    const report = await checkHealth(db, { signedIn: true });
    expect(report.services.tts.servers).toEqual(["ok", "ok", "ok"]);
    expect(sovitsState(gone).failingSince).toBeNull();
    // Three at once: one on each server, the revived one included.
    await Promise.all(["ann", "bob", "cho"].map((owner) => speak(db, voice, `${owner}의 새 문장이에요 ${unique()}.`, "wav", { owner })));
    expect(syntheses(revived)).toBe(1);
  });
});
