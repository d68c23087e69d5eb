import { describe, expect, it } from "vitest";
import { isLoopback, listenPlan } from "./listen-plan.mjs";

describe("where npm start listens, and whether it offers the development sign-in", () => {
  it("listens on loopback by default, says so, and offers the development sign-in there without Google", () => {
    const plan = listenPlan({});
    expect(plan).toMatchObject({ host: "127.0.0.1", port: "3000", url: "http://127.0.0.1:3000", local: true, devLogin: "true", warning: null });
    expect(plan.notes.join("\n")).toContain("reachable only from this machine");
    expect(plan.notes.join("\n")).toContain("HOST=0.0.0.0");
    // A copied .env.example leaves AUTH_DEV_LOGIN empty: that is no choice either.
    expect(listenPlan({ AUTH_DEV_LOGIN: "", HOST: "" }).devLogin).toBe("true");
  });

  it("keeps the development sign-in off on a network address unless it is asked for, then warns loudly", () => {
    for (const HOST of ["0.0.0.0", "192.168.1.20", "::", "my-host.local"]) {
      const plan = listenPlan({ HOST });
      expect(plan, HOST).toMatchObject({ host: HOST, local: false, devLogin: "false", warning: null });
      expect(plan.notes.join("\n")).toContain("nobody can sign in");
    }
    const forced = listenPlan({ HOST: "0.0.0.0", AUTH_DEV_LOGIN: "true" });
    expect(forced.devLogin).toBeUndefined();
    expect(forced.warning).toContain("WARNING: AUTH_DEV_LOGIN=true on a server reachable from the network");
    expect(listenPlan({ HOST: "0.0.0.0", AUTH_DEV_LOGIN: "true", AUTH_GOOGLE_ID: "id" }).warning).toContain("WARNING");
  });

  it("leaves the choice alone when Google is configured or AUTH_DEV_LOGIN is set", () => {
    expect(listenPlan({ AUTH_GOOGLE_ID: "id" }).devLogin).toBeUndefined();
    expect(listenPlan({ HOST: "0.0.0.0", AUTH_GOOGLE_ID: "id" })).toMatchObject({ devLogin: undefined, warning: null });
    expect(listenPlan({ AUTH_DEV_LOGIN: "false" }).devLogin).toBeUndefined();
    expect(listenPlan({ AUTH_DEV_LOGIN: "true" }).warning).toBeNull();
  });

  it("knows loopback addresses, and brackets IPv6 in the printed address", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) expect(isLoopback(host), host).toBe(true);
    for (const host of ["0.0.0.0", "::", "10.0.0.1", "localhost.evil.example", "127.0.0.1.nip.io"]) expect(isLoopback(host), host).toBe(false);
    expect(listenPlan({ HOST: "::1", PORT: "8080" }).url).toBe("http://[::1]:8080");
  });
});
