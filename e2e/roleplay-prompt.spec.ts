import { CharacterFormPage, expectNoHorizontalScroll } from "./pages/characters";
import { expect, keepScreenshot, test } from "./support/test";

const CAT_LORE = "서점에는 '먼지'라는 회색 고양이가 산다. 낯선 사람을 보면 책장 위로 숨는다.";

test("a lorebook entry made in the form joins the prompt once its keyword is said, as the prompt inspector shows", async ({ page }) => {
  const name = `서점 점원 ${Date.now() % 100000}`;
  const form = new CharacterFormPage(page);
  await form.openNew();
  await form.fill({ name, persona: "{{char}}는 작은 서점의 점원이다. {{user}}를 반갑게 맞는다.", greeting: "어서 오세요, {{user}}님!" });
  await page.getByTestId("field-personality").fill("차분하고 다정함");
  await page.getByTestId("field-creator-notes").fill("비 오는 날 어울리는 잔잔한 대화 캐릭터예요.");

  const lorebook = page.getByTestId("lorebook-editor");
  await lorebook.getByTestId("lorebook-add").click();
  const entry = lorebook.getByTestId("lorebook-entry");
  await expect(entry).toHaveCount(1);
  await entry.getByTestId("lorebook-entry-name").fill("고양이");
  await entry.getByTestId("lorebook-entry-keys").fill("고양이");
  await entry.getByTestId("lorebook-entry-keys").press("Enter");
  await entry.getByTestId("lorebook-entry-keys").fill("먼지,");
  await expect(entry.getByTestId("lorebook-key")).toHaveText(["고양이", "먼지"]);
  await entry.getByTestId("lorebook-entry-content").fill(CAT_LORE);
  await entry.getByLabel("단어 단위").check();
  await lorebook.scrollIntoViewIfNeeded();
  await keepScreenshot(page, "lorebook-editor-desktop");
  await page.setViewportSize({ width: 390, height: 844 });
  await lorebook.scrollIntoViewIfNeeded();
  await expectNoHorizontalScroll(page);
  await keepScreenshot(page, "lorebook-editor-mobile");
  await page.setViewportSize({ width: 1280, height: 800 });

  const character = await form.save();
  await expect(page.getByTestId("creator-notes")).toContainText("비 오는 날 어울리는");

  // The form reads back what was saved.
  const edit = await character.edit();
  await expect(edit.form.getByTestId("lorebook-key")).toHaveText(["고양이", "먼지"]);
  await expect(edit.form.getByTestId("lorebook-entry-content")).toHaveValue(CAT_LORE);
  await expect(page.getByTestId("field-personality")).toHaveValue("차분하고 다정함");
  await page.goBack();

  const chat = await character.startChat();
  await chat.send("안녕하세요, 책 좀 보러 왔어요.");
  await chat.waitForReplyDone();

  await page.getByTestId("open-settings").click();
  await page.getByTestId("open-prompt-inspector").click();
  const inspector = page.getByTestId("prompt-inspector");
  await expect(inspector).toBeVisible();
  const lore = inspector.getByTestId("lore-entry");
  await expect(lore).toHaveAttribute("data-active", "false");
  await expect(lore.getByTestId("lore-entry-status")).toContainText("비활성");
  await expect(inspector.locator('[data-testid="prompt-section"][data-part="world_info"]')).toHaveCount(0);
  await expect(inspector.locator('[data-testid="prompt-section"][data-part="character"]')).toContainText("Personality: 차분하고 다정함");
  await page.keyboard.press("Escape");
  await expect(inspector).toHaveCount(0);

  // Said with a particle after it, the whole-word Korean keyword still matches.
  await chat.send("혹시 고양이를 키우세요?");
  await chat.waitForReplyDone();
  await page.getByTestId("open-prompt-inspector").click();
  await expect(lore).toHaveAttribute("data-active", "true");
  await expect(lore.getByTestId("lore-entry-status")).toContainText("키워드 “고양이”");
  await expect(inspector.locator('[data-testid="prompt-section"][data-part="world_info"]')).toContainText(CAT_LORE);
  await expect(inspector.getByTestId("prompt-inspector-total")).toContainText("/");
  await keepScreenshot(page, "prompt-inspector-desktop");
  await page.keyboard.press("Escape");

  // The author's note goes where its depth says: 0 is after the last message.
  await page.getByTestId("author-note-text").fill("{{char}}의 대답은 짧다.");
  await page.getByTestId("author-note-depth").fill("0");
  await page.getByTestId("author-note-save").click();
  await expect(page.getByTestId("author-note-save")).toBeDisabled();
  await page.getByTestId("open-prompt-inspector").click();
  const last = inspector.getByTestId("prompt-message").last();
  await expect(last).toHaveAttribute("data-part", "author_note");
  await expect(last).toContainText(`${name}의 대답은 짧다.`);

  await page.setViewportSize({ width: 390, height: 844 });
  await expect(inspector).toBeVisible();
  await expectNoHorizontalScroll(page);
  await keepScreenshot(page, "prompt-inspector-mobile");
});
