import { CharacterFormPage, headerSettled } from "./pages/characters";
import { expect, keepScreenshot, test } from "./support/test";

test("add a voice, pick it for a character, delete it", async ({ page }) => {
  const name = `내 목소리 ${Date.now() % 100000}`;
  await page.goto("/voices");
  await expect(page.getByTestId("preset-voices").getByTestId("voice-row")).toHaveCount(4);
  await page.getByTestId("new-voice").click();
  await page.getByTestId("voice-name").fill(name);
  await page.getByTestId("voice-path").fill("presets/my_voice.wav");
  await page.getByTestId("voice-transcript").fill("안녕하세요, 오늘 날씨가 참 좋네요.");
  await page.getByLabel("문장 나누기 방식").selectOption({ label: "문장 부호마다" });
  await headerSettled(page);
  await keepScreenshot(page, "voices-desktop");
  await page.getByTestId("save-voice").click();
  await expect(page.getByTestId("my-voices")).toContainText(name);
  await expect(page.getByTestId("my-voices")).toContainText("presets/my_voice.wav");

  const form = new CharacterFormPage(page);
  await form.openNew();
  await expect(form.voicePicker.locator("option", { hasText: name })).toHaveCount(1);
  await expect(form.voicePicker.locator("option").first()).toContainText("기본 목소리 · ");

  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/voices");
  await expect(page.getByTestId("my-voices")).toContainText(name);
  await headerSettled(page);
  await keepScreenshot(page, "voices-mobile");
  const row = page.getByTestId("my-voices").getByTestId("voice-row").filter({ hasText: name });
  const deleteButton = row.getByRole("button", { name: `${name} 삭제` });
  await deleteButton.click();
  // The question keeps the keyboard: focus starts on Cancel and Tab cycles inside the dialog.
  const dialog = page.getByRole("alertdialog");
  await expect(dialog.getByRole("button", { name: "취소" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(dialog.getByTestId("confirm")).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(dialog.getByRole("button", { name: "취소" })).toBeFocused();
  await page.keyboard.press("Shift+Tab");
  await expect(dialog.getByTestId("confirm")).toBeFocused();
  // Escape cancels and gives focus back to the button that opened it.
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await expect(deleteButton).toBeFocused();
  await deleteButton.click();
  await dialog.getByTestId("confirm").click();
  await expect(page.getByTestId("my-voices")).not.toContainText(name);
});

test("a voice needs its path on the TTS server", async ({ page }) => {
  await page.goto("/voices");
  await page.getByTestId("new-voice").click();
  await page.getByTestId("voice-name").fill("경로 없는 목소리");
  await page.getByTestId("voice-path").fill("   ");
  await page.getByTestId("save-voice").click();
  // Said in the reader's language, not the schema's English.
  await expect(page.getByTestId("voice-form")).toContainText("음성 서버의 참조 음성 경로를 입력해 주세요.");
  await expect(page.getByTestId("my-voices")).not.toContainText("경로 없는 목소리");
});

test("a voice's reference audio must be a file in the directory the server allows", async ({ page }) => {
  await page.goto("/voices");
  await page.getByTestId("new-voice").click();
  await expect(page.getByTestId("voice-path-dir")).toContainText("“presets/”");
  await page.getByTestId("voice-name").fill("바깥 경로 목소리");
  await page.getByTestId("voice-path").fill("presets/../../etc/passwd");
  await page.getByTestId("save-voice").click();
  await expect(page.getByTestId("voice-form")).toContainText("참조 음성은 음성 서버의 “presets/” 폴더 안에 있는 파일이어야 해요.");
  await expect(page.getByTestId("my-voices")).not.toContainText("바깥 경로 목소리");
});
