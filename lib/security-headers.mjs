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
 *
 * blob: is allowed only where the 3D viewer needs it. A .vrm/.glb carries its textures inside
 * (images in bufferViews); three.js's GLTFLoader hands each one to the browser as a blob: URL and
 * reads it with fetch() (ImageBitmapLoader: connect-src) or, where createImageBitmap is missing or
 * unreliable (Safari before 17, Firefox before 98), with an <img> (TextureLoader: img-src), as
 * three-vrm does for a thumbnail. Without blob: in connect-src every textured model is a bare
 * mesh. data: stays out of connect-src: the app refuses models with data: URIs. Speech plays from
 * blob: URLs (media-src).
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
    "connect-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    `form-action ${["'self'", ...formTargets].join(" ")}`,
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * HSTS for responses that went out over https: two years, subdomains included. No `preload`:
 * that asks browsers to hard-code the domain, a promise only its operator can make.
 */
export const STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains";

/**
 * How the app knows a request came over https. `next start` speaks plain http, so https ends at
 * a reverse proxy, which says so in X-Forwarded-Proto; its first value is the client's side
 * (`https, http` when a second proxy forwarded it on). As a regular expression, for next.config's
 * `has` (matched whole) and `forwardedHttps`. A client on plain http that sends the header itself
 * gets HSTS its browser ignores (RFC 6797 §8.1: only honoured over a secure connection), and no
 * page can make a browser send it; a proxy must still set (not pass on) the header.
 */
export const FORWARDED_HTTPS = "\\s*[Hh][Tt][Tt][Pp][Ss]\\s*(?:,.*)?";

/**
 * True when an X-Forwarded-Proto value says the client used https.
 * @param {string | null | undefined} value
 */
export function forwardedHttps(value) {
  return typeof value === "string" && new RegExp(`^${FORWARDED_HTTPS}$`).test(value);
}

/**
 * next.config's header rule sending HSTS on every response (pages, API routes, static files,
 * redirects) to a request that came over https, and on none over plain http.
 */
export function strictTransportSecurityRule() {
  return {
    source: "/:path*",
    has: [{ type: /** @type {const} */ ("header"), key: "x-forwarded-proto", value: FORWARDED_HTTPS }],
    headers: [{ key: "strict-transport-security", value: STRICT_TRANSPORT_SECURITY }],
  };
}

/** A fresh nonce for one page request: 16 random bytes, base64. */
export function newNonce() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}
