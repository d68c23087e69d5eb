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

/** The bubble of one of the user's messages, by what it says. */
const mine = (page: import("@playwright/test").Page, text: string) =>
  page.locator('[data-testid="message"][data-role="user"]').filter({ has: page.getByTestId("message-text").getByText(text, { exact: true }) });

test("editing a message keeps the conversation; answering again from there offers a branch first", async ({ page }) => {
  const chat = await startChat(page, "preset-aria");
  await chat.send("아리아, 목적지까지 얼마나 남았어?");
  await chat.waitForReplyDone();
  await chat.send("연료는 충분해?");
  await chat.waitForReplyDone();
  const original = page.url();
  const originalId = original.split("/chat/")[1]!;

  // Save: only the text changes, nothing after it goes.
  const first = mine(page, "아리아, 목적지까지 얼마나 남았어?");
  await first.hover();
  await first.getByTestId("edit").click();
  await page.getByTestId("edit-input").fill("아리아, 다음 항구까지 얼마나 남았어?");
  await page.getByTestId("edit-save").click();
  await expect(chat.userMessages()).toHaveText(["아리아, 다음 항구까지 얼마나 남았어?", "연료는 충분해?"]);
  await expect(page.locator('[data-testid="message"][data-role="assistant"]')).toHaveCount(3); // greeting and two replies

  // Save and answer again: the three later messages would go, so it asks, with Branch focused.
  const edited = mine(page, "아리아, 다음 항구까지 얼마나 남았어?");
  await edited.hover();
  await edited.getByTestId("edit").click();
  await page.getByTestId("edit-input").fill("아리아, 엔진 상태는 어때?");
  await page.getByTestId("edit-answer-again").click();
  const dialog = page.getByTestId("confirm-dialog");
  await expect(dialog).toContainText("3");
  await expect(dialog.getByTestId("confirm-alternative")).toBeFocused();
  await keepScreenshot(page, "chat-branch-question-desktop");
  await page.keyboard.press("Enter");

  // A new chat that shares the history up to there, answered there; the original is untouched.
  await page.waitForURL((url) => url.pathname.startsWith("/chat/") && url.href !== original);
  const branched = new ChatRoomPage(page);
  await branched.waitForReplyDone();
  await expect(branched.userMessages()).toHaveText(["아리아, 엔진 상태는 어때?"]);
  await expect(branched.replyText()).toContainText("엔진 상태는 어때?");
  const branchId = page.url().split("/chat/")[1]!;
  const branchRow = page.locator(`[data-testid="chat-row"][data-session-id="${branchId}"]`);
  await expect(branchRow).toHaveAttribute("data-parent-id", originalId);
  await expect(branchRow.getByTestId("branch-mark")).toBeVisible();

  await page.goto(original);
  await expect(chat.userMessages()).toHaveText(["아리아, 다음 항구까지 얼마나 남았어?", "연료는 충분해?"]);

  // Or remove the later messages and answer in this chat, once the user says so.
  const last = mine(page, "연료는 충분해?");
  await last.hover();
  await last.getByTestId("edit").click();
  await page.getByTestId("edit-input").fill("산소는 충분해?");
  await page.getByTestId("edit-answer-again").click();
  await expect(page.getByTestId("confirm-dialog")).toContainText("1");
  await page.getByTestId("confirm").click();
  await chat.waitForReplyDone();
  await expect(chat.userMessages()).toHaveText(["아리아, 다음 항구까지 얼마나 남았어?", "산소는 충분해?"]);
  await expect(chat.replyText()).toContainText("산소는 충분해?");
  expect(page.url()).toBe(original);
});

test("the character's messages can be edited, → past the last alternative writes a new one, and a deleted message takes its reply along", async ({ page, fakes }) => {
  const chat = await startChat(page, "preset-seoyun");
  await chat.send("오늘 날씨 어때요?");
  await chat.waitForReplyDone();

  // → on the only alternative writes another.
  await fakes.ollama({ reply: "*창밖을 보며* 비가 올 것 같아요." });
  await chat.lastReply().hover();
  await expect(chat.lastReply().getByTestId("swipe-position")).toHaveText("1/1");
  await chat.lastReply().getByTestId("swipe-next").click();
  await chat.waitForReplyDone();
  await expect(chat.lastReply().getByTestId("swipe-position")).toHaveText("2/2");
  await expect(chat.replyText()).toHaveText("창밖을 보며 비가 올 것 같아요.");

  // The character's words, rewritten by the user, stay after a reload.
  await chat.lastReply().hover();
  await chat.lastReply().getByTestId("edit").click();
  await page.getByTestId("edit-input").fill("*우산을 건네며* 우산 챙기세요!");
  await page.getByTestId("edit-save").click();
  await expect(chat.replyText()).toHaveText("우산을 건네며 우산 챙기세요!");
  await page.reload();
  await expect(new ChatRoomPage(page).replyText()).toHaveText("우산을 건네며 우산 챙기세요!");

  // Deleting the question removes its answer (both alternatives) too: no two replies in a row.
  const question = mine(page, "오늘 날씨 어때요?");
  await question.hover();
  await question.getByTestId("delete-message").click();
  await page.getByTestId("confirm").click();
  await expect(chat.userMessages()).toHaveCount(0);
  await expect(page.locator('[data-testid="message"][data-role="assistant"]')).toHaveCount(1); // the greeting
});

test("the chat menu starts a new chat with the character and clears this one", async ({ page }) => {
  const chat = await startChat(page, "preset-minho");
  await chat.send("선배, 시험 범위 알려 주세요");
  await chat.waitForReplyDone();
  const first = page.url();
  const character = await page.getByTestId("chat-character").innerText();

  await page.getByTestId("chat-menu").click();
  await page.getByTestId("chat-menu-clear").click();
  await page.getByTestId("confirm").click();
  await expect(chat.userMessages()).toHaveCount(0);
  await expect(page.locator('[data-testid="message"][data-role="assistant"]')).toHaveCount(1);

  await page.getByTestId("chat-menu").click();
  await page.getByTestId("chat-menu-new").click();
  await page.waitForURL((url) => url.pathname.startsWith("/chat/") && url.href !== first);
  await expect(page.getByTestId("chat-character")).toHaveText(character);
  await expect(new ChatRoomPage(page).userMessages()).toHaveCount(0);
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
