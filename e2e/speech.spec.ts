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
  // Sentence by sentence to the end (a reading stopped early leaves its later sentences unspoken).
  await expect(speak).toHaveAttribute("aria-pressed", "false", { timeout: 30_000 });
  await expect(page.getByTestId("send-error")).toHaveCount(0);
  await speak.click();
  await expect(speak).toHaveAttribute("aria-pressed", "true");
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
    tokenDelayMs: 250,
    reply: `*계기판을 확인하며* 항로는 안정적이에요 ${unique}. 연료도 충분하고요. 다음 정거장까지 사흘이면 도착해요. 그때까지 쉬셔도 좋아요.`,
  });
  const firstAudio = page.waitForRequest((request) => audioResponse(request.url()));
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

/** Counts the audio the page starts playing (window.__plays), from the first script on. */
async function countPlays(page: import("@playwright/test").Page) {
  await page.addInitScript(() => {
    const counted = window as unknown as { __plays: number };
    counted.__plays = 0;
    const play = HTMLMediaElement.prototype.play;
    HTMLMediaElement.prototype.play = function (this: HTMLMediaElement) {
      counted.__plays += 1;
      return play.call(this);
    };
  });
  return () => page.evaluate(() => (window as unknown as { __plays: number }).__plays);
}

test("delayed speech reads the reply after the wait, and nothing is read once the chat is left", async ({ page, fakes }) => {
  const plays = await countPlays(page);
  const chat = await new CharacterPage(page).open("preset-aria").then(() => new CharacterPage(page).startChat());
  await page.getByTestId("open-settings").click();
  const saved = () => page.waitForResponse((response) => response.url().includes("sessions.update"));
  const modeSaved = saved();
  await page.getByTestId("tts-mode").selectOption("delayed");
  await modeSaved;
  const delay = page.getByTestId("tts-delay");
  await delay.fill("2");
  const delaySaved = saved();
  await delay.blur();
  await delaySaved;
  await page.getByTestId("chat-settings").getByRole("button", { name: "닫기" }).click();
  const readings: string[] = [];
  page.on("request", (request) => {
    if (request.url().includes("chat.speak")) readings.push(request.url());
  });

  // Staying in the chat: the reply is read after the wait.
  await fakes.ollama({ reply: `잠시 뒤에 읽을 답장이에요 ${crypto.randomUUID().slice(0, 6)}. 조금만 기다려요.` });
  await chat.send("천천히 읽어 줘");
  await expect(chat.replyText()).toContainText("조금만 기다려요.");
  await chat.waitForReplyDone();
  const playsBefore = await plays();
  await expect.poll(() => readings.length, { timeout: 10_000 }).toBe(1);
  await expect(chat.lastReply().getByTestId("speak")).toHaveAttribute("aria-pressed", "true");
  // The button shows the reading at once; the first clip plays once it is synthesised.
  await expect.poll(plays, { timeout: 10_000 }).toBeGreaterThan(playsBefore);

  // Leaving before the wait is over: it is never read.
  await fakes.ollama({ reply: `아무도 듣지 않을 답장이에요 ${crypto.randomUUID().slice(0, 6)}. 끝이에요.` });
  await chat.send("이번엔 나갈게");
  await expect(chat.replyText()).toContainText("끝이에요.");
  await chat.waitForReplyDone();
  await page.getByTestId("nav-voices").click();
  await page.waitForURL(/\/voices$/);
  const playsWhenLeft = await plays();
  // Past the wait (2 s) with room to spare: a forgotten timer would have asked for the reading by now.
  await page.waitForTimeout(3_500);
  expect(readings).toHaveLength(1);
  expect(await plays()).toBe(playsWhenLeft);
});

test("a voice server whose synthesis fails with silence is said in a sentence, and the silence is not kept", async ({ page, fakes }) => {
  const chat = await new CharacterPage(page).open("preset-aria").then(() => new CharacterPage(page).startChat());
  await fakes.ollama({ reply: `처음 듣는 문장이에요 ${crypto.randomUUID().slice(0, 6)}. 두 번째 문장이에요.` });
  await chat.send("읽어 줄 수 있어?");
  await expect(chat.replyText()).toContainText("두 번째 문장이에요.");
  await chat.waitForReplyDone();
  const speak = chat.lastReply().getByTestId("speak");

  // api_v2's answer to a failed inference: 200 with a second of 16 kHz silence.
  await fakes.sovits({ fault: "inference-error", faultCount: null });
  await speak.click();
  await expect(page.getByTestId("send-error")).toContainText("음성 서버가 이 문장을 읽지 못했어요");
  await expect(speak).toHaveAttribute("aria-pressed", "false");

  // The server recovers: the sentence is spoken for real (nothing of the failure was cached).
  await fakes.sovits({ fault: "none", faultCount: null });
  const served = page.waitForResponse((response) => audioResponse(response.url()));
  await speak.click();
  expect([200, 206]).toContain((await served).status());
  await expect(speak).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByTestId("send-error")).toHaveCount(0);
});

test("with streaming on, a sentence starts playing while it is still being synthesised, and is kept for replay", async ({ page, fakes }) => {
  // Counts the pieces of audio the page schedules as they stream in (Web Audio), from the first script on.
  await page.addInitScript(() => {
    const counted = window as unknown as { __streamed: number };
    counted.__streamed = 0;
    const start = AudioBufferSourceNode.prototype.start;
    AudioBufferSourceNode.prototype.start = function (this: AudioBufferSourceNode, ...args: Parameters<typeof start>) {
      counted.__streamed += 1;
      return start.apply(this, args);
    };
  });
  const streamed = () => page.evaluate(() => (window as unknown as { __streamed: number }).__streamed);
  const chat = await new CharacterPage(page).open("preset-aria").then(() => new CharacterPage(page).startChat());
  await page.getByTestId("open-settings").click();
  const saved = () => page.waitForResponse((response) => response.url().includes("sessions.update"));
  let setting = saved();
  await page.getByTestId("tts-mode").selectOption("realtime");
  await setting;
  setting = saved();
  await page.getByTestId("tts-streaming").selectOption("2");
  await setting;
  await expect(page.getByTestId("chat-settings")).toContainText("문장을 합성하는 동안 재생을 시작해요");
  await page.getByTestId("chat-settings").getByRole("button", { name: "닫기" }).click();

  // A sentence of a few seconds takes seconds to synthesise; its first half-second chunk comes soon.
  await fakes.sovits({ latencyMs: 300, perAudioSecondMs: 1_200 });
  const unique = crypto.randomUUID().slice(0, 6);
  await fakes.ollama({ reply: `*창밖을 보며* 오늘은 별이 유난히 밝게 빛나는 밤이라서 오래 바라보고 싶어요 ${unique}.` });
  const live = page.waitForResponse((response) => /\/api\/audio\/[0-9a-f]{64}\?live=1$/.test(response.url()));
  await chat.send("밤하늘 이야기 해 줘");
  const response = await live;
  // Served as it is synthesised: a stream, never cached.
  expect(response.headers()["cache-control"]).toBe("no-store");
  await expect.poll(streamed, { timeout: 10_000 }).toBeGreaterThan(0);
  const speak = chat.lastReply().getByTestId("speak");
  await expect(speak).toHaveAttribute("aria-pressed", "true");
  // Played piece by piece as the chunks arrived, then the playlist ends by itself.
  await expect(speak).toHaveAttribute("aria-pressed", "false", { timeout: 20_000 });
  expect(await streamed()).toBeGreaterThan(2);

  // Kept whole: after a reload the reply is played again from its stored clip (no synthesis).
  await page.reload();
  const replay = page.waitForResponse((r) => audioResponse(r.url()));
  await chat.lastReply().getByTestId("speak").click();
  const stored = await replay;
  expect([200, 206]).toContain(stored.status());
  expect(stored.headers()["cache-control"]).toContain("immutable");
});
