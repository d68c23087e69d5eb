/**
 * Cross-site writes to pages. A page takes GET; anything else sent to one is a Server Action
 * (a `Next-Action` fetch, or a form posted as multipart/urlencoded). Next.js refuses a Server
 * Action whose Origin is another host than the request's by throwing, which answers 500; the
 * proxy refuses it first with 403 (proxy.ts). Same rule as Next.js's, so nothing it would run
 * is refused: the Origin's host must equal X-Forwarded-Host's first value, or else Host. A
 * request without an Origin (not from a browser's cross-site context) is left to Next.js.
 */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function crossOriginPageWrite(method: string, headers: Headers): boolean {
  if (SAFE_METHODS.has(method.toUpperCase())) return false;
  const origin = headers.get("origin");
  if (origin === null) return false;
  // "null": a sandboxed frame, a data: page or a redirect across sites.
  if (origin === "null") return true;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return true;
  }
  const forwarded = headers.get("x-forwarded-host")?.split(",")[0]?.trim();
  const host = forwarded || headers.get("host");
  return !host || originHost !== host;
}
