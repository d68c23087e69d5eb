import { fakeReply } from "./fakes/ollama";
import { CharacterPage, ChatRoomPage } from "./pages/chat-room";
import { expect, keepScreenshot, test } from "./support/test";

/** A fresh chat with a preset, ready to type in. */
async function startChat(page: import("@playwright/test").Page, characterId = "preset-minho") {
  const character = new CharacterPage(page);
  await character.open(characterId);
  return character.startChat();
}

const plain = (text: string) => text.replace(/\*/g, "");

test("Stop ends the reply at the model and keeps what was written, marked stopped", async ({ page, fakes }) => {
  const chat = await startChat(page);
  await fakes.ollama({ tokenDelayMs: 150 });
  const before = await fakes.ollamaStats();
  await chat.send("선배, 재귀 함수를 아주 길게 설명해 주세요");
  await expect.poll(async () => (await chat.replyText().innerText()).length).toBeGreaterThan(8);
  await page.getByTestId("stop").click();

  await expect(chat.lastReply()).toHaveAttribute("data-status", "stopped");
  await expect(chat.lastReply().getByTestId("stopped-mark")).toBeVisible();
  await expect.poll(async () => (await fakes.ollamaStats()).abortedChatStreams).toBe(before.abortedChatStreams + 1);
  const kept = await chat.replyText().innerText();
  // A reply cut inside *narration* shows its opening asterisk: compare without them.
  expect(plain(fakeReply([{ role: "user", content: "선배, 재귀 함수를 아주 길게 설명해 주세요" }])).startsWith(plain(kept).trim())).toBe(true);

  // Still there after a reload.
  await page.reload();
  await expect(new ChatRoomPage(page).lastReply()).toHaveAttribute("data-status", "stopped");
});

test("a reload in the middle of a reply picks it up and finishes it, without losing or repeating text", async ({ page, fakes }) => {
  const chat = await startChat(page);
  // Slow enough that the reply is still being written when the reloaded page is up, even on a
  // busy machine.
  await fakes.ollama({ tokenDelayMs: 300 });
  const question = "선배, 오늘 도서관 몇 시까지 열어요?";
  await chat.send(question);
  await expect.poll(async () => (await chat.replyText().innerText()).length).toBeGreaterThan(10);
  await page.reload();

  const resumed = new ChatRoomPage(page);
  await expect(page.getByTestId("typing")).toBeVisible();
  await resumed.waitForReplyDone();
  await expect(resumed.replyText()).toHaveText(plain(fakeReply([{ role: "user", content: question }])));
  await expect(resumed.userMessages()).toHaveText([question]);
});

test("regenerate gives another answer; the arrows switch between them", async ({ page, fakes }) => {
  const chat = await startChat(page, "preset-seoyun");
  await chat.send("오늘의 추천 메뉴는 뭐예요?");
  await chat.waitForReplyDone();
  const first = plain(fakeReply([{ role: "user", content: "오늘의 추천 메뉴는 뭐예요?" }]));
  await expect(chat.replyText()).toHaveText(first);

  await fakes.ollama({ reply: "*메뉴판을 가리키며* 오늘은 유자 에이드를 추천해요!" });
  await chat.lastReply().getByTestId("regenerate").click();
  await chat.waitForReplyDone();
  await expect(chat.replyText()).toHaveText("메뉴판을 가리키며 오늘은 유자 에이드를 추천해요!");
  await expect(chat.lastReply().getByTestId("swipe-position")).toHaveText("2/2");

  await chat.lastReply().getByTestId("swipe-previous").click();
  await expect(chat.lastReply().getByTestId("swipe-position")).toHaveText("1/2");
  await expect(chat.replyText()).toHaveText(first);
  await chat.lastReply().getByTestId("swipe-next").click();
  await expect(chat.lastReply().getByTestId("swipe-position")).toHaveText("2/2");
  await keepScreenshot(page, "chat-swipes-desktop");
});

test("editing a message answers it again from there", async ({ page }) => {
  const chat = await startChat(page, "preset-aria");
  await chat.send("아리아, 목적지까지 얼마나 남았어?");
  await chat.waitForReplyDone();

  const mine = page.locator('[data-testid="message"][data-role="user"]').last();
  await mine.hover();
  await mine.getByTestId("edit").click();
  await page.getByTestId("edit-input").fill("아리아, 엔진 상태는 어때?");
  await page.getByTestId("edit-save").click();
  await chat.waitForReplyDone();
  await expect(chat.userMessages()).toHaveText(["아리아, 엔진 상태는 어때?"]);
  await expect(chat.replyText()).toContainText("엔진 상태는 어때?");
});

test("the sidebar lists, searches, renames and deletes chats", async ({ page }) => {
  const chat = await startChat(page, "preset-sunja");
  await chat.send("할머니, 된장찌개 비법 알려주세요");
  await chat.waitForReplyDone();
  const sessionId = page.url().split("/chat/")[1]!;
  const row = page.locator(`[data-testid="chat-row"][data-session-id="${sessionId}"]`);
  await expect(row).toBeVisible();
  // The chat is named from the first exchange.
  await expect(row.getByTestId("chat-title")).toHaveText("할머니 된장찌개 비법 알려주세요");

  await page.getByTestId("chat-search").fill("장찌개 비");
  await expect(page.getByTestId("search-results")).toContainText("된장찌개 비법");
  await page.getByTestId("chat-search").fill("");

  await row.hover();
  await row.getByTestId("rename-chat").click();
  await page.getByTestId("rename-input").fill("할머니 손맛 레시피");
  await page.getByTestId("rename-input").press("Enter");
  await expect(row.getByTestId("chat-title")).toHaveText("할머니 손맛 레시피");

  await page.getByTestId("open-settings").click();
  await expect(page.getByTestId("chat-settings")).toBeVisible();
  await expect(page.getByTestId("model-select")).toHaveValue("qwen2.5:7b");
  await expect(page.getByTestId("chat-stats")).toBeVisible();
  await keepScreenshot(page, "chat-settings-desktop");
  await page.getByTestId("open-settings").click();

  await row.hover();
  await row.getByTestId("delete-chat").click();
  await page.getByTestId("confirm").click();
  await expect(page).toHaveURL(/\/chat$/);
  await expect(page.locator(`[data-testid="chat-row"][data-session-id="${sessionId}"]`)).toHaveCount(0);

  await page.setViewportSize({ width: 390, height: 844 });
  await keepScreenshot(page, "chats-mobile");
});
