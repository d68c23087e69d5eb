import type { APIResponse, Page } from "@playwright/test";
import { CharacterPage } from "./pages/chat-room";
import { expect, test } from "./support/test";

const audioResponse = (url: string) => /\/api\/audio\/[0-9a-f]{64}$/.test(url);

/** What every response carries, whatever it is. */
function expectHardened(response: APIResponse) {
  const headers = response.headers();
  expect(headers["x-frame-options"], response.url()).toBe("DENY");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
  expect(headers["cross-origin-opener-policy"]).toBe("same-origin");
  const permissions = headers["permissions-policy"] ?? "";
  for (const feature of ["camera=()", "microphone=()", "geolocation=()", "payment=()", "autoplay=(self)"]) expect(permissions).toContain(feature);
  // One policy, not a default and a page policy side by side.
  const policies = response.headersArray().filter((h) => h.name.toLowerCase() === "content-security-policy");
  expect(policies).toHaveLength(1);
  const csp = policies[0]!.value;
  const directives = csp.split(/;\s*/);
  // blob: for the textures inside 3D models (three.js reads them through blob: URLs) and speech.
  for (const directive of ["default-src 'self'", "object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'", "connect-src 'self' blob:", "img-src 'self' data: blob:", "media-src 'self' blob:"]) {
    expect(directives, csp).toContain(directive);
  }
  expect(csp).not.toContain("unsafe-eval");
  return csp;
}

const nonceOf = (csp: string) => csp.match(/script-src 'self' 'nonce-([\w+/=]+)' 'strict-dynamic'/)?.[1];

/**
 * Collects what the browser refused on the app's own pages: `securitypolicyviolation` events
 * and console errors about a policy (CSP, Permissions-Policy).
 */
async function watchViolations(page: Page) {
  const found: string[] = [];
  const origin = new URL(process.env.E2E_BASE_URL!).origin;
  await page.exposeBinding("__reportViolation", ({ frame }, text: string) => {
    if (new URL(frame.url()).origin === origin) found.push(`${frame.url()}: ${text}`);
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      const report = (window as unknown as { __reportViolation: (text: string) => void }).__reportViolation;
      void report(`${e.effectiveDirective} refused ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  page.on("console", (message) => {
    if (message.type() === "error" && /policy|refused to/i.test(message.text()) && message.location().url.startsWith(origin)) {
      found.push(`console: ${message.text()}`);
    }
  });
  return found;
}

test.describe("as a visitor", () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test("pages, API routes, static files and redirects carry the security headers; pages have a fresh nonce", async ({ request }) => {
    const home = await request.get("/");
    expect(home.status()).toBe(200);
    const csp = expectHardened(home);
    const nonce = nonceOf(csp);
    expect(nonce, csp).toBeTruthy();
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain("img-src 'self' data: blob:");
    // Google sign-in leaves through a form to the issuer (the local one here).
    expect(csp).toMatch(new RegExp(`form-action 'self' ${new URL(process.env.E2E_GOOGLE_URL!).origin}(;|$)`));
    // Every script Next.js rendered carries this request's nonce, and the next request gets another.
    const html = await home.text();
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) expect(script).toContain(`nonce="${nonce}"`);
    expect(nonceOf(expectHardened(await request.get("/")))).not.toBe(nonce);

    const api = await request.get("/api/health");
    expect(api.status()).toBe(200);
    expect(expectHardened(api)).toContain("script-src 'self';");

    const chunk = scripts.map((s) => s.match(/src="(\/_next\/static\/[^"]+\.js)"/)?.[1]).find(Boolean);
    expect(chunk).toBeTruthy();
    for (const file of [chunk!, "/brand/logo.svg", "/characters/aria.png"]) {
      const response = await request.get(file);
      expect(response.status(), file).toBe(200);
      expect(nonceOf(expectHardened(response))).toBeUndefined();
    }

    const redirect = await request.get("/chat/some-session", { maxRedirects: 0 });
    expect(redirect.status()).toBeGreaterThanOrEqual(300);
    expect(redirect.headers()["location"]).toContain("/signin?callbackUrl=");
    expectHardened(redirect);
  });

  test("signing in with Google through the issuer breaks no policy", async ({ page }) => {
    const violations = await watchViolations(page);
    await page.goto("/signin");
    await page.getByTestId("google-signin").click();
    await page.waitForURL((url) => url.pathname === "/");
    await expect(page.getByTestId("user-avatar")).toBeVisible();
    expect(violations).toEqual([]);
  });
});

test("using the app breaks no policy: gallery, character, chat with streaming and speech, voices, settings", async ({ page, fakes }) => {
  const violations = await watchViolations(page);
  await page.goto("/");
  await expect(page.locator('[data-character-id="preset-aria"]').first()).toBeVisible();

  const character = new CharacterPage(page);
  await character.open("preset-aria");
  const chat = await character.startChat();
  await expect(chat.lastReply()).toBeVisible();
  await chat.send("보안 점검 중이야");
  await expect(chat.replyText()).toContainText("보안 점검 중이야");
  await chat.waitForReplyDone();

  // Speech: the reply's audio is fetched and played.
  await fakes.sovits({ latencyMs: 20 });
  const speak = chat.lastReply().getByTestId("speak");
  const served = page.waitForResponse((response) => audioResponse(response.url()));
  await speak.click();
  await served;
  await expect(speak).toHaveAttribute("aria-pressed", "true");
  await speak.click();

  await page.goto("/voices");
  const listen = page.getByTestId("preset-voices").getByTestId("preview-voice").first();
  await listen.click();
  await expect(listen).toHaveAttribute("aria-pressed", "true");

  await page.goto("/settings");
  await expect(page.locator("main")).toBeVisible();
  await page.getByTestId("health-indicator").click();
  await expect(page.getByTestId("health-panel")).toBeVisible();

  expect(violations).toEqual([]);
});
