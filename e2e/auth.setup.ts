import { STORAGE_STATE } from "../playwright.config";
import { expect, test } from "./support/test";

test("sign in with Google (local issuer) and keep the session for the other specs", async ({ page }) => {
  await page.goto("/signin");
  await page.getByTestId("google-signin").click();
  await page.waitForURL((url) => url.pathname === "/");
  await expect(page.getByTestId("user-avatar")).toBeVisible();
  await page.context().storageState({ path: STORAGE_STATE });
});
