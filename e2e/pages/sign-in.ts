import { expect, type Browser, type Page } from "@playwright/test";

/** The sign-in page: Google (the local issuer in tests) and the development sign-in. */
export class SignInPage {
  constructor(readonly page: Page) {}

  /** Opens `/signin`, with `callbackUrl` exactly as given (already URL-encoded) when there is one. */
  async open(callbackUrl?: string) {
    await this.page.goto(callbackUrl === undefined ? "/signin" : `/signin?callbackUrl=${callbackUrl}`);
  }

  async withGoogle() {
    await this.page.getByTestId("google-signin").click();
  }

  async withDevSignIn(email: string) {
    const form = this.page.getByTestId("dev-signin");
    await form.getByLabel("이메일").fill(email);
    await form.getByRole("button").click();
  }

  get error() {
    return this.page.getByTestId("signin-error");
  }
}

/** A browser of its own (no shared cookie), so signing it out touches no other test. */
export async function freshBrowser(browser: Browser, baseURL: string) {
  const context = await browser.newContext({ baseURL, locale: "ko-KR", viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  return { context, page, signIn: new SignInPage(page) };
}

/** A fresh browser signed in with the development sign-in as `email`. */
export async function devSignedIn(browser: Browser, baseURL: string, email: string) {
  const fresh = await freshBrowser(browser, baseURL);
  await fresh.signIn.open();
  await fresh.signIn.withDevSignIn(email);
  await expect(fresh.page.getByTestId("user-avatar")).toBeVisible();
  return fresh;
}
