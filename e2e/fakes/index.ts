// All protocol fakes in one place, for test setup and for running the app locally without
// Ollama, GPT-SoVITS or Google:
//
//   npx tsx e2e/fakes/index.ts [--ollama-port 11434] [--sovits-port 9880] [--google-port 8085] [--hunyuan3d-port 8081] [--delay 30]
//     [--parallel 1] [--load-delay 150] [--latency 50] [--per-audio-second 20]
//
// The Ollama and GPT-SoVITS fakes queue, load and stall like the real servers by default (see the
// top of ollama.ts and sovits.ts, and README.md here).
import { parseArgs } from "node:util";
import { startFakeGoogle, type FakeGoogle } from "./google";
import { startFakeHunyuan3d, type FakeHunyuan3d, type FakeHunyuan3dOptions } from "./hunyuan3d";
import { DEFAULT_LOAD_DELAY_MS, DEFAULT_NUM_PARALLEL, startFakeOllama, type FakeOllama, type FakeOllamaOptions } from "./ollama";
import { closeOnSignal, isDirectRun, numberArg } from "./server-kit";
import { DEFAULT_LATENCY_MS, DEFAULT_PER_AUDIO_SECOND_MS, startFakeSovits, type FakeSovits, type FakeSovitsOptions } from "./sovits";

export * from "./google";
export * from "./ollama";
export * from "./sovits";
export * from "./hunyuan3d";
export * from "./trellis";

export interface AllFakesOptions {
  /** 0 or omitted: a random free port. */
  ollamaPort?: number;
  sovitsPort?: number;
  googlePort?: number;
  tokenDelayMs?: number;
  /** Further Ollama knobs (numParallel, maxQueue, loadDelayMs, defaultNumCtx, models). */
  ollama?: Omit<FakeOllamaOptions, "port" | "tokenDelayMs">;
  /** GPT-SoVITS knobs (latencyMs, perAudioSecondMs, version, refAudioPaths). */
  sovits?: Omit<FakeSovitsOptions, "port">;
  /** The image-to-3D generator (Hunyuan3D-2's api_server): how long a job takes. */
  hunyuan3d?: Omit<FakeHunyuan3dOptions, "port">;
  hunyuan3dPort?: number;
}

export interface AllFakes {
  ollama: FakeOllama;
  sovits: FakeSovits;
  google: FakeGoogle;
  hunyuan3d: FakeHunyuan3d;
  close(): Promise<void>;
}

export async function startAllFakes(opts: AllFakesOptions = {}): Promise<AllFakes> {
  const [ollama, sovits, google, hunyuan3d] = await Promise.all([
    startFakeOllama({ ...opts.ollama, port: opts.ollamaPort, tokenDelayMs: opts.tokenDelayMs }),
    startFakeSovits({ ...opts.sovits, port: opts.sovitsPort }),
    startFakeGoogle({ port: opts.googlePort }),
    startFakeHunyuan3d({ ...opts.hunyuan3d, port: opts.hunyuan3dPort }),
  ]);
  return {
    ollama,
    sovits,
    google,
    hunyuan3d,
    close: async () => {
      await Promise.all([ollama.close(), sovits.close(), google.close(), hunyuan3d.close()]);
    },
  };
}

if (isDirectRun(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      "ollama-port": { type: "string" },
      "sovits-port": { type: "string" },
      "google-port": { type: "string" },
      "hunyuan3d-port": { type: "string" },
      delay: { type: "string" },
      parallel: { type: "string" },
      "load-delay": { type: "string" },
      latency: { type: "string" },
      "per-audio-second": { type: "string" },
    },
  });
  const fakes = await startAllFakes({
    ollamaPort: numberArg(values["ollama-port"], 11434, "ollama-port"),
    sovitsPort: numberArg(values["sovits-port"], 9880, "sovits-port"),
    googlePort: numberArg(values["google-port"], 8085, "google-port"),
    hunyuan3dPort: numberArg(values["hunyuan3d-port"], 8081, "hunyuan3d-port"),
    tokenDelayMs: numberArg(values.delay, 30, "delay"),
    ollama: {
      numParallel: numberArg(values.parallel, DEFAULT_NUM_PARALLEL, "parallel"),
      loadDelayMs: numberArg(values["load-delay"], DEFAULT_LOAD_DELAY_MS, "load-delay"),
    },
    sovits: {
      latencyMs: numberArg(values.latency, DEFAULT_LATENCY_MS, "latency"),
      perAudioSecondMs: numberArg(values["per-audio-second"], DEFAULT_PER_AUDIO_SECOND_MS, "per-audio-second"),
    },
  });
  console.log(`fake ollama listening on ${fakes.ollama.url}`);
  console.log(`fake gpt-sovits listening on ${fakes.sovits.url}`);
  console.log(`fake google issuer listening on ${fakes.google.issuer}`);
  console.log(`fake hunyuan3d listening on ${fakes.hunyuan3d.url}`);
  closeOnSignal(fakes.close);
}
