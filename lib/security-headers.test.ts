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

  it("lets the 3D viewer read the textures embedded in a model (blob: URLs), and nothing broader", () => {
    for (const policy of [contentSecurityPolicy({ nonce: "n" }), contentSecurityPolicy()]) {
      // GLTFLoader's ImageBitmapLoader fetches blob: URLs; its TextureLoader (older browsers) and
      // three-vrm's thumbnail load them into an <img>.
      expect(directive(policy, "connect-src")).toBe("connect-src 'self' blob:");
      expect(directive(policy, "img-src")).toBe("img-src 'self' data: blob:");
      expect(directive(policy, "media-src")).toBe("media-src 'self' blob:");
      expect(directive(policy, "default-src")).toBe("default-src 'self'");
      // No worker, no wildcard, no other scheme anywhere.
      expect(policy).not.toMatch(/\*|https?:|filesystem:|worker-src|'unsafe-eval'|'wasm-unsafe-eval'/);
      expect(policy.match(/blob:/g)).toHaveLength(3);
    }
  });

  it("draws a new unguessable nonce every time", () => {
    const nonces = new Set(Array.from({ length: 100 }, newNonce));
    expect(nonces.size).toBe(100);
    for (const nonce of nonces) expect(Buffer.from(nonce, "base64")).toHaveLength(16);
  });
});
