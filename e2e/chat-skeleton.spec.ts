import { fakeReply } from "./fakes/ollama";
import { CharacterPage, ChatRoomPage } from "./pages/chat-room";
import { expect, keepScreenshot, test } from "./support/test";

test("the home page shows the preset characters", async ({ page }) => {
  await page.goto("/?scope=presets");
  await expect(page.getByTestId("gallery")).toHaveAttribute("data-state", "ready");
  const cards = page.getByTestId("character-grid").getByTestId("character-card");
  expect(await cards.count()).toBeGreaterThanOrEqual(4);
  await expect(page.getByTestId("character-grid")).toContainText("헤르미온느 그레인저");
  await page.goto("/");
  await keepScreenshot(page, "home-desktop");

  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await expect(cards.first()).toBeVisible();
  await keepScreenshot(page, "home-mobile");
});

test("a person opens a preset, chats, sees the reply stream in, and finds it again after reload", async ({ page, fakes }) => {
  const character = new CharacterPage(page);
  await character.open("preset-hermione");
  await expect(page.getByTestId("character-name")).toHaveText("헤르미온느 그레인저");
  await expect(page.getByLabel("상황")).toHaveValue("저녁 식사 전, 도서관에서 숙제를 하다가 마주쳤다.");
  await keepScreenshot(page, "character-desktop");

  const chat = await character.startChat();
  await expect(chat.lastReply()).toContainText("고블린 반란 연표");

  await fakes.ollama({ tokenDelayMs: 120 });
  const question = "안녕, 헤르미온느! 오늘은 무슨 책을 읽고 있어?";
  // The page reports what the reader waited: Enter → the reply's first character on screen.
  const seen = page.waitForRequest((request) => request.url().includes("chat.seen"));
  await chat.send(question);
  await expect(chat.userMessages().last()).toHaveText(question);
  await expect(page.getByTestId("typing")).toBeVisible();
  await expect(page.getByTestId("stop")).toBeVisible();

  // Token by token: the reply is visible and growing before it is finished.
  const reply = chat.lastReply();
  await expect(reply).toHaveAttribute("data-status", "streaming");
  await expect.poll(async () => (await reply.innerText()).length).toBeGreaterThan(20);
  const partial = await reply.innerText();
  await expect.poll(async () => (await reply.innerText()).length).toBeGreaterThan(partial.length);
  await keepScreenshot(page, "chat-streaming-desktop");

  const reported = JSON.stringify((await seen).postDataJSON());
  const firstTokenMs = Number(/"firstTokenMs":(\d+)/.exec(reported)?.[1]);
  expect(firstTokenMs).toBeGreaterThan(0);
  await chat.waitForReplyDone();
  const expected = fakeReply([{ role: "user", content: question }]);
  const narration = expected.match(/^\*(.+?)\*/)?.[1] ?? "";
  await expect(reply).toContainText(expected.replace(/\*/g, ""));
  await expect(reply.locator("em[data-narration]").first()).toHaveText(narration);
  // Under the reply: the figure the reader experienced, not the server's.
  await expect(page.getByTestId("reply-stats")).toContainText(`${firstTokenMs} ms`);
  // The LLM names the chat after the first exchange; the heading follows without a reload.
  await expect(page.getByTestId("chat-heading-title")).toHaveText("안녕 헤르미온느 오늘은 무슨", { timeout: 10_000 });
  await keepScreenshot(page, "chat-desktop");

  await page.reload();
  const reloaded = new ChatRoomPage(page);
  await expect(reloaded.userMessages()).toHaveText([question]);
  await expect(reloaded.lastReply()).toContainText(expected.replace(/\*/g, ""));
  await expect(reloaded.messages).toHaveCount(3);

  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await expect(reloaded.lastReply()).toBeVisible();
  await expect(reloaded.composer).toBeInViewport();
  await keepScreenshot(page, "chat-mobile");
});

test("when the language model is down, the message is kept and the reply can be tried again", async ({ page, fakes }) => {
  const chat = await new CharacterPage(page).open("preset-aria").then(() => new CharacterPage(page).startChat());
  await fakes.ollama({ fault: "http500", faultCount: 1 });
  await chat.send("아리아, 항로 상태 알려줘");
  await expect(page.getByTestId("reply-error")).toBeVisible();
  await expect(chat.userMessages().last()).toHaveText("아리아, 항로 상태 알려줘");

  await page.getByTestId("retry").click();
  await chat.waitForReplyDone();
  await expect(chat.lastReply()).toContainText("아리아, 항로 상태 알려줘");
  await expect(page.getByTestId("reply-error")).toHaveCount(0);
});
