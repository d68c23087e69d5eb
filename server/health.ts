import { sql } from "drizzle-orm";
import type { Database } from "@/server/db";
import { probeOllama } from "@/server/llm/ollama";
import { ollamaHosts } from "@/server/llm/servers";
import { probeSovits } from "@/server/tts/sovits";
import { sovitsHosts } from "@/server/tts/servers";

/** "busy": the TTS is synthesising for this app and answers nothing else until it is done (it works). */
export type ServiceStatus = "ok" | "busy" | "degraded" | "down";
export type OverallStatus = Exclude<ServiceStatus, "busy">;
const SERVICES = ["database", "llm", "tts"] as const;
type ServiceName = (typeof SERVICES)[number];

/** One dependency as the server sees it; `problem` (remote text, addresses) stays in the log. */
interface Probe {
  status: ServiceStatus;
  latencyMs: number;
  fake: boolean;
  problem?: string;
  defaultModelInstalled?: boolean;
  /** Each server of a pool, in configured order. */
  servers?: ServiceStatus[];
}

/**
 * One dependency as a caller sees it: visitors get whether it is up, signed-in users also its
 * latency, whether a built-in fake answered, and (the LLM) whether the default model is there.
 * Never an address, a version or a remote error text.
 */
export interface ServiceReport {
  status: ServiceStatus;
  latencyMs?: number;
  fake?: boolean;
  defaultModelInstalled?: boolean;
  /** With several servers (a pool of Ollama or GPT-SoVITS servers): each one's status, in the configured order (no addresses). */
  servers?: ServiceStatus[];
}

export interface HealthReport {
  status: OverallStatus;
  checkedAt: string;
  /** This server: "ok" whenever it answers at all. */
  backend: { status: "ok" };
  services: Record<ServiceName, ServiceReport>;
}

async function timed(run: () => Promise<Omit<Probe, "latencyMs">>): Promise<Probe> {
  const start = performance.now();
  try {
    const result = await run();
    return { ...result, latencyMs: Math.round(performance.now() - start) };
  } catch (error) {
    const problem = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    return { status: "down", fake: false, problem, latencyMs: Math.round(performance.now() - start) };
  }
}

/** The last status logged per dependency, so a polled health check logs changes, not every poll. */
const logged = new Map<ServiceName, ServiceStatus>();

function logChanges(probes: Record<ServiceName, Probe>) {
  for (const name of SERVICES) {
    const { problem } = probes[name];
    // A busy TTS works: it is not a change worth a log line on every synthesis.
    const status = probes[name].status === "busy" ? "ok" : probes[name].status;
    if (logged.get(name) === status) continue;
    if (status !== "ok" || logged.has(name)) console.warn(`[health] ${name} is ${status}${problem ? `: ${problem}` : ""}`);
    logged.set(name, status);
  }
}

/** Checks every dependency concurrently; each check is bounded, so this never hangs. */
async function probeAll(db: Database): Promise<Record<ServiceName, Probe>> {
  const [database, llm, tts] = await Promise.all([
    timed(async () => {
      await Promise.race([
        db.execute(sql`select 1`),
        new Promise((_, reject) => setTimeout(() => reject(new Error("no answer within 3 s")), 3_000)),
      ]);
      return { status: "ok", fake: false };
    }),
    probeLlmPool(),
    probeTtsPool(),
  ]);
  return { database, llm, tts };
}

const RANK: Record<ServiceStatus, number> = { ok: 3, busy: 2, degraded: 1, down: 0 };

/**
 * Every Ollama server of the pool; the LLM is as well as its best server (replies go to the
 * servers that work), and each server's own status is kept for the report.
 */
async function probeLlmPool(): Promise<Probe> {
  const hosts = ollamaHosts();
  const probes = await Promise.all(
    hosts.map((host) =>
      timed(async () => {
        const probe = await probeOllama(host);
        return probe.defaultModelPresent
          ? { status: "ok", fake: probe.fake, defaultModelInstalled: true }
          : {
              status: "degraded",
              fake: probe.fake,
              defaultModelInstalled: false,
              problem: `Ollama ${probe.version} has no ${probe.defaultModel} (the default model)`,
            };
      }),
    ),
  );
  return pooled(hosts, probes);
}

/** Every GPT-SoVITS server of the pool; speech works as well as the best of them (work goes to those that answer). */
async function probeTtsPool(): Promise<Probe> {
  const hosts = sovitsHosts();
  const probes = await Promise.all(
    hosts.map((host) =>
      timed(async () => {
        const probe = await probeSovits(host);
        return { status: probe.busy ? "busy" : "ok", fake: probe.fake };
      }),
    ),
  );
  return pooled(hosts, probes);
}

/** A pool's probes as one: the best server's status, every problem (by server number), and each server's status. */
function pooled(hosts: string[], probes: Probe[]): Probe {
  const best = probes.reduce((a, b) => (RANK[b.status] > RANK[a.status] ? b : a));
  const problems = probes.map((p, i) => (p.problem && hosts.length > 1 ? `server ${i + 1}: ${p.problem}` : p.problem)).filter(Boolean);
  return {
    ...best,
    ...(problems.length ? { problem: problems.join("; ") } : {}),
    ...(hosts.length > 1 ? { servers: probes.map((p) => p.status) } : {}),
  };
}

/** Down without the database (nothing works); degraded while another dependency is not ok (busy is working). */
function overall(services: Record<ServiceName, ServiceReport>): OverallStatus {
  if (services.database.status === "down") return "down";
  return SERVICES.every((name) => services[name].status === "ok" || services[name].status === "busy") ? "ok" : "degraded";
}

/**
 * The health of the app's dependencies for one caller (see ServiceReport for who sees what).
 * A server that answers without the default model is "degraded" for signed-in users and up for
 * visitors, who are not told which models exist.
 */
export async function checkHealth(db: Database, viewer: { signedIn: boolean }): Promise<HealthReport> {
  const probes = await probeAll(db);
  logChanges(probes);
  const services = Object.fromEntries(
    SERVICES.map((name) => {
      const { status, latencyMs, fake, defaultModelInstalled, servers } = probes[name];
      const report: ServiceReport = viewer.signedIn
        ? { status, latencyMs, fake, ...(defaultModelInstalled === undefined ? {} : { defaultModelInstalled }), ...(servers ? { servers } : {}) }
        : { status: status === "down" ? "down" : "ok" };
      return [name, report];
    }),
  ) as Record<ServiceName, ServiceReport>;
  return {
    status: overall(services),
    checkedAt: new Date().toISOString(),
    backend: { status: "ok" },
    services,
  };
}
