// @ts-check
// The browser hardening of every response. Plain JavaScript so that next.config.mjs (API routes,
// static files) and proxy.ts (pages, with a per-request nonce) share one definition.

/**
 * Headers every response carries. Keys are lower case: Next.js applies next.config's headers
 * first and lets the proxy's headers of the same name replace them, so a page's nonce policy
 * replaces the default one instead of being sent beside it.
 */
export const SECURITY_HEADERS = {
  "x-frame-options": "DENY",
  "referrer-policy": "strict-origin-when-cross-origin",
  // Speech plays on its own (autoplay); nothing in the app needs the other devices.
  "permissions-policy": [
    "accelerometer=()",
    "autoplay=(self)",
    "camera=()",
    "display-capture=()",
    "geolocation=()",
    "gyroscope=()",
    "hid=()",
    "magnetometer=()",
    "microphone=()",
    "midi=()",
    "payment=()",
    "serial=()",
    "usb=()",
  ].join(", "),
  "x-content-type-options": "nosniff",
  "cross-origin-opener-policy": "same-origin",
};

/**
 * The Content-Security-Policy. With a nonce (pages, from the proxy) scripts run only when
 * Next.js gave them that nonce, or when such a script loaded them ('strict-dynamic'); without
 * one (API responses, static files) only same-origin scripts. 'unsafe-eval' only for `next dev`,
 * whose React rebuilds server error stacks with eval. Styles may be inline (React style
 * attributes); no nonce there, since a nonce would switch 'unsafe-inline' off.
 * @param {{ nonce?: string, dev?: boolean, formTargets?: string[] }} [options]
 *   formTargets: origins a form may lead to besides this one (the OpenID issuer of sign-in).
 */
export function contentSecurityPolicy({ nonce, dev = false, formTargets = [] } = {}) {
  const scripts = nonce ? ["'self'", `'nonce-${nonce}'`, "'strict-dynamic'"] : ["'self'"];
  if (dev) scripts.push("'unsafe-eval'");
  return [
    "default-src 'self'",
    `script-src ${scripts.join(" ")}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    `form-action ${["'self'", ...formTargets].join(" ")}`,
    "frame-ancestors 'none'",
  ].join("; ");
}

/** A fresh nonce for one page request: 16 random bytes, base64. */
export function newNonce() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}
