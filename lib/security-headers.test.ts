import { describe, expect, it } from "vitest";
import { contentSecurityPolicy, newNonce } from "./security-headers.mjs";

const directive = (policy: string, name: string) => policy.split("; ").find((d) => d.startsWith(`${name} `));

describe("contentSecurityPolicy", () => {
  it("lets pages run only the scripts Next.js gave the request's nonce, and what they load", () => {
    const policy = contentSecurityPolicy({ nonce: "abc123==" });
    expect(directive(policy, "script-src")).toBe("script-src 'self' 'nonce-abc123==' 'strict-dynamic'");
    expect(policy).not.toContain("unsafe-eval");
    expect(directive(policy, "style-src")).toBe("style-src 'self' 'unsafe-inline'");
    expect(directive(policy, "frame-ancestors")).toBe("frame-ancestors 'none'");
  });

  it("allows eval only for next dev, and forms only to this site and the sign-in issuer", () => {
    expect(directive(contentSecurityPolicy({ nonce: "n", dev: true }), "script-src")).toBe("script-src 'self' 'nonce-n' 'strict-dynamic' 'unsafe-eval'");
    expect(directive(contentSecurityPolicy({ formTargets: ["https://accounts.google.com"] }), "form-action")).toBe(
      "form-action 'self' https://accounts.google.com",
    );
    expect(directive(contentSecurityPolicy(), "script-src")).toBe("script-src 'self'");
  });

  it("draws a new unguessable nonce every time", () => {
    const nonces = new Set(Array.from({ length: 100 }, newNonce));
    expect(nonces.size).toBe(100);
    for (const nonce of nonces) expect(Buffer.from(nonce, "base64")).toHaveLength(16);
  });
});
