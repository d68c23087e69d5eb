import { CharacterPage } from "./pages/chat-room";
import { expect, test } from "./support/test";

test("a search hit opens its chat scrolled to the message, highlighted, and the search stays", async ({ page, fakes }) => {
  await fakes.ollama({ tokenDelayMs: 0 });
  await page.setViewportSize({ width: 1280, height: 700 });
  const chat = await new CharacterPage(page).open("preset-hermione").then(() => new CharacterPage(page).startChat());
  await expect(chat.lastReply()).toBeVisible();
  const word = `도서관열쇠${Date.now() % 100_000}`;
  await chat.send(`${word} 이야기를 들려줘.`);
  await chat.waitForReplyDone();
  // Enough conversation after it that the chat's bottom is far from it.
  for (let i = 0; i < 6; i++) {
    await chat.send(`다른 이야기 ${i}: 오늘 수업은 어땠어? 마법약 시간에 무슨 일이 있었는지 자세히 알려줘.`);
    await chat.waitForReplyDone();
  }
  await page.goto("/chat");
  await page.getByTestId("chat-search").fill(word);
  const hit = page.getByTestId("search-hit").first();
  await expect(hit).toBeVisible();
  await hit.click();
  await page.waitForURL(/\/chat\/[\w-]+\?m=/);
  const target = page.locator(`[data-testid="message"][data-message-id="${new URL(page.url()).searchParams.get("m")}"]`);
  await expect(target).toContainText(word);

  await expect(target).toBeInViewport();
  await expect(target).toHaveAttribute("data-highlighted", "");
  await expect(target).toBeFocused();
  // The newest reply is below, out of sight: the chat did not jump to the bottom.
  await expect(chat.lastReply()).not.toBeInViewport();
  // The search is still there, with its results.
  await expect(page.getByTestId("chat-search")).toHaveValue(word);
  await expect(page.getByTestId("search-hit").first()).toBeVisible();
});
