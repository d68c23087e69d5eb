import { unpackCharxHere } from "@/server/cards/charx";
import { RISU_EMOTIONS, risuCharx } from "@/server/cards/test-cards";
import { buildVrm1 } from "./fixtures/avatars";
import { CharacterDetailPage, CharacterFormPage, ImportPage, expectNoHorizontalScroll, headerSettled } from "./pages/characters";
import { devSignedIn } from "./pages/sign-in";
import { expect, keepScreenshot, test } from "./support/test";

// Accounts of their own: the exported character and its import stay out of the shared user's screens.
test.use({ storageState: { cookies: [], origins: [] } });

test("a character with a VRM goes out as CharX and comes back, in another account, with its 3D avatar", async ({ browser, baseURL }) => {
  const { context, page } = await devSignedIn(browser, baseURL!, `charx-out-${crypto.randomUUID()}@example.com`);
  const form = new CharacterFormPage(page);
  await form.openNew();
  await form.fill({ name: "상자 속 사서", greeting: "어서 와요." });
  await form.save();

  // Without an avatar the menu has no CharX.
  await page.getByTestId("export-card").click();
  await expect(page.getByTestId("export-json")).toBeVisible();
  await expect(page.getByTestId("export-charx")).toHaveCount(0);
  await page.getByTestId("export-card").click();

  await page.getByTestId("avatar-file").setInputFiles({ name: "librarian.vrm", mimeType: "model/gltf-binary", buffer: Buffer.from(await buildVrm1()) });
  await expect(page.getByTestId("avatar-canvas")).toHaveAttribute("data-loaded", "vrm", { timeout: 20_000 });

  // With one, CharX is offered and downloads a .charx zip.
  await page.getByTestId("export-card").click();
  await expect(page.getByTestId("export-charx")).toContainText("3D 아바타 포함 CharX");
  await keepScreenshot(page, "charx-export-menu-desktop");
  await page.getByTestId("export-card").click();
  const { fileName, bytes: charx } = await new CharacterDetailPage(page).exportCard("charx");
  expect(fileName).toMatch(/\.charx$/);
  expect(charx.subarray(0, 4).toString("latin1")).toBe("PK\u0003\u0004");
  await context.close();

  // Another account imports it: the character opens with the avatar loaded.
  const other = await devSignedIn(browser, baseURL!, `charx-in-${crypto.randomUUID()}@example.com`);
  const importing = new ImportPage(other.page);
  await importing.open();
  await expect(other.page.getByText("CharX 파일 (.charx", { exact: false })).toBeVisible();
  await headerSettled(other.page);
  await keepScreenshot(other.page, "charx-import-desktop");
  await importing.importFile(fileName, "application/zip", charx);
  await other.page.waitForURL(/\/characters\/[\w-]+$/);
  await expect(new CharacterDetailPage(other.page).name).toHaveText("상자 속 사서");
  await expect(other.page.getByTestId("avatar-canvas")).toHaveAttribute("data-loaded", "vrm", { timeout: 20_000 });

  // On a phone the menu is a sheet with the same choice.
  await other.page.setViewportSize({ width: 390, height: 844 });
  await other.page.getByTestId("export-card").click();
  await expect(other.page.getByTestId("export-charx")).toBeVisible();
  await keepScreenshot(other.page, "charx-export-menu-mobile");
  await other.context.close();
});

test("a RisuAI CharX comes in with its expressions and backgrounds, shown on the character page in both languages, and goes out with them", async ({ browser, baseURL }) => {
  const { context, page } = await devSignedIn(browser, baseURL!, `charx-risu-${crypto.randomUUID()}@example.com`);
  const { charx } = await risuCharx({ name: "등불 사서", emotions: 20, backgrounds: 3, extra: [{ type: "x-risu-asset", name: "bell", ext: "mp3", bytes: Buffer.from("ID3 bell") }] });
  const importing = new ImportPage(page);
  await importing.open();
  await importing.importFile("moonlight-librarian.charx", "application/zip", charx);
  await page.waitForURL(/\/characters\/[\w-]+$/);
  const detail = new CharacterDetailPage(page);
  await expect(detail.name).toHaveText("등불 사서");

  // The first twelve expressions show, named, each a picture that loaded; the rest behind "show all".
  const emotions = page.getByTestId("emotions");
  await expect(emotions.getByRole("heading")).toHaveText("표정");
  await expect(emotions.getByTestId("emotion").filter({ visible: true })).toHaveCount(12);
  await expect(emotions.getByTestId("emotion").first()).toContainText(RISU_EMOTIONS[0]!);
  const loaded = async () =>
    emotions.locator("img").evaluateAll((imgs) => imgs.filter((img) => (img as HTMLImageElement).checkVisibility()).every((img) => (img as HTMLImageElement).naturalWidth > 0));
  await emotions.scrollIntoViewIfNeeded();
  await expect.poll(loaded).toBe(true);
  await emotions.getByText("20개 모두 보기").click();
  await expect(emotions.getByTestId("emotion").filter({ visible: true })).toHaveCount(20);
  await expect(page.getByTestId("backgrounds").getByTestId("background")).toHaveCount(3);
  await expect(page.getByTestId("other-files")).toContainText("다른 파일 1개");
  await expect(page.getByTestId("other-files")).toContainText("RisuAI 모듈");
  await headerSettled(page);
  for (const width of [1280, 820, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    await expectNoHorizontalScroll(page);
    await emotions.scrollIntoViewIfNeeded();
    await page.evaluate(() => window.scrollBy(0, -80));
    await keepScreenshot(page, `charx-risu-emotions-${width}`);
  }

  // In English.
  await context.addCookies([{ name: "af-locale", value: "en", url: baseURL! }]);
  await page.reload();
  await expect(emotions.getByRole("heading")).toHaveText("Expressions");
  await expect(page.getByTestId("backgrounds").getByRole("heading")).toHaveText("Backgrounds");
  await expect(emotions.getByText("Show all 20")).toBeVisible();
  await expectNoHorizontalScroll(page);
  await page.getByTestId("backgrounds").scrollIntoViewIfNeeded();
  await keepScreenshot(page, "charx-risu-backgrounds-en-390");
  await page.setViewportSize({ width: 1280, height: 900 });
  await emotions.scrollIntoViewIfNeeded();
  await page.evaluate(() => window.scrollBy(0, -80));
  await keepScreenshot(page, "charx-risu-emotions-en-1280");

  // CharX is offered (the card brought files) and carries every one of them back out.
  const { fileName, bytes } = await detail.exportCard("charx");
  expect(fileName).toMatch(/\.charx$/);
  const out = unpackCharxHere(bytes);
  expect(out.portrait).not.toBeNull();
  expect(out.files.filter((f) => f.type === "emotion").map((f) => f.name)).toEqual(RISU_EMOTIONS.slice(0, 20));
  expect(out.files.filter((f) => f.kind === "module")).toHaveLength(1);
  await context.close();
});
