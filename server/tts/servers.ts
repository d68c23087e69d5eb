import "server-only";
import { env } from "@/lib/env.mjs";
import type { SynthesisServer } from "./queue";

/**
 * The GPT-SoVITS servers speech runs on: `SOVITS_URL` names one or several (comma-separated),
 * each sent SOVITS_CONCURRENCY requests at once. Any voice goes to any server (a voice is a
 * reference file every server has under the same path). A server that can't be reached is
 * skipped until a probe finds it answering again.
 */

interface ServerState {
  failingSince: number | null;
  /** Whether its last answered probe came from the built-in fake. */
  fake: boolean;
}

const holder = globalThis as unknown as { afSovitsServers?: Map<string, ServerState> };
const states: Map<string, ServerState> = (holder.afSovitsServers ??= new Map());

/** The configured servers' URLs, in order. */
export function sovitsHosts(): string[] {
  return env()
    .SOVITS_URL.split(",")
    .map((url) => url.trim())
    .filter(Boolean);
}

export function sovitsState(url: string): ServerState {
  let state = states.get(url);
  if (!state) states.set(url, (state = { failingSince: null, fake: false }));
  return state;
}

/** The pool as the synthesis queue sees it. With every server failing, all are tried: the caller then gets the real error. */
export function synthesisServers(): SynthesisServer[] {
  const capacity = env().SOVITS_CONCURRENCY;
  const servers = sovitsHosts().map((url) => ({ url, capacity, available: sovitsState(url).failingSince === null }));
  return servers.some((s) => s.available) ? servers : servers.map((s) => ({ ...s, available: true }));
}

/** Whether the pool has a server other than those in `tried` that work may go to. */
export function anotherServer(tried: ReadonlySet<string>): boolean {
  return synthesisServers().some((s) => s.available && !tried.has(s.url));
}

export function markFailing(url: string) {
  sovitsState(url).failingSince ??= Date.now();
}

export function markHealthy(url: string) {
  sovitsState(url).failingSince = null;
}
