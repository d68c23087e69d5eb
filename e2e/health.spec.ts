import { expect, test } from "./support/test";

/** What a health report must never show: the servers' addresses, versions and models. */
const internals = () => [process.env.E2E_OLLAMA_URL!, process.env.E2E_SOVITS_URL!, "127.0.0.1", "qwen2.5", "-fake", "GPT-SoVITS"];

test("the status indicator reports each service with its latency, and says when fakes are answering", async ({ page }) => {
  await page.goto("/");
  const indicator = page.getByTestId("health-indicator");
  await expect(indicator).toHaveAttribute("data-status", "ok");
  await indicator.click();
  const panel = page.getByTestId("health-panel");
  for (const service of ["database", "llm", "tts"]) {
    await expect(panel.getByTestId(`health-${service}`)).toHaveAttribute("data-status", "ok");
    await expect(panel.getByTestId(`health-${service}`)).toContainText(/\d+ ms/);
  }
  await expect(panel.getByTestId("health-model-missing")).toHaveCount(0);
  await expect(page.getByTestId("demo-banner")).toContainText("데모 모드");
});

test("GET /api/health tells a signed-in caller latency and the default model's presence, never addresses", async ({ page }) => {
  // The browser's session cookie.
  const response = await page.request.get("/api/health");
  expect(response.status()).toBe(200);
  const body = await response.json();
  expect(body.status).toBe("ok");
  expect(body.services.database).toMatchObject({ status: "ok", latencyMs: expect.any(Number) });
  expect(body.services.llm).toEqual({ status: "ok", latencyMs: expect.any(Number), fake: true, defaultModelInstalled: true });
  expect(body.services.tts).toEqual({ status: "ok", latencyMs: expect.any(Number), fake: true });
  const text = JSON.stringify(body);
  for (const internal of internals()) expect(text).not.toContain(internal);
});

test.describe("as a visitor", () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test("GET /api/health says only whether each service is up", async ({ request }) => {
    const response = await request.get("/api/health");
    expect(response.status()).toBe(200);
    expect(await response.json()).toEqual({
      status: "ok",
      checkedAt: expect.any(String),
      backend: { status: "ok" },
      services: { database: { status: "ok" }, llm: { status: "ok" }, tts: { status: "ok" } },
    });
  });

  test("the status indicator shows each service's status without details, and no demo banner", async ({ page }) => {
    await page.goto("/");
    const indicator = page.getByTestId("health-indicator");
    await expect(indicator).toHaveAttribute("data-status", "ok");
    await indicator.click();
    const panel = page.getByTestId("health-panel");
    await expect(panel.getByTestId("health-llm")).toHaveAttribute("data-status", "ok");
    await expect(panel).not.toContainText("ms");
    await expect(page.getByTestId("demo-banner")).toHaveCount(0);
  });
});
