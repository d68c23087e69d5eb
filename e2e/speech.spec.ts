import { readFile } from "node:fs/promises";
import { CharacterPage } from "./pages/chat-room";
import { expect, test } from "./support/test";

const audioResponse = (url: string) => /\/api\/audio\/[0-9a-f]{64}$/.test(url);

test("a voice can be previewed, and its audio is served for seeking", async ({ page, request }) => {
  await page.goto("/voices");
  const row = page.getByTestId("preset-voices").getByTestId("voice-row").first();
  const listen = row.getByTestId("preview-voice");
  const served = page.waitForResponse((response) => audioResponse(response.url()));
  await listen.click();
  const audio = await served;
  expect([200, 206]).toContain(audio.status());
  await expect(listen).toHaveAttribute("aria-pressed", "true");
  // The sample line is short: it plays to the end and the button is ready again.
  await expect(listen).toHaveAttribute("aria-pressed", "false", { timeout: 15_000 });

  const url = new URL(audio.url()).pathname;
  const whole = await request.get(url);
  expect(whole.status()).toBe(200);
  expect(whole.headers()["cache-control"]).toContain("immutable");
  const etag = whole.headers()["etag"]!;
  expect(etag).toBe(`"${url.split("/").at(-1)}"`);
  expect((await whole.body()).subarray(0, 4).toString("latin1")).toBe("RIFF");
  const part = await request.get(url, { headers: { range: "bytes=0-43" } });
  expect(part.status()).toBe(206);
  expect(part.headers()["content-range"]).toMatch(/^bytes 0-43\/\d+$/);
  expect((await part.body()).length).toBe(44);
  expect((await request.get(url, { headers: { "if-none-match": etag } })).status()).toBe(304);
});

test("a reply is read aloud in the character's voice, and reading can be stopped", async ({ page, fakes }) => {
  const chat = await new CharacterPage(page).open("preset-aria").then(() => new CharacterPage(page).startChat());
  const greeting = chat.lastReply();
  await expect(greeting).toBeVisible();
  const speak = greeting.getByTestId("speak");
  await fakes.sovits({ latencyMs: 50 });
  const served = page.waitForResponse((response) => audioResponse(response.url()));
  await speak.click();
  await served;
  await expect(speak).toHaveAttribute("aria-pressed", "true");
  await expect(speak).toHaveAccessibleName("읽기 멈추기");
  await speak.click();
  await expect(speak).toHaveAttribute("aria-pressed", "false");

  // Heard before: it plays from the caches (the app's and the browser's) even while the voice
  // server fails.
  await fakes.sovits({ fault: "tts-failed", faultCount: null });
  await speak.click();
  await expect(speak).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByTestId("send-error")).toHaveCount(0);
  await speak.click();

  // A new reply can't be spoken while it fails: the chat says so in a sentence, the reply stays.
  await chat.send("오늘 항해 일지를 읽어 줄래?");
  const reply = chat.lastReply();
  await expect(reply.getByTestId("message-text")).toContainText("오늘 항해 일지를 읽어 줄래?");
  await chat.waitForReplyDone();
  await reply.getByTestId("speak").click();
  await expect(page.getByTestId("send-error")).toContainText("음성 서버가 이 문장을 읽지 못했어요");
  await expect(reply.getByTestId("speak")).toHaveAttribute("aria-pressed", "false");
});

test("in realtime mode the character starts speaking while the reply is still being written", async ({ page, fakes }) => {
  const chat = await new CharacterPage(page).open("preset-aria").then(() => new CharacterPage(page).startChat());
  await page.getByTestId("open-settings").click();
  await page.getByTestId("tts-mode").selectOption("realtime");
  await expect(page.getByTestId("chat-settings")).toContainText("답장이 쓰이는 동안 문장마다 바로 말하기 시작해요");
  await page.getByTestId("chat-settings").getByRole("button", { name: "닫기" }).click();

  const unique = crypto.randomUUID().slice(0, 6);
  await fakes.ollama({
    tokenDelayMs: 120,
    reply: `*계기판을 확인하며* 항로는 안정적이에요 ${unique}. 연료도 충분하고요. 다음 정거장까지 사흘이면 도착해요. 그때까지 쉬셔도 좋아요.`,
  });
  const firstAudio = page.waitForResponse((response) => audioResponse(response.url()));
  await chat.send("항해 상황을 알려 줘");
  await firstAudio;
  await expect(chat.lastReply().getByTestId("message-text")).toContainText("항로는 안정적이에요");
  // The first sentence is already heard while the reply is still streaming.
  await expect(page.getByTestId("typing")).toBeVisible();
  await chat.waitForReplyDone();
  const speak = chat.lastReply().getByTestId("speak");
  await expect(speak).toHaveAttribute("aria-pressed", "true");
  await speak.click();
  await expect(speak).toHaveAttribute("aria-pressed", "false");

  // The whole reply can be kept as one file.
  const download = page.waitForEvent("download");
  await chat.lastReply().getByTestId("download-audio").click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/\.wav$/);
  const saved = await readFile((await file.path())!);
  expect(saved.subarray(0, 4).toString("latin1")).toBe("RIFF");
  expect(saved.length).toBeGreaterThan(44);

  // Its sentences stay with the reply: played again from the stored clips.
  await page.reload();
  await chat.lastReply().getByTestId("speak").click();
  await expect(chat.lastReply().getByTestId("speak")).toHaveAttribute("aria-pressed", "true");
});
