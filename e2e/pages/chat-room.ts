import { expect, type Locator, type Page } from "@playwright/test";

export class ChatRoomPage {
  readonly composer: Locator;
  readonly messages: Locator;

  constructor(readonly page: Page) {
    this.composer = page.getByTestId("composer");
    this.messages = page.getByTestId("message");
  }

  lastReply() {
    return this.page.locator('[data-testid="message"][data-role="assistant"]').last();
  }

  /** The text of each of the user's messages (without the action buttons). */
  userMessages() {
    return this.page.locator('[data-testid="message"][data-role="user"] [data-testid="message-text"]');
  }

  replyText() {
    return this.lastReply().getByTestId("message-text");
  }

  /**
   * Types and sends a message once the chat can take it (a reply just finished may still be
   * settling), and waits until the page took it (whatever the server then says).
   */
  async send(text: string) {
    await expect(this.page.getByTestId("chat-room")).toHaveAttribute("data-busy", "false", { timeout: 30_000 });
    const room = this.page.getByTestId("chat-room");
    const before = Number(await room.getAttribute("data-sends"));
    await this.composer.fill(text);
    await this.composer.press("Enter");
    await expect(room).toHaveAttribute("data-sends", String(before + 1));
  }

  /** The chat is idle again (nothing sent or written) and its last reply is complete. */
  async waitForReplyDone() {
    await expect(this.page.getByTestId("chat-room")).toHaveAttribute("data-busy", "false", { timeout: 30_000 });
    await expect(this.page.getByTestId("typing")).toHaveCount(0, { timeout: 30_000 });
    await expect(this.lastReply()).toHaveAttribute("data-status", "complete");
  }
}

export class CharacterPage {
  constructor(readonly page: Page) {}

  async open(id: string) {
    await this.page.goto(`/characters/${id}`);
  }

  async startChat() {
    await this.page.getByTestId("start-chat").click();
    await this.page.waitForURL(/\/chat\/[\w-]+$/);
    return new ChatRoomPage(this.page);
  }
}
