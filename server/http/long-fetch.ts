import { Agent, FormData as UndiciFormData, fetch as undiciFetch } from "undici";

/**
 * A fetch for requests whose answer may take longer than Node's own fetch waits.
 *
 * Node's fetch (undici inside Node) gives up when the response headers, or the next part of the
 * body, take more than 300 s (undici's default `headersTimeout` / `bodyTimeout`), and destroys
 * the socket while the server keeps working. Two calls wait longer than that by design: TRELLIS's
 * blocking `POST /generate_no_preview`, which answers only once the model is made, and Ollama's
 * first token after a cold model load (OLLAMA_FIRST_TOKEN_MS, up to an hour). Their limits are the
 * app's own, so they go through a dispatcher whose timeouts are those limits.
 *
 * The dispatcher is an `Agent` of the `undici` package, used with that package's own `fetch`:
 * Node 20's built-in fetch is an older undici that does not accept it. For the same reason a
 * `FormData` body is rebuilt as the package's FormData (the built-in one would be sent as text).
 */
export interface LongFetchLimits {
  /** the longest wait for the response headers (0 = none) */
  headersTimeoutMs: number;
  /** the longest silence between two parts of the body (0 = none) */
  bodyTimeoutMs: number;
}

const agents = new Map<string, Agent>();

function agentFor({ headersTimeoutMs, bodyTimeoutMs }: LongFetchLimits): Agent {
  const key = `${headersTimeoutMs}/${bodyTimeoutMs}`;
  let agent = agents.get(key);
  if (!agent) agents.set(key, (agent = new Agent({ headersTimeout: headersTimeoutMs, bodyTimeout: bodyTimeoutMs })));
  return agent;
}

function asUndiciForm(form: FormData): UndiciFormData {
  const copy = new UndiciFormData();
  for (const [name, value] of form.entries()) {
    if (typeof value === "string") copy.append(name, value);
    else copy.append(name, value, value.name);
  }
  return copy;
}

/** A `fetch` (same signature as the global one) whose header and body timeouts are `limits`. */
export function longFetch(limits: LongFetchLimits): typeof fetch {
  const dispatcher = agentFor(limits);
  return (input, init) => {
    // A Request object would carry its own method, headers and body: callers here pass a URL.
    if (input instanceof Request) return Promise.reject(new TypeError("longFetch takes a URL, not a Request"));
    const body = init?.body instanceof FormData ? asUndiciForm(init.body) : init?.body;
    return undiciFetch(input, { ...(init as object), body, dispatcher } as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>;
  };
}
