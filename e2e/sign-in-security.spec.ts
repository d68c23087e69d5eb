import type { BrowserContext } from "@playwright/test";
import { devSignedIn, freshBrowser, SignInPage } from "./pages/sign-in";
import { expect, test } from "./support/test";

// Every journey here signs in a browser of its own: signing out must never touch the shared
// signed-in cookie the other specs use.
test.use({ storageState: { cookies: [], origins: [] } });

/** Callbacks that used to take the browser off the app, as they appear in a crafted link. */
const CRAFTED_CALLBACKS = [
  "/%5Cevil.example/x",
  "/%09/evil.example",
  "/%0A/evil.example",
  "//evil.example/x",
  "/%5C%5Cevil.example",
  "https://evil.example/x",
  "javascript:alert(document.domain)",
  "/%255Cevil.example",
];

/** Were the browser sent to evil.example, it lands on this page instead of failing to resolve. */
async function trapOffSiteNavigation(context: BrowserContext) {
  await context.route(
    (url) => url.hostname.endsWith("evil.example"),
    (route) => route.fulfill({ contentType: "text/html", body: "<h1>evil.example</h1>" }),
  );
}

/** A tRPC query as the browser sends it, with whatever cookie the context holds. */
const listTokens = (context: BrowserContext) => context.request.get("/api/trpc/apiTokens.list");

test("a crafted callback never takes the browser off the app, signing in or signed in", async ({ page, baseURL }) => {
  const app = new URL(baseURL!).origin;
  await trapOffSiteNavigation(page.context());
  const signIn = new SignInPage(page);
  // Through Google, the callback also passes Auth.js's own redirect (its callback-url cookie).
  await signIn.open(CRAFTED_CALLBACKS[0]);
  await signIn.withGoogle();
  await expect(page.getByTestId("user-avatar")).toBeVisible();
  expect(new URL(page.url()).origin).toBe(app);

  // Signed in, the sign-in page sends the browser straight on to the callback.
  for (const callback of CRAFTED_CALLBACKS) {
    await signIn.open(callback);
    await expect(page.getByTestId("user-avatar"), callback).toBeVisible();
    expect(new URL(page.url()).origin, callback).toBe(app);
  }

  // Through the development sign-in's form (the rest of the variants are unit-tested).
  const email = `callbacks-${Date.now()}@example.com`;
  for (const callback of CRAFTED_CALLBACKS.slice(1, 4)) {
    // Off the app first: a response still in flight from its page could set the session cookie
    // again after it was cleared (Auth.js refreshes it on the way out).
    await page.goto("about:blank");
    // Cleared until it stays cleared: a late response may still set it once more.
    await expect
      .poll(async () => {
        await page.context().clearCookies();
        await page.waitForTimeout(150);
        return (await page.context().cookies()).length;
      })
      .toBe(0);
    await signIn.open(callback);
    await signIn.withDevSignIn(email);
    await expect(page.getByTestId("user-avatar"), callback).toBeVisible();
    expect(new URL(page.url()).origin, callback).toBe(app);
  }
});

test("signing out ends the session in the other tab and for any copy of its cookie", async ({ browser, baseURL }) => {
  const { context, page } = await freshBrowser(browser, baseURL!);
  const signIn = new SignInPage(page);
  await signIn.open("%2Fsettings");
  await signIn.withGoogle();
  await page.waitForURL((url) => url.pathname === "/settings");
  const secondTab = await context.newPage();
  await secondTab.goto("/settings");
  await expect(secondTab.getByTestId("sign-out-everywhere")).toBeVisible();
  const copied = await context.cookies();
  const copy = await browser.newContext({ baseURL, storageState: { cookies: copied, origins: [] } });
  expect((await listTokens(copy)).status()).toBe(200);

  await page.getByTestId("user-avatar").click();
  await page.getByTestId("user-menu").getByRole("button", { name: "로그아웃" }).click();
  await expect(page.getByRole("link", { name: "로그인", exact: true })).toBeVisible();

  await secondTab.reload();
  await expect(secondTab).toHaveURL(/\/signin\?callbackUrl=%2Fsettings$/);
  // The copy still holds the old cookie, which decrypts fine: only its ended session row says no.
  const stale = await copy.newPage();
  await stale.goto("/settings");
  await expect(stale).toHaveURL(/\/signin\?callbackUrl=%2Fsettings$/);
  await expect(stale.getByTestId("user-avatar")).toHaveCount(0);
  const refused = await listTokens(copy);
  expect(refused.status()).toBe(401);
  expect(JSON.stringify(await refused.json())).toContain("UNAUTHORIZED");
  await Promise.all([copy.close(), context.close()]);
});

test("sign out everywhere ends every session of the account, and nobody else's", async ({ browser, baseURL }) => {
  const email = `everywhere-${Date.now()}@example.com`;
  const laptop = await devSignedIn(browser, baseURL!, email);
  const phone = await devSignedIn(browser, baseURL!, email);
  const someoneElse = await devSignedIn(browser, baseURL!, `bystander-${Date.now()}@example.com`);

  await laptop.page.goto("/settings");
  await laptop.page.getByTestId("sign-out-everywhere").click();
  const dialog = laptop.page.getByRole("alertdialog");
  await expect(dialog).toContainText("모든 기기에서 로그아웃할까요?");
  await dialog.getByTestId("confirm").click();
  await laptop.page.waitForURL((url) => url.pathname === "/signin");
  await expect(laptop.page.getByTestId("google-signin")).toBeVisible();
  await expect(laptop.page.getByTestId("user-avatar")).toHaveCount(0);

  await phone.page.goto("/settings");
  await expect(phone.page).toHaveURL(/\/signin\?callbackUrl=%2Fsettings$/);
  expect((await listTokens(phone.context)).status()).toBe(401);

  await someoneElse.page.goto("/settings");
  await expect(someoneElse.page.getByTestId("sign-out-everywhere")).toBeVisible();
  expect((await listTokens(someoneElse.context)).status()).toBe(200);
  await Promise.all([laptop.context.close(), phone.context.close(), someoneElse.context.close()]);
});

test("the development sign-in can't open an account that signs in with Google", async ({ browser, baseURL }) => {
  // tester@example.com signed in with Google in auth.setup.ts.
  const { context, page, signIn } = await freshBrowser(browser, baseURL!);
  await signIn.open("%2Fsettings");
  await signIn.withDevSignIn("tester@example.com");
  await expect(page).toHaveURL(/\/signin\?error=linked_account&callbackUrl=%2Fsettings$/);
  await expect(signIn.error).toHaveText("이 이메일은 Google로 로그인하는 계정의 것이에요. 개발용 로그인으로는 열 수 없으니 Google로 계속해 주세요.");
  await expect(page.getByTestId("user-avatar")).toHaveCount(0);
  expect((await listTokens(context)).status()).toBe(401);

  // The same form still signs in a development account, and a crafted callback leads home.
  await trapOffSiteNavigation(context);
  await signIn.open("/%5Cevil.example");
  await signIn.withDevSignIn(`dev-${Date.now()}@example.com`);
  await expect(page.getByTestId("user-avatar")).toBeVisible();
  expect(new URL(page.url())).toMatchObject({ origin: new URL(baseURL!).origin, pathname: "/" });
  await context.close();
});
