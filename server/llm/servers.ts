import "server-only";
import { env } from "@/lib/env.mjs";

/**
 * The Ollama servers replies run on: `OLLAMA_HOST` names one or several (comma-separated), each
 * writing OLLAMA_NUM_PARALLEL replies at once. A server that fails is skipped until a probe finds
 * it answering again; a model goes only to servers that have it, once their model lists are known.
 */
export interface LlmServer {
  url: string;
  capacity: number;
  /** Whether the server has `model` (true while its list is not known yet). */
  serves(model: string): boolean;
  /** Its models, null while not known. */
  models(): string[] | null;
  /** False while the server is marked failing. */
  available(): boolean;
}

interface ServerState {
  models: Set<string> | null;
  failingSince: number | null;
}

const holder = globalThis as unknown as { afLlmServers?: Map<string, ServerState> };
const states: Map<string, ServerState> = (holder.afLlmServers ??= new Map());

/** The configured servers' URLs, in order. */
export function ollamaHosts(): string[] {
  return env()
    .OLLAMA_HOST.split(",")
    .map((url) => url.trim())
    .filter(Boolean);
}

function stateOf(url: string): ServerState {
  let state = states.get(url);
  if (!state) states.set(url, (state = { models: null, failingSince: null }));
  return state;
}

export function llmServers(): LlmServer[] {
  const capacity = env().OLLAMA_NUM_PARALLEL;
  const hosts = ollamaHosts();
  const servers = hosts.map((url) => {
    const state = stateOf(url);
    return {
      url,
      capacity,
      serves: (model: string) => state.models === null || state.models.has(model),
      models: () => (state.models === null ? null : [...state.models]),
      available: () => state.failingSince === null,
    };
  });
  // With every server failing, try them all rather than wait for nothing: the reply then reports
  // the real error.
  return servers.some((s) => s.available()) ? servers : servers.map((s) => ({ ...s, available: () => true }));
}

/** What a probe or a model list learned about a server. */
export function recordModels(url: string, models: string[]) {
  const state = stateOf(url);
  state.models = new Set(models);
  state.failingSince = null;
}

/** A server that could not be reached: skipped until a probe finds it again. */
export function markFailing(url: string) {
  const state = stateOf(url);
  state.failingSince ??= Date.now();
}

export function markHealthy(url: string) {
  stateOf(url).failingSince = null;
}

/** Per-server state for health: reachable or not, and its models when known. */
export function serverStates() {
  return ollamaHosts().map((url, index) => {
    const state = stateOf(url);
    return { index, failing: state.failingSince !== null, modelsKnown: state.models !== null };
  });
}
