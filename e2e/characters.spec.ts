import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { readTextChunks } from "../server/cards/png-chunks";
import { expect, keepScreenshot, test } from "./support/test";

/** A portrait made for the test: a gradient square, as a real PNG file. */
function portrait() {
  const size = 320;
  const pixels = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 3;
      pixels[i] = 80 + Math.round((x / size) * 150);
      pixels[i + 1] = 60;
      pixels[i + 2] = 120 + Math.round((y / size) * 120);
    }
  }
  return sharp(pixels, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
}

test("create a character with a portrait, find it, edit it, export and re-import its card, chat with it, delete it", async ({ page }) => {
  const name = `윤하늘 ${Date.now() % 100000}`;
  await page.goto("/");
  await page.getByTestId("create-character").click();
  await expect(page).toHaveURL(/\/characters\/new$/);

  await page.getByTestId("image-input").setInputFiles({ name: "haneul.png", mimeType: "image/png", buffer: await portrait() });
  await expect(page.getByTestId("portrait-preview")).toHaveAttribute("src", /api%2Fimages|\/api\/images\//);
  await page.getByTestId("field-name").fill(name);
  await page.getByLabel("짧은 소개").fill("새벽 라디오 DJ. 사연을 읽어 주는 다정한 목소리");
  await page.getByTestId("field-persona").fill("{{char}}는 심야 라디오 DJ다. {{user}}의 사연을 다정하게 읽어 준다.");
  await page.getByTestId("field-greeting").fill("*헤드폰을 고쳐 쓰며* 오늘 밤 첫 사연의 주인공은 {{user}} 님이네요.");
  await page.getByTestId("field-tags").fill("라디오");
  await page.getByTestId("field-tags").press("Enter");
  await page.getByTestId("field-tags").fill("새벽감성");
  await page.getByTestId("field-tags").press("Enter");
  await page.getByLabel("카테고리").fill("힐링");
  await page.evaluate(() => window.scrollTo(0, 0));
  await keepScreenshot(page, "character-form-desktop");
  await page.getByTestId("save-character").click();

  await expect(page.getByTestId("character-name")).toHaveText(name);
  const characterUrl = page.url();
  await expect(page.getByTestId("visibility")).toHaveText("비공개");

  // In the gallery, under "mine", and found by a Korean substring of its description.
  await page.goto("/?scope=mine");
  await expect(page.getByTestId("character-grid")).toContainText(name);
  await page.goto("/");
  await page.getByTestId("gallery-search").fill("라디오 D");
  await expect(page.getByTestId("character-grid").getByTestId("character-card")).toHaveCount(1);
  await expect(page.getByTestId("character-grid")).toContainText(name);
  await keepScreenshot(page, "gallery-search-desktop");

  // Edit.
  await page.goto(characterUrl);
  await page.getByTestId("edit-character").click();
  await page.getByTestId("field-name").fill(`${name} DJ`);
  await page.getByTestId("save-character").click();
  await expect(page.getByTestId("character-name")).toHaveText(`${name} DJ`);

  // Export the PNG card: a real PNG with a V3 (and V2) card inside.
  const downloading = page.waitForEvent("download");
  await page.getByTestId("export-png").click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe(`${name} DJ.png`);
  const card = await readFile((await download.path())!);
  const chunks = readTextChunks(card).map((c) => c.keyword);
  expect(chunks).toEqual(expect.arrayContaining(["chara", "ccv3"]));

  // Import it back as a new character, and start a chat from it.
  await page.goto("/characters/import");
  await keepScreenshot(page, "import-desktop");
  await page.getByTestId("import-input").setInputFiles({ name: "card.png", mimeType: "image/png", buffer: card });
  await expect(page).not.toHaveURL(characterUrl);
  await expect(page.getByTestId("character-name")).toHaveText(`${name} DJ`);
  expect(page.url()).not.toBe(characterUrl);
  await page.getByTestId("start-chat").click();
  await page.waitForURL(/\/chat\//);
  await expect(page.getByTestId("message").first()).toContainText("오늘 밤 첫 사연의 주인공은");

  // Delete the original.
  await page.goto(characterUrl);
  await page.getByTestId("delete-character").click();
  await page.getByTestId("confirm").click();
  await page.waitForURL(/scope=mine/);
  await page.goto(characterUrl);
  await expect(page.getByText("찾을 수 없어요")).toBeVisible();
});

test("a file that is not a card is refused with the reason, and nothing is created", async ({ page }) => {
  await page.goto("/?scope=mine");
  await expect(page.getByTestId("gallery")).toHaveAttribute("data-state", "ready");
  const before = await page.getByTestId("character-card").count();
  await page.goto("/characters/import");
  await page.getByTestId("import-input").setInputFiles({ name: "notes.json", mimeType: "application/json", buffer: Buffer.from('{"spec":"something_else","data":{}}') });
  await expect(page.getByTestId("import-error")).toHaveText("지원하지 않는 카드 형식이에요 (Character Card V1, V2, V3만 지원해요).");
  await page.getByTestId("import-input").setInputFiles({ name: "photo.png", mimeType: "image/png", buffer: await portrait() });
  await expect(page.getByTestId("import-error")).toHaveText("이 PNG에는 캐릭터 카드가 들어 있지 않아요.");
  await page.goto("/?scope=mine");
  await expect(page.getByTestId("gallery")).toHaveAttribute("data-state", "ready");
  await expect(page.getByTestId("character-card")).toHaveCount(before);
});

test("presets can be duplicated and exported but not edited; the gallery filters by category", async ({ page }) => {
  await page.goto("/characters/preset-dohyun");
  await expect(page.getByTestId("edit-character")).toHaveCount(0);
  await expect(page.getByTestId("delete-character")).toHaveCount(0);
  await page.getByTestId("duplicate-character").click();
  await page.waitForURL(/\/edit$/);
  await expect(page.getByTestId("field-name")).toHaveValue("강도현 형사 (사본)");

  await page.goto("/?scope=presets");
  await page.getByTestId("facets").getByRole("button", { name: "SF", exact: true }).click();
  await expect(page).toHaveURL(/category=SF/);
  await expect(page.getByTestId("character-grid").getByTestId("character-card")).toHaveCount(1);
  await expect(page.getByTestId("character-grid")).toContainText("아리아");
  await page.getByRole("tab", { name: "전체" }).click();
  await page.getByTestId("facets").getByRole("button", { name: "SF", exact: true }).click();
  await expect(page.getByTestId("character-grid").getByTestId("character-card").nth(4)).toBeVisible();
  await page.getByTestId("gallery").scrollIntoViewIfNeeded();
  await page.evaluate(() => document.querySelector('[data-testid="gallery"]')?.scrollIntoView());
  await keepScreenshot(page, "gallery-desktop");

  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/");
  await page.getByTestId("gallery").scrollIntoViewIfNeeded();
  await keepScreenshot(page, "gallery-mobile");
  await page.goto("/characters/preset-dohyun");
  await keepScreenshot(page, "character-mobile");
  await page.goto("/characters/new");
  await expect(page.getByTestId("character-form")).toBeVisible();
  await keepScreenshot(page, "character-form-mobile");
});
