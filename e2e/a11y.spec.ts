import AxeBuilder from "@axe-core/playwright";
import type { Browser, Page } from "@playwright/test";
import { CharacterPage } from "./pages/chat-room";
import { expect, keepScreenshot, test } from "./support/test";

/**
 * Every screen, on a desktop and a phone, in a time zone far from the server's: no serious or
 * critical accessibility violation (axe), and no hydration error or other error in the console.
 */
test.use({ timezoneId: "Asia/Seoul" });

const VIEWPORTS = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
] as const;

/** What a console error says when the server's HTML and the browser's first render differ. */
const HYDRATION = /hydrat|#418|#423|#425|did not match|server rendered/i;

/** Watches the page's console and uncaught errors. */
function watchConsole(page: Page) {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return errors;
}

async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.help}\n    ${violation.nodes
      .slice(0, 4)
      .map((node) => node.target.join(" "))
      .join("\n    ")}`);
}

/** Opens a screen, waits until it is drawn and hydrated, and checks it. */
async function check(page: Page, errors: string[], name: string, url: string, ready: (page: Page) => Promise<void>, expected?: RegExp) {
  errors.length = 0;
  await page.goto(url);
  await ready(page);
  // The zone cookie's one refresh (first visit) and late effects are over before looking.
  await page.waitForLoadState("networkidle");
  const violations = await seriousViolations(page);
  expect.soft(violations, `${name}: accessibility`).toEqual([]);
  expect.soft(errors.filter((text) => HYDRATION.test(text)), `${name}: hydration errors`).toEqual([]);
  expect.soft(errors.filter((text) => !expected?.test(text)), `${name}: console errors`).toEqual([]);
}

const visible = (testId: string) => async (page: Page) => {
  await expect(page.getByTestId(testId).first()).toBeVisible();
};

for (const viewport of VIEWPORTS) {
  test(`every screen on a ${viewport.name} is accessible and hydrates cleanly`, async ({ page }) => {
    await page.setViewportSize(viewport);
    const errors = watchConsole(page);
    // A chat to look at: the preset's greeting is in it.
    const chat = await new CharacterPage(page).open("preset-hermione").then(() => new CharacterPage(page).startChat());
    await expect(chat.lastReply()).toBeVisible();
    const chatUrl = page.url();

    await check(page, errors, "home", "/", visible("gallery"));
    await check(page, errors, "gallery (presets)", "/?scope=presets", async (p) => {
      await expect(p.getByTestId("gallery")).toHaveAttribute("data-state", "ready");
      await expect(p.getByTestId("character-card").first()).toBeVisible();
    });
    await check(page, errors, "character page", "/characters/preset-hermione", visible("character-name"));
    await check(page, errors, "character form", "/characters/new", async (p) => {
      await expect(p.locator("form").first()).toBeVisible();
    });
    await check(page, errors, "import", "/characters/import", async (p) => {
      await expect(p.locator("main")).toBeVisible();
    });
    await check(page, errors, "chats", "/chat", visible("chat-sidebar"));
    await check(page, errors, "chat", chatUrl, visible("chat-room"));
    await page.getByTestId("open-settings").click();
    await expect(page.getByTestId("chat-settings")).toBeVisible();
    expect.soft(await seriousViolations(page), "chat settings: accessibility").toEqual([]);
    await check(page, errors, "settings", "/settings", async (p) => {
      await expect(p.locator("main")).toBeVisible();
    });
    await check(page, errors, "voices", "/voices", async (p) => {
      await expect(p.locator("main")).toBeVisible();
    });
    await check(page, errors, "not found", "/no-such-page", async (p) => {
      await expect(p.getByRole("heading", { level: 1 })).toBeVisible();
    }, /status of 404/);
  });
}

/** A visitor's browser: nobody signed in. */
async function visitorPage(browser: Browser, viewport: { width: number; height: number }) {
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] }, viewport, locale: "ko-KR", timezoneId: "Asia/Seoul", baseURL: process.env.E2E_BASE_URL });
  return context.newPage();
}

for (const viewport of VIEWPORTS) {
  test(`the sign-in screen on a ${viewport.name} is accessible and hydrates cleanly`, async ({ browser }) => {
    const page = await visitorPage(browser, viewport);
    const errors = watchConsole(page);
    await check(page, errors, "sign-in", "/signin", visible("google-signin"));
    await page.context().close();
  });
}

test("the chat settings are a sheet over the chat below 1024 px, with dialog focus rules", async ({ page }) => {
  await page.setViewportSize({ width: 820, height: 1180 });
  const chat = await new CharacterPage(page).open("preset-hermione").then(() => new CharacterPage(page).startChat());
  await expect(chat.lastReply()).toBeVisible();
  const opener = page.getByTestId("open-settings");
  const before = await page.getByTestId("message-list").boundingBox();
  await opener.click();

  const sheet = page.getByRole("dialog", { name: "대화 설정" });
  await expect(sheet).toBeVisible();
  await expect(sheet).toHaveAttribute("aria-modal", "true");
  // Over the messages, not beside them: the message list keeps its width.
  const after = await page.getByTestId("message-list").boundingBox();
  expect(after?.width).toBe(before?.width);
  // Focus moved in, and Tab stays inside.
  await expect.poll(() => sheet.evaluate((el) => el.contains(document.activeElement))).toBe(true);
  for (let i = 0; i < 25; i++) await page.keyboard.press("Tab");
  expect(await sheet.evaluate((el) => el.contains(document.activeElement))).toBe(true);

  // A reply length the server refuses is explained in Korean.
  const maxTokens = page.getByTestId("max-tokens");
  await maxTokens.fill("8");
  await maxTokens.blur();
  const error = sheet.getByText(/16 이상이어야 해요/);
  await expect(error).toBeVisible();
  await expect(sheet).not.toContainText("Too small");

  // Esc closes it and gives focus back to the button that opened it.
  await page.keyboard.press("Escape");
  await expect(sheet).toHaveCount(0);
  await expect(opener).toBeFocused();

  // On a phone the sheet covers the screen; at 1280 it sits beside the messages.
  await page.setViewportSize({ width: 390, height: 844 });
  await opener.click();
  await expect(sheet).toBeVisible();
  await page.getByTestId("sheet-backdrop").click({ position: { x: 3, y: 400 }, force: true });
  await expect(sheet).toHaveCount(0);

  await page.setViewportSize({ width: 1280, height: 800 });
  await opener.click();
  await expect(sheet).toBeVisible();
  await expect(sheet).not.toHaveAttribute("aria-modal", "true");
  const beside = await page.getByTestId("message-list").boundingBox();
  const panel = await sheet.boundingBox();
  expect((beside?.x ?? 0) + (beside?.width ?? 0)).toBeLessThanOrEqual((panel?.x ?? 0) + 1);
});

test("times are the reader's: message times and the home card in Seoul time and Korean", async ({ page }) => {
  const chat = await new CharacterPage(page).open("preset-hermione").then(() => new CharacterPage(page).startChat());
  await expect(chat.lastReply()).toBeVisible();
  const time = chat.lastReply().getByTestId("message-time");
  await expect(time).toHaveText(/^(오전|오후) \d{1,2}:\d{2}$/);
  const iso = await time.getAttribute("datetime");
  const seoulHour = Number(new Intl.DateTimeFormat("en", { hour: "numeric", hourCycle: "h23", timeZone: "Asia/Seoul" }).format(new Date(iso ?? "")));
  // The hour shown, on a 24-hour clock, is Seoul's (once the browser has told the server its zone).
  const shownHour = async () => {
    const [, period, hour] = /^(오전|오후) (\d{1,2})/.exec(await time.innerText()) ?? [];
    return (Number(hour) % 12) + (period === "오후" ? 12 : 0);
  };
  await expect.poll(shownHour).toBe(seoulHour);

  // The sidebar says how long ago, in Korean.
  await page.goto("/chat");
  await expect(page.getByTestId("chat-row").first()).toContainText(/지금|분 전|시간 전/);
  await page.goto("/");
  await expect(page.getByTestId("recent-chats")).not.toContainText(/\b(AM|PM)\b/);
});

test("the gallery's tabs follow the arrow keys", async ({ page }) => {
  await page.goto("/?scope=presets");
  const presets = page.getByRole("tab", { name: "공식" });
  await expect(presets).toHaveAttribute("aria-selected", "true");
  await presets.focus();
  await page.keyboard.press("ArrowRight");
  const next = page.getByRole("tab").and(page.locator(":focus"));
  await expect(next).toHaveAttribute("aria-selected", "true");
  await expect(presets).toHaveAttribute("aria-selected", "false");
  await page.keyboard.press("Home");
  await expect(page.getByRole("tab").first()).toBeFocused();
  await expect(page.getByRole("tab").first()).toHaveAttribute("aria-selected", "true");
});

test("the main screens at 1280, 820 and 390 px, kept for review", async ({ page }) => {
  const chat = await new CharacterPage(page).open("preset-hermione").then(() => new CharacterPage(page).startChat());
  await expect(chat.lastReply()).toBeVisible();
  const chatUrl = page.url();
  for (const [width, height] of [
    [1280, 800],
    [820, 1180],
    [390, 844],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.goto("/");
    await expect(page.getByTestId("gallery")).toHaveAttribute("data-state", "ready");
    await keepScreenshot(page, `home-${width}`);
    await page.goto("/settings");
    await expect(page.locator("main")).toBeVisible();
    await keepScreenshot(page, `settings-${width}`);
    await page.goto(chatUrl);
    await expect(chat.lastReply()).toBeVisible();
    await keepScreenshot(page, `chat-${width}`);
    await page.getByTestId("open-settings").click();
    await expect(page.getByTestId("chat-settings")).toBeVisible();
    await keepScreenshot(page, `chat-settings-${width}`);
  }
});

test("a new reply is announced to screen readers, the history is not, and the chat page has a main and a heading", async ({ page, fakes }) => {
  await fakes.ollama({ tokenDelayMs: 0 });
  const chat = await new CharacterPage(page).open("preset-hermione").then(() => new CharacterPage(page).startChat());
  await expect(chat.lastReply()).toBeVisible();
  const announcer = page.getByRole("status").and(page.getByTestId("reply-announcer"));
  // The greeting was there when the chat opened: not read out.
  await expect(announcer).toHaveText("");
  await expect(page.getByRole("main").getByRole("heading", { level: 1 })).toHaveText("헤르미온느 그레인저");

  await chat.send("오늘 뭐 읽고 있어?");
  await chat.waitForReplyDone();
  await expect(announcer).toContainText("헤르미온느 그레인저의 답장:");
  // What is read out is the new reply's text.
  const announced = (await announcer.innerText()).trim();
  await expect(chat.replyText()).toContainText(announced.slice(-15));
});
