import { readTextChunks } from "../server/cards/png-chunks";
import { portraitPng } from "./fixtures/images";
import { CharacterDetailPage, CharacterFormPage, expectNoHorizontalScroll, GalleryPage, headerSettled, ImportPage } from "./pages/characters";
import { expect, keepScreenshot, test } from "./support/test";

test("create a character with a portrait, find it, edit it, export and re-import its card, chat with it, delete it", async ({ page }) => {
  const name = `윤하늘 ${Date.now() % 100000}`;
  const gallery = new GalleryPage(page);
  await gallery.open();
  await page.getByTestId("create-character").click();
  await expect(page).toHaveURL(/\/characters\/new$/);

  const form = new CharacterFormPage(page);
  await form.uploadPortrait(await portraitPng());
  await form.fill({
    name,
    description: "새벽 라디오 DJ. 사연을 읽어 주는 다정한 목소리",
    persona: "{{char}}는 심야 라디오 DJ다. {{user}}의 사연을 다정하게 읽어 준다.",
    greeting: "*헤드폰을 고쳐 쓰며* 오늘 밤 첫 사연의 주인공은 {{user}} 님이네요.",
    category: "힐링",
    tags: ["라디오", "새벽감성"],
  });
  await expect(page.getByTestId("tag-chip")).toHaveText(["#라디오", "#새벽감성"]);
  await page.evaluate(() => window.scrollTo(0, 0));
  await headerSettled(page);
  await keepScreenshot(page, "character-form-desktop");
  const character = await form.save();
  await expect(character.name).toHaveText(name);
  await expect(page.getByTestId("visibility")).toHaveText("비공개");
  const originalUrl = page.url();

  // In the gallery under "mine", and found by a Korean substring from the middle of its description.
  await gallery.open("mine");
  await expect(gallery.card(name)).toHaveCount(1);
  await gallery.open();
  await gallery.searchFor("연을 읽어");
  await expect(gallery.cards).toHaveCount(1);
  await expect(gallery.cards).toContainText(name);
  await page.reload();
  await expect(gallery.search).toHaveValue("연을 읽어");
  await expect(gallery.cards).toHaveCount(1);

  // Edit.
  await character.open(originalUrl);
  const editForm = await character.edit();
  await expect(editForm.name).toHaveValue(name);
  await editForm.fill({ name: `${name} DJ` });
  await editForm.save();
  await expect(character.name).toHaveText(`${name} DJ`);

  // Export the PNG card: a real PNG with a V3 (and V2) card inside.
  const card = await character.exportCard("png");
  expect(card.fileName).toMatch(new RegExp(`^${name} DJ \\d{4}-\\d{2}-\\d{2}_\\d{4}\\.png$`));
  expect(card.bytes.subarray(1, 4).toString("latin1")).toBe("PNG");
  expect(readTextChunks(card.bytes).map((c) => c.keyword)).toEqual(expect.arrayContaining(["chara", "ccv3"]));

  // Import it back as a new character, and start a chat with it: its greeting opens the chat.
  const importer = new ImportPage(page);
  await importer.open();
  await headerSettled(page);
  await keepScreenshot(page, "import-desktop");
  await importer.importFile(card.fileName, "image/png", card.bytes);
  await page.waitForURL((url) => /^\/characters\/[\w-]+$/.test(url.pathname) && url.href !== originalUrl);
  await expect(character.name).toHaveText(`${name} DJ`);
  const importedUrl = page.url();
  const chat = await character.startChat();
  await expect(chat.messages.first()).toContainText("오늘 밤 첫 사연의 주인공은");

  // Delete the imported copy: Esc backs out of the question, confirming removes it from the gallery.
  await character.open(importedUrl);
  await character.deleteButton().click();
  const dialog = page.getByRole("alertdialog");
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole("button", { name: "취소" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await character.delete();
  await gallery.settled();
  const importedId = new URL(importedUrl).pathname.split("/").at(-1)!;
  await expect(gallery.grid.locator(`[data-character-id="${importedId}"]`)).toHaveCount(0);
  await expect(gallery.card(`${name} DJ`)).toHaveCount(1);
  await page.goto(importedUrl);
  await expect(page.getByText("찾을 수 없어요")).toBeVisible();

  await character.open(originalUrl);
  await character.delete();
  await expect(gallery.card(name)).toHaveCount(0);
});

test("the form says what is missing, and nothing typed is lost", async ({ page }) => {
  const form = new CharacterFormPage(page);
  await form.openNew();
  await form.fill({ persona: "조용한 등대지기. 말수가 적다.", tags: ["바다", "등대", "밤"] });
  await page.getByRole("button", { name: "등대 태그 삭제" }).click();
  await expect(page.getByTestId("tag-chip")).toHaveText(["#바다", "#밤"]);
  await page.getByTestId("save-character").click();
  await expect(page.getByText("캐릭터의 이름을 정해 주세요.")).toBeVisible();
  await expect(form.name).toBeFocused();
  await expect(page).toHaveURL(/\/characters\/new$/);
  await expect(page.getByTestId("field-persona")).toHaveValue("조용한 등대지기. 말수가 적다.");
  await form.name.fill("등대지기");
  await expect(page.getByText("캐릭터의 이름을 정해 주세요.")).toHaveCount(0);
});

test("a file that is not a card is refused with the reason, and nothing is created", async ({ page }) => {
  const gallery = new GalleryPage(page);
  await gallery.open("mine");
  const before = await gallery.cards.count();

  const importer = new ImportPage(page);
  await importer.open();
  await importer.importFile("notes.json", "application/json", Buffer.from('{"spec":"something_else","data":{}}'));
  await expect(importer.error).toHaveText("지원하지 않는 카드 형식이에요 (Character Card V1, V2, V3만 지원해요).");
  // The page stays usable: the next file is read as well.
  await importer.importFile("photo.png", "image/png", await portraitPng());
  await expect(importer.error).toHaveText("이 PNG에는 캐릭터 카드가 들어 있지 않아요.");
  await expect(page).toHaveURL(/\/characters\/import$/);

  await gallery.open("mine");
  await expect(gallery.cards).toHaveCount(before);
});

test("presets can be duplicated and exported but not edited; the gallery filters by category", async ({ page }) => {
  const character = new CharacterDetailPage(page);
  await character.open("preset-dohyun");
  await expect(page.getByTestId("edit-character")).toHaveCount(0);
  await expect(character.deleteButton()).toHaveCount(0);
  const json = await character.exportCard("json");
  expect(JSON.parse(json.bytes.toString("utf8"))).toMatchObject({ spec: "chara_card_v3", data: { name: "강도현 형사" } });
  await page.getByTestId("duplicate-character").click();
  await page.waitForURL(/\/edit\?from=preset-dohyun$/);
  await expect(new CharacterFormPage(page).name).toHaveValue("강도현 형사 (사본)");
  // Cancelling the copy's form takes the copy away again: no orphan "(사본)" is left.
  await page.getByTestId("discard-copy").click();
  await page.waitForURL(/\/characters\/preset-dohyun$/);

  const gallery = new GalleryPage(page);
  await gallery.open("mine");
  await expect(gallery.root).not.toContainText("(사본)");
  await gallery.open("presets");
  await gallery.pickFacet("SF");
  await expect(page).toHaveURL(/category=SF/);
  await expect(gallery.cards).toHaveCount(1);
  await expect(gallery.cards).toContainText("아리아");
  await gallery.pickFacet("SF");
  await expect(page).not.toHaveURL(/category=/);

  await gallery.open();
  await expect(gallery.cards.nth(4)).toBeVisible();
  await gallery.root.evaluate((el) => el.scrollIntoView());
  await headerSettled(page);
  await keepScreenshot(page, "gallery-desktop");
});

test("on a phone, the gallery, a character, the form, import and voices fit the screen", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const gallery = new GalleryPage(page);
  await gallery.open();
  await gallery.root.evaluate((el) => el.scrollIntoView());
  await expectNoHorizontalScroll(page);
  await headerSettled(page);
  await keepScreenshot(page, "gallery-mobile");

  await new CharacterDetailPage(page).open("preset-dohyun");
  await expectNoHorizontalScroll(page);
  await headerSettled(page);
  await keepScreenshot(page, "character-mobile");

  // The export choices open as a sheet that stays on screen.
  await page.getByTestId("export-card").click();
  await expect(page.getByTestId("export-png")).toBeInViewport();
  await expectNoHorizontalScroll(page);
  await page.keyboard.press("Escape");

  await new CharacterFormPage(page).openNew();
  await expectNoHorizontalScroll(page);
  await headerSettled(page);
  await keepScreenshot(page, "character-form-mobile");

  await new ImportPage(page).open();
  await expectNoHorizontalScroll(page);

  await page.goto("/voices");
  await expect(page.getByTestId("preset-voices")).toBeVisible();
  await expectNoHorizontalScroll(page);
});
