import { ChatRoomPage, CharacterPage } from "./pages/chat-room";
import { devSignedIn } from "./pages/sign-in";
import { expect, test } from "./support/test";

// An account of its own: its defaults must not reach the shared signed-in user's chats.
test.use({ storageState: { cookies: [], origins: [] } });

/** 40 word-sized tokens: longer than the 16-token reply length below. */
const LONG_REPLY = Array.from({ length: 20 }, (_, i) => `문장${i + 1}을 천천히`).join(" ");

test("defaults from Settings start new chats, and a reply cut at that length is continued in place", async ({ browser, baseURL, fakes }) => {
  const { context, page } = await devSignedIn(browser, baseURL!, `defaults-${crypto.randomUUID()}@example.com`);

  // Settings: the shortest reply length and no speech, for every new chat.
  await page.goto("/settings");
  const defaults = page.getByTestId("defaults");
  await defaults.getByTestId("default-max-tokens").fill("16");
  await defaults.getByTestId("default-tts-mode").selectOption("off");
  await defaults.getByTestId("save-defaults").click();
  await expect(defaults.getByRole("status")).toBeVisible();
  await page.reload();
  await expect(page.getByTestId("default-max-tokens")).toHaveValue("16");

  // A new chat starts with them.
  const character = new CharacterPage(page);
  await character.open("preset-minho");
  const chat: ChatRoomPage = await character.startChat();
  await page.getByTestId("open-settings").click();
  await expect(page.getByTestId("max-tokens")).toHaveValue("16");
  await expect(page.getByTestId("tts-mode")).toHaveValue("off");
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("chat-settings")).toHaveCount(0);

  // The model stops at 16 tokens: the reply says it was cut off and offers to go on.
  await fakes.ollama({ reply: LONG_REPLY });
  await chat.send("선배, 길게 이야기해 주세요");
  await expect(page.getByTestId("typing")).toHaveCount(0, { timeout: 30_000 });
  await expect(chat.lastReply().getByTestId("cut-off-mark")).toBeVisible();
  const cut = await chat.replyText().innerText();
  expect(cut.split(/\s+/).length).toBeLessThan(LONG_REPLY.split(/\s+/).length);

  // Continue: the same message grows from where it stopped (no new bubble).
  const replies = page.locator('[data-testid="message"][data-role="assistant"]');
  const count = await replies.count();
  await chat.lastReply().getByTestId("continue").click();
  await expect(page.getByTestId("typing")).toHaveCount(0, { timeout: 30_000 });
  await expect.poll(async () => (await chat.replyText().innerText()).length).toBeGreaterThan(cut.length);
  expect((await chat.replyText().innerText()).startsWith(cut.trim())).toBe(true);
  await expect(replies).toHaveCount(count);
  await context.close();
});
