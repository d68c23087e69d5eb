import { CharacterPage } from "./pages/chat-room";
import { expect, keepScreenshot, test } from "./support/test";

test("with the model busy on another reply, a chat shows its place in line, then its reply", async ({ page, context, fakes }) => {
  // The fake Ollama writes one reply at a time, like the real one by default.
  const startChat = async (tab: typeof page, characterId: string) => {
    const character = new CharacterPage(tab);
    await character.open(characterId);
    return character.startChat();
  };
  const first = await startChat(page, "preset-minho");
  const other = await context.newPage();
  const second = await startChat(other, "preset-aria");

  await fakes.ollama({ tokenDelayMs: 120 });
  await first.send("선배, 재귀 함수를 아주 길게 설명해 주세요");
  await expect.poll(async () => (await first.replyText().innerText()).length).toBeGreaterThan(5);

  await second.send("함장님, 오늘 항로는요?");
  const stage = other.getByTestId("reply-stage");
  await expect(stage).toHaveAttribute("data-stage", "queued");
  await expect(stage).toContainText("모델을 기다리는 중");
  await keepScreenshot(other, "chat-queued-desktop");

  await fakes.ollama({ tokenDelayMs: 5 });
  await expect(first.lastReply()).toHaveAttribute("data-status", "complete", { timeout: 30_000 });
  await expect(second.lastReply()).toHaveAttribute("data-status", "complete", { timeout: 30_000 });
  await expect(second.replyText()).not.toBeEmpty();
  await expect(other.getByTestId("reply-stage")).toHaveCount(0);
});
