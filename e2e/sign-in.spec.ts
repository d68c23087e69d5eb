import { expect, test } from "./support/test";

test.use({ storageState: { cookies: [], origins: [] } });

test("a visitor signs in with Google, lands where they were going, and signs out", async ({ page }) => {
  await page.goto("/characters/preset-seoyun");
  await page.getByRole("link", { name: "로그인하고 대화하기" }).click();
  await expect(page).toHaveURL(/\/signin\?callbackUrl=/);
  // The e2e server offers the development sign-in too (AUTH_DEV_LOGIN=true, see
  // sign-in-security.spec.ts); without it a production build offers Google only (lib/env.test.ts).
  await expect(page.getByTestId("dev-signin")).toBeVisible();
  await page.getByTestId("google-signin").click();

  await page.waitForURL((url) => url.pathname === "/characters/preset-seoyun");
  await expect(page.getByTestId("user-avatar")).toHaveText("T");
  await expect(page.getByTestId("start-chat")).toBeVisible();

  await page.getByTestId("user-avatar").click();
  await expect(page.getByTestId("user-menu")).toContainText("tester@example.com");
  await page.getByRole("button", { name: "로그아웃" }).click();
  await expect(page.getByRole("link", { name: "로그인", exact: true })).toBeVisible();
  await expect(page.getByTestId("user-avatar")).toHaveCount(0);
});

test("chat pages need a signed-in user", async ({ page }) => {
  await page.goto("/chat/some-session");
  await expect(page).toHaveURL(/\/signin\?callbackUrl=%2Fchat%2Fsome-session/);
});

test("pages for one's own things send a visitor to sign in, and back afterwards", async ({ page }) => {
  for (const [path, encoded] of [
    ["/voices", "%2Fvoices"],
    ["/characters/new", "%2Fcharacters%2Fnew"],
    ["/characters/import", "%2Fcharacters%2Fimport"],
  ] as const) {
    await page.goto(path);
    await expect(page).toHaveURL(new RegExp(`/signin\\?callbackUrl=${encoded}$`));
  }
});
