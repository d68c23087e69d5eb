import type { APIResponse } from "@playwright/test";
import { portraitPng } from "./fixtures/images";
import { CharacterFormPage } from "./pages/characters";
import { devSignedIn, freshBrowser } from "./pages/sign-in";
import { expect, test } from "./support/test";

// Issue 16's smaller items: HSTS behind https, a cross-site Server Action answered 403, and
// "Generate from the portrait" only where there is a portrait.

const HSTS = "max-age=63072000; includeSubDomains";
const hstsOf = (response: APIResponse) => response.headersArray().filter((h) => h.name.toLowerCase() === "strict-transport-security");

// Visitors, and accounts of their own (a browser made here would otherwise start with the shared user's cookie).
test.use({ storageState: { cookies: [], origins: [] } });

test.describe("as a visitor", () => {
  test("HSTS goes out on every response to a request that came over https (the proxy's X-Forwarded-Proto), never over plain http", async ({ request }) => {
    const paths = ["/", "/api/health", "/brand/logo.svg", "/characters/aria.png"];
    for (const path of paths) {
      const secure = await request.get(path, { headers: { "X-Forwarded-Proto": "https" } });
      expect(secure.status(), path).toBe(200);
      expect(hstsOf(secure), path).toEqual([{ name: expect.stringMatching(/^strict-transport-security$/i), value: HSTS }]);
      for (const plain of [{}, { "X-Forwarded-Proto": "http" }] as Record<string, string>[]) {
        const response = await request.get(path, { headers: plain });
        expect(response.status(), path).toBe(200);
        expect(hstsOf(response), `${path} ${JSON.stringify(plain)}`).toEqual([]);
      }
    }
    // The proxy's own answers too: the redirect to sign-in.
    const redirect = await request.get("/settings", { headers: { "X-Forwarded-Proto": "https" }, maxRedirects: 0 });
    expect(redirect.status()).toBeGreaterThanOrEqual(300);
    expect(redirect.status()).toBeLessThan(400);
    expect(hstsOf(redirect).map((h) => h.value)).toEqual([HSTS]);
    expect(hstsOf(await request.get("/settings", { maxRedirects: 0 }))).toEqual([]);
  });

  test("a Server Action from another site is refused with 403 before it runs; from the app it still works", async ({ browser, baseURL, request }) => {
    const { context, page } = await freshBrowser(browser, baseURL!);
    await page.goto("/");
    await expect(page.getByTestId("locale-switcher")).toHaveValue("ko");
    // The language switch is a Server Action: catch the request the page makes.
    const actionRequest = page.waitForRequest((r) => r.method() === "POST" && Boolean(r.headers()["next-action"]));
    await page.getByTestId("locale-switcher").selectOption("en");
    const sent = await actionRequest;
    await expect(page.getByTestId("locale-switcher")).toHaveValue("en");
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    const actionId = sent.headers()["next-action"]!;
    const replay = (origin: string | null, body = '["ko"]') =>
      request.post(new URL(sent.url()).pathname, {
        headers: { "Next-Action": actionId, "Content-Type": sent.headers()["content-type"] ?? "text/plain;charset=UTF-8", Accept: "text/x-component", ...(origin ? { Origin: origin } : {}) },
        data: body,
        maxRedirects: 0,
      });

    // From another site (or an opaque origin): 403, and the action did not run (no cookie set).
    for (const origin of ["https://evil.example", "null", `${new URL(baseURL!).protocol}//${new URL(baseURL!).hostname}:1`]) {
      const refused = await replay(origin);
      expect(refused.status(), origin).toBe(403);
      expect(refused.headers()["set-cookie"] ?? "", origin).not.toContain("af-locale");
    }
    // A form posted from another site (no Next-Action header, as a form without JavaScript sends it).
    const form = await request.post("/signin", { headers: { Origin: "https://evil.example" }, multipart: { email: "x@example.com" }, maxRedirects: 0 });
    expect(form.status()).toBe(403);

    // The same request from the app's own origin runs.
    const same = await replay(new URL(baseURL!).origin);
    expect(same.status()).toBe(200);
    expect(same.headers()["set-cookie"] ?? "").toContain("af-locale=ko");
    await context.close();
  });
});

test('"Generate from the portrait" waits for a portrait, and says so', async ({ browser, baseURL }) => {
  const { context, page } = await devSignedIn(browser, baseURL!, `avatar-portrait-${crypto.randomUUID()}@example.com`);
  const form = new CharacterFormPage(page);
  await form.openNew();
  await form.fill({ name: "초상화 없는 아이", greeting: "안녕!" });
  await form.save();
  const generate = page.getByTestId("avatar-generate");
  await expect(generate).toBeDisabled();
  const hint = page.getByTestId("avatar-needs-portrait");
  await expect(hint).toHaveText("초상화를 먼저 추가해 주세요. 아바타는 초상화로 만들어요.");
  await expect(generate).toHaveAttribute("aria-describedby", "avatar-needs-portrait");
  // Uploading a model does not need one.
  await expect(page.getByTestId("avatar-upload")).toBeEnabled();

  await form.openNew();
  await form.fill({ name: "초상화 있는 아이", greeting: "안녕!" });
  await form.uploadPortrait(await portraitPng());
  await form.save();
  await expect(page.getByTestId("avatar-generate")).toBeEnabled();
  await expect(page.getByTestId("avatar-needs-portrait")).toHaveCount(0);
  await context.close();
});
