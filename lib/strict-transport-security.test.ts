import { matchHas } from "next/dist/shared/lib/router/utils/prepare-destination";
import { describe, expect, it } from "vitest";
import nextConfig from "@/next.config.mjs";
import { forwardedHttps, STRICT_TRANSPORT_SECURITY, strictTransportSecurityRule } from "./security-headers.mjs";

/** The headers next.config gives a request with these headers, matched by Next.js's own `has` matcher. */
async function configuredHeaders(requestHeaders: Record<string, string>) {
  const rules = await nextConfig("phase-production-build").headers!();
  const request = { headers: Object.fromEntries(Object.entries(requestHeaders).map(([k, v]) => [k.toLowerCase(), v])) };
  const out: Record<string, string> = {};
  for (const rule of rules) {
    if (rule.has && !matchHas(request as never, {}, rule.has, rule.missing)) continue;
    for (const { key, value } of rule.headers) out[key.toLowerCase()] = value;
  }
  return out;
}

describe("Strict-Transport-Security", () => {
  it("is two years with subdomains, never preload", () => {
    expect(STRICT_TRANSPORT_SECURITY).toBe("max-age=63072000; includeSubDomains");
    expect(strictTransportSecurityRule().headers).toEqual([{ key: "strict-transport-security", value: "max-age=63072000; includeSubDomains" }]);
  });

  it("reads https from X-Forwarded-Proto's first value only", () => {
    for (const yes of ["https", "HTTPS", " https ", "https, http", "https,http"]) expect(forwardedHttps(yes), yes).toBe(true);
    for (const no of ["http", "http, https", "httpsx", "xhttps", "", null, undefined]) expect(forwardedHttps(no), String(no)).toBe(false);
  });

  it("goes out on every response to a request that came over https, and on none over plain http", async () => {
    expect((await configuredHeaders({ "X-Forwarded-Proto": "https" }))["strict-transport-security"]).toBe(STRICT_TRANSPORT_SECURITY);
    expect((await configuredHeaders({ "X-Forwarded-Proto": "https, http" }))["strict-transport-security"]).toBe(STRICT_TRANSPORT_SECURITY);
    for (const plain of [{}, { "X-Forwarded-Proto": "http" }, { "X-Forwarded-Proto": "http, https" }] as Record<string, string>[]) {
      const headers = await configuredHeaders(plain);
      expect(headers["strict-transport-security"], JSON.stringify(plain)).toBeUndefined();
      // The other hardening stays either way.
      expect(headers["x-frame-options"]).toBe("DENY");
    }
  });
});
