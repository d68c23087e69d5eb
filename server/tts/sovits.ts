import { env } from "@/lib/env.mjs";

/**
 * GPT-SoVITS api_v2 has no health route: FastAPI's /openapi.json answers once the models are
 * loaded, so that is the probe (never /control, which restarts or exits the server).
 */
export async function probeSovits() {
  const { SOVITS_URL, OLLAMA_TIMEOUT_MS } = env();
  const response = await fetch(new URL("/openapi.json", SOVITS_URL), {
    signal: AbortSignal.timeout(Math.min(OLLAMA_TIMEOUT_MS, 5_000)),
  });
  if (!response.ok) throw new Error(`GPT-SoVITS answered ${response.status}`);
  const spec = (await response.json()) as { info?: { title?: string; version?: string } };
  const title = spec.info?.title ?? "";
  return { title, fake: /fake/i.test(title) };
}
