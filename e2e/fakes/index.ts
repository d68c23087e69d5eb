// All protocol fakes in one place, for test setup and for running the app locally without
// Ollama, GPT-SoVITS or Google:
//
//   npx tsx e2e/fakes/index.ts [--ollama-port 11434] [--sovits-port 9880] [--google-port 8085] [--delay 30]
import { parseArgs } from "node:util";
import { startFakeGoogle, type FakeGoogle } from "./google";
import { startFakeOllama, type FakeOllama } from "./ollama";
import { closeOnSignal, isDirectRun, numberArg } from "./server-kit";
import { startFakeSovits, type FakeSovits } from "./sovits";

export * from "./google";
export * from "./ollama";
export * from "./sovits";

export interface AllFakesOptions {
  /** 0 or omitted: a random free port. */
  ollamaPort?: number;
  sovitsPort?: number;
  googlePort?: number;
  tokenDelayMs?: number;
}

export interface AllFakes {
  ollama: FakeOllama;
  sovits: FakeSovits;
  google: FakeGoogle;
  close(): Promise<void>;
}

export async function startAllFakes(opts: AllFakesOptions = {}): Promise<AllFakes> {
  const [ollama, sovits, google] = await Promise.all([
    startFakeOllama({ port: opts.ollamaPort, tokenDelayMs: opts.tokenDelayMs }),
    startFakeSovits({ port: opts.sovitsPort }),
    startFakeGoogle({ port: opts.googlePort }),
  ]);
  return {
    ollama,
    sovits,
    google,
    close: async () => {
      await Promise.all([ollama.close(), sovits.close(), google.close()]);
    },
  };
}

if (isDirectRun(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      "ollama-port": { type: "string" },
      "sovits-port": { type: "string" },
      "google-port": { type: "string" },
      delay: { type: "string" },
    },
  });
  const fakes = await startAllFakes({
    ollamaPort: numberArg(values["ollama-port"], 11434, "ollama-port"),
    sovitsPort: numberArg(values["sovits-port"], 9880, "sovits-port"),
    googlePort: numberArg(values["google-port"], 8085, "google-port"),
    tokenDelayMs: numberArg(values.delay, 30, "delay"),
  });
  console.log(`fake ollama listening on ${fakes.ollama.url}`);
  console.log(`fake gpt-sovits listening on ${fakes.sovits.url}`);
  console.log(`fake google issuer listening on ${fakes.google.issuer}`);
  closeOnSignal(fakes.close);
}
