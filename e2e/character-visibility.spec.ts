import type { Browser, Locator, Page } from "@playwright/test";
import { DEFAULT_GOOGLE_USER, type FakeGoogleUser } from "./fakes/google";
import { portraitPng } from "./fixtures/images";
import { CharacterDetailPage, CharacterFormPage } from "./pages/characters";
import { expect, test } from "./support/test";

async function setGoogleUser(user: FakeGoogleUser) {
  const response = await fetch(`${process.env.E2E_GOOGLE_URL}/__control/user`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(user),
  });
  if (!response.ok) throw new Error(`the Google fake refused the user: ${response.status}`);
}

/** Another account, signed in in its own browser; the Google fake signs in the usual tester again after. */
async function signInAs(browser: Browser, baseURL: string, user: FakeGoogleUser) {
  await setGoogleUser(user);
  try {
    // Not the signed-in state every other test starts from.
    const context = await browser.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
    const page = await context.newPage();
    await page.goto("/signin");
    await page.getByTestId("google-signin").click();
    await page.waitForURL((url) => url.pathname === "/");
    return page;
  } finally {
    await setGoogleUser(DEFAULT_GOOGLE_USER);
  }
}

/** Flips the form's "public" switch the way a person does: by clicking it (the checkbox itself is visually hidden). */
async function setPublic(page: Page, shared: boolean) {
  const toggle = page.getByTestId("field-public");
  if ((await toggle.isChecked()) !== shared) await page.locator("label").filter({ has: toggle }).click();
  await expect(toggle).toBeChecked({ checked: shared });
}

/** The picture is on screen: loaded, not a broken image. */
async function expectPictureShown(image: Locator) {
  await image.scrollIntoViewIfNeeded();
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
}

test("a chat goes on with the character as it was once its owner makes it private, and its portrait stops being served", async ({
  page,
  browser,
  baseURL,
}) => {
  const name = `등대지기 ${Date.now() % 100000}`;
  const ownerPage = await signInAs(browser, baseURL!, { email: `owner-${Date.now()}@example.com`, name: "캐릭터 주인" });

  // The owner shares a character with a portrait.
  const form = new CharacterFormPage(ownerPage);
  await form.openNew();
  await form.uploadPortrait(await portraitPng());
  await form.fill({ name, persona: "{{char}}는 외딴 섬의 등대지기다.", greeting: "*등불을 닦으며* 배가 끊긴 지 오래예요." });
  await setPublic(ownerPage, true);
  const character = await form.save();
  await expect(ownerPage.getByTestId("visibility")).toHaveText("공개");
  const characterPath = new URL(ownerPage.url()).pathname;
  await expectPictureShown(ownerPage.getByRole("img", { name }));

  // Someone else sees it (its portrait too) and starts a chat with it.
  await page.goto(characterPath);
  await expectPictureShown(page.getByRole("img", { name }));
  const chat = await new CharacterDetailPage(page).startChat();
  await expect(chat.messages.first()).toContainText("배가 끊긴 지 오래예요");
  const heading = page.getByTestId("chat-room").locator(`a[href="${characterPath}"]`);
  await expect(heading).toBeVisible();
  const headingPortrait = heading.locator("img");
  await expect(headingPortrait).toHaveAttribute("src", /\/api\/images\//);
  await expectPictureShown(headingPortrait);
  const portraitUrl = (await headingPortrait.getAttribute("src"))!;
  await expect(page.getByTestId("character-snapshot-note")).toHaveCount(0);

  // The owner makes it private and rewrites it.
  const editForm = await character.edit();
  await editForm.fill({ name: `${name} (비공개)`, persona: "비밀 설정" });
  await setPublic(ownerPage, false);
  await editForm.save();
  await expect(ownerPage.getByTestId("visibility")).toHaveText("비공개");
  await expectPictureShown(ownerPage.getByRole("img", { name: `${name} (비공개)` }));

  // The chat says so, keeps the name it started with, links nowhere and shows no portrait.
  await page.reload();
  await expect(page.getByTestId("character-snapshot-note")).toContainText(`${name} — 만든 사람이 더 이상 공유하지 않는 캐릭터예요`);
  await expect(page.getByTestId("chat-character")).toHaveText(name);
  await expect(page.getByTestId("chat-room").locator('a[href^="/characters/"]')).toHaveCount(0);
  await expect(page.getByTestId("chat-room").locator('img[src*="/api/images/"]')).toHaveCount(0);
  const sessionId = new URL(page.url()).pathname.split("/").at(-1)!;
  const sidebarRow = page.locator(`[data-testid="chat-row"][data-session-id="${sessionId}"]`);
  await expect(sidebarRow).toContainText(name);
  await expect(sidebarRow.locator('img[src*="/api/images/"]')).toHaveCount(0);
  expect((await page.request.get(portraitUrl)).status()).toBe(404);
  expect((await ownerPage.request.get(portraitUrl)).status()).toBe(200);

  // And it goes on.
  await chat.send("아직 불이 켜져 있나요?");
  await chat.waitForReplyDone();
  await expect(chat.replyText()).toContainText("아직 불이 켜져 있나요?");

  await character.delete();
  await ownerPage.context().close();
});
