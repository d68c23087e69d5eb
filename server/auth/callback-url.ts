// Where a browser may be sent after signing in. Shared by the sign-in page, the sign-in actions
// and Auth.js's redirect callback, so every way back into the app applies the same rule.
// Pure (no database, no "server-only"): the proxy's Auth.js configuration uses it too.

/** Any origin would do: a value is same-site when it resolves to this one. */
const PROBE_ORIGIN = "http://x.invalid";
/**
 * Browsers drop tabs and newlines from URLs and trim control characters and spaces, so "/\t/evil"
 * becomes "//evil"; no real path of ours contains any of them, so they are refused outright.
 */
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f\u3000\ufeff]/;
/** Percent-decoding is undone at most this often; anything still encoded after that is refused. */
const MAX_DECODES = 3;

function isPlainPath(value: string) {
  return value.startsWith("/") && !value.startsWith("//") && !value.includes("\\") && !CONTROL_OR_SPACE.test(value);
}

/**
 * The path part, percent-decoded until it stops changing: a path that some later step might
 * decode once more ("/%5Cevil.example", "/%2F%2Fevil.example") must be plain even then. The query
 * and fragment are left alone; they can't change where a browser goes.
 */
function fullyDecodedPath(value: string): string | null {
  let path = value.split(/[?#]/, 1)[0]!;
  for (let i = 0; i < MAX_DECODES; i++) {
    let next: string;
    try {
      next = decodeURIComponent(path);
    } catch {
      return null;
    }
    if (next === path) return path;
    path = next;
  }
  return null;
}

/**
 * Whether `value` is a path on this site: it starts with a single "/", has no backslash, control
 * character or whitespace anywhere (decoded or not), and resolves to the same origin as a
 * relative URL. Everything else — "//evil.example", "/\evil.example", "https://…",
 * "javascript:…" — is refused.
 */
export function isSameSitePath(value: unknown): value is string {
  if (typeof value !== "string" || value.length > 2_000 || !isPlainPath(value)) return false;
  const decoded = fullyDecodedPath(value);
  if (decoded === null || !isPlainPath(decoded)) return false;
  try {
    return new URL(value, PROBE_ORIGIN).origin === PROBE_ORIGIN;
  } catch {
    return false;
  }
}

/** `value` when it is a same-site path, the home page otherwise. */
export function safeCallbackPath(value: unknown): string {
  return isSameSitePath(value) ? value : "/";
}

/**
 * Auth.js's `callbacks.redirect`: its own redirects (after Google, after sign-out) go to a
 * same-site path of `baseUrl`, given either as a path or as an absolute URL on that origin.
 */
export function authRedirect({ url, baseUrl }: { url: string; baseUrl: string }): string {
  let path: unknown = url;
  if (!url.startsWith("/")) {
    try {
      const absolute = new URL(url);
      path = absolute.origin === new URL(baseUrl).origin ? `${absolute.pathname}${absolute.search}${absolute.hash}` : null;
    } catch {
      path = null;
    }
  }
  return `${baseUrl}${safeCallbackPath(path)}`;
}
