import { sql } from "drizzle-orm";
import { env } from "@/lib/env.mjs";
import type { Database } from "@/server/db";
import { probeOllama } from "@/server/llm/ollama";
import { probeSovits } from "@/server/tts/sovits";

export type ServiceStatus = "ok" | "degraded" | "down";

export interface ServiceHealth {
  status: ServiceStatus;
  latencyMs: number;
  detail?: string;
  fake?: boolean;
}

async function timed(run: () => Promise<Omit<ServiceHealth, "latencyMs">>): Promise<ServiceHealth> {
  const start = performance.now();
  try {
    const result = await run();
    return { ...result, latencyMs: Math.round(performance.now() - start) };
  } catch (error) {
    const detail = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    return { status: "down", detail, latencyMs: Math.round(performance.now() - start) };
  }
}

/** Checks every dependency concurrently; each check is bounded, so this never hangs. */
export async function checkHealth(db: Database) {
  const config = env();
  const [database, llm, tts] = await Promise.all([
    timed(async () => {
      await Promise.race([
        db.execute(sql`select 1`),
        new Promise((_, reject) => setTimeout(() => reject(new Error("no answer within 3 s")), 3_000)),
      ]);
      return { status: "ok" };
    }),
    timed(async () => {
      const probe = await probeOllama();
      return probe.defaultModelPresent
        ? { status: "ok", detail: `Ollama ${probe.version}, ${probe.defaultModel}`, fake: probe.fake }
        : {
            status: "degraded",
            detail: `Ollama ${probe.version}; default model ${probe.defaultModel} is not installed`,
            fake: probe.fake,
          };
    }),
    timed(async () => {
      const probe = await probeSovits();
      return { status: "ok", detail: probe.title, fake: probe.fake };
    }),
  ]);
  const services = { database, llm, tts };
  const status: ServiceStatus =
    database.status === "down" ? "down" : Object.values(services).every((s) => s.status === "ok") ? "ok" : "degraded";
  return {
    status,
    checkedAt: new Date().toISOString(),
    backend: { status: "ok" as const, uptimeSeconds: Math.round(process.uptime()) },
    services,
    endpoints: { ollama: config.OLLAMA_HOST, sovits: config.SOVITS_URL },
  };
}
export type HealthReport = Awaited<ReturnType<typeof checkHealth>>;
