import { expect, test } from "./support/test";

test("the status indicator reports each service, and says when fakes are answering", async ({ page }) => {
  await page.goto("/");
  const indicator = page.getByTestId("health-indicator");
  await expect(indicator).toHaveAttribute("data-status", "ok");
  await indicator.click();
  const panel = page.getByTestId("health-panel");
  for (const service of ["database", "llm", "tts"]) {
    await expect(panel.getByTestId(`health-${service}`)).toHaveAttribute("data-status", "ok");
  }
  await expect(panel).toContainText("ms");
  await expect(page.getByTestId("demo-banner")).toContainText("데모 모드");
});

test("GET /api/health reports the database, the LLM and the TTS for monitors", async ({ request }) => {
  const response = await request.get("/api/health");
  expect(response.status()).toBe(200);
  const body = await response.json();
  expect(body.status).toBe("ok");
  expect(body.services.database.status).toBe("ok");
  expect(body.services.llm).toMatchObject({ status: "ok", fake: true });
  expect(body.services.llm.detail).toContain("qwen2.5:7b");
  expect(body.services.tts).toMatchObject({ status: "ok", fake: true });
  expect(typeof body.services.llm.latencyMs).toBe("number");
});
