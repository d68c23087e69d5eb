import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startFakeSovits, type FakeSovits } from "@/e2e/fakes/sovits";
import { DomainError } from "@/server/errors";
import { synthesize, ttsRequest } from "./sovits";

let sovits: FakeSovits;
beforeAll(async () => {
  sovits = await startFakeSovits({ port: 0, latencyMs: 5 });
  process.env.SOVITS_URL = sovits.url;
});
afterEach(() => {
  sovits.reset();
  vi.restoreAllMocks();
});
afterAll(() => sovits.close());

const request = ttsRequest(
  { refAudioPath: "presets/calm_male_ko.wav", promptText: "안녕하세요.", promptLang: "ko", auxRefAudioPaths: [], params: {} },
  "안녕하세요, 반가워요.",
  "wav",
);

async function failure(run: () => Promise<unknown>) {
  const error = await run().then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe("synthesize: GPT-SoVITS failures in the app's words", () => {
  it("keeps the server's address and its error text (paths on its host) out of the error, and logs them", async () => {
    const log = vi.spyOn(console, "warn").mockImplementation(() => {});
    sovits.setBehaviour({ fault: "tts-failed", faultCount: 1 });
    const failed = await failure(() => synthesize(request, { owner: "test" }));
    expect(failed).toMatchObject({ code: "tts_failed", message: "The voice server could not speak this.", params: {} });
    sovits.setBehaviour({ fault: "http500", faultCount: 1 });
    expect(await failure(() => synthesize(request, { owner: "test" }))).toMatchObject({ code: "tts_failed", params: {} });

    const logged = log.mock.calls.map((call) => call.join(" ")).join("\n");
    expect(logged).toContain("fake inference failure");
    expect(logged).toContain(sovits.url);
    expect(logged).toContain("presets/calm_male_ko.wav");
  });
});
