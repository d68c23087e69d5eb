import { buildVrm1 } from "./fixtures/avatars";
import { CharacterDetailPage, CharacterFormPage, ImportPage, headerSettled } from "./pages/characters";
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
