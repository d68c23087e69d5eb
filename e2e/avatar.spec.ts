import { buildVrm0, buildVrm1 } from "./fixtures/avatars";
import { portraitPng } from "./fixtures/images";
import { CharacterFormPage } from "./pages/characters";
import { ChatRoomPage } from "./pages/chat-room";
import { devSignedIn } from "./pages/sign-in";
import { expect, keepScreenshot, test } from "./support/test";

// An account of its own: its characters and avatars stay out of the shared user's screens.
test.use({ storageState: { cookies: [], origins: [] } });

test("an uploaded VRM shows on the character page and in the chat, and its mouth moves only while the character speaks", async ({ browser, baseURL }) => {
  const { context, page } = await devSignedIn(browser, baseURL!, `avatar-${crypto.randomUUID()}@example.com`);
  const form = new CharacterFormPage(page);
  await form.openNew();
  await form.fill({ name: "하늘 아바타", greeting: "*손을 흔들며* 안녕!" });
  const character = await form.save();
  await expect(character.name).toHaveText("하늘 아바타");

  // Upload a VRM 1.0: validated, stored, shown in 3D.
  await page.getByTestId("avatar-file").setInputFiles({ name: "sky.vrm", mimeType: "model/gltf-binary", buffer: Buffer.from(await buildVrm1()) });
  const view = page.getByTestId("avatar-view");
  await expect(view).toHaveAttribute("data-state", "ready", { timeout: 20_000 });
  await expect(page.getByTestId("avatar-canvas")).toHaveAttribute("data-loaded", "vrm");
  await keepScreenshot(page, "avatar-character-desktop");

  // A file that is not a model changes nothing and says why.
  await page.getByTestId("avatar-file").setInputFiles({ name: "fake.vrm", mimeType: "model/gltf-binary", buffer: Buffer.from("glTF but not really") });
  await expect(page.getByTestId("avatar-panel").getByRole("alert")).toBeVisible();
  await expect(page.getByTestId("avatar-canvas")).toHaveAttribute("data-loaded", "vrm");

  // In the chat, beside the conversation; the mouth rests until the character speaks.
  await page.getByTestId("start-chat").click();
  await page.waitForURL(/\/chat\/[\w-]+$/);
  const chat = new ChatRoomPage(page);
  const canvas = page.getByTestId("avatar-canvas");
  await expect(canvas).toHaveAttribute("data-loaded", "vrm", { timeout: 20_000 });
  await expect(canvas).toHaveAttribute("data-mouth", "0.00");
  await page.getByTestId("open-settings").click();
  await page.getByTestId("tts-mode").selectOption("realtime");
  await page.keyboard.press("Escape");

  await chat.send("안녕, 오늘 기분 어때?");
  // While a sentence plays, the expression opens; after the speech, it is at rest again.
  await expect.poll(async () => Number(await canvas.getAttribute("data-mouth")), { timeout: 30_000 }).toBeGreaterThan(0.1);
  await keepScreenshot(page, "avatar-chat-desktop");
  await chat.waitForReplyDone();
  await expect.poll(async () => Number(await canvas.getAttribute("data-mouth")), { timeout: 30_000 }).toBe(0);

  // The toggle hides it, and the choice is remembered.
  await page.getByTestId("toggle-avatar").click();
  await expect(page.getByTestId("avatar-view")).toHaveCount(0);
  await page.reload();
  await expect(page.getByTestId("chat-room")).toBeVisible();
  await expect(page.getByTestId("avatar-view")).toHaveCount(0);
  await page.getByTestId("toggle-avatar").click();
  await expect(page.getByTestId("avatar-view")).toBeVisible();
  await context.close();
});

test("on a phone the avatar sits above the conversation, and a VRM 0.x loads too", async ({ browser, baseURL }) => {
  const { context, page } = await devSignedIn(browser, baseURL!, `avatar-phone-${crypto.randomUUID()}@example.com`);
  await page.setViewportSize({ width: 390, height: 844 });
  const form = new CharacterFormPage(page);
  await form.openNew();
  await form.fill({ name: "바다 아바타", greeting: "반가워!" });
  await form.save();
  await page.getByTestId("avatar-file").setInputFiles({ name: "sea.vrm", mimeType: "model/gltf-binary", buffer: Buffer.from(await buildVrm0()) });
  await expect(page.getByTestId("avatar-canvas")).toHaveAttribute("data-loaded", "vrm", { timeout: 20_000 });
  await page.getByTestId("start-chat").click();
  await page.waitForURL(/\/chat\/[\w-]+$/);
  const view = page.getByTestId("avatar-view");
  await expect(view).toBeVisible();
  const avatarBox = (await view.boundingBox())!;
  const listBox = (await page.getByTestId("message-list").boundingBox())!;
  expect(avatarBox.y + avatarBox.height).toBeLessThanOrEqual(listBox.y + 1);
  await expect(page.getByTestId("avatar-canvas")).toHaveAttribute("data-loaded", "vrm", { timeout: 20_000 });
  await keepScreenshot(page, "avatar-chat-mobile");
  await context.close();
});

test("an avatar is forged from the portrait with visible progress, then shows on the character page", async ({ browser, baseURL }) => {
  const { context, page } = await devSignedIn(browser, baseURL!, `avatar-forge-${crypto.randomUUID()}@example.com`);
  const form = new CharacterFormPage(page);
  await form.openNew();
  await form.fill({ name: "별 아바타", greeting: "안녕!" });
  await form.uploadPortrait(await portraitPng());
  await form.save();
  await expect(page.getByTestId("avatar-panel")).toContainText("아직 3D 아바타가 없어요");

  await page.getByTestId("avatar-generate").click();
  // The job is shown while the generator works (the fake takes a few seconds, like a short real one).
  const job = page.getByTestId("avatar-job");
  await expect(job).toBeVisible();
  await expect(job.getByRole("progressbar")).toBeVisible();
  await keepScreenshot(page, "avatar-generating-desktop");
  await expect(page.getByTestId("avatar-cancel")).toBeVisible();

  // Then the model is validated, stored and shown (a generated GLB: no rig).
  await expect(page.getByTestId("avatar-canvas")).toHaveAttribute("data-loaded", "glb", { timeout: 60_000 });
  await expect(job).toHaveCount(0);
  await expect(page.getByTestId("avatar-remove")).toBeVisible();

  // Removing it asks first, then the portrait is back.
  await page.getByTestId("avatar-remove").click();
  await page.getByTestId("confirm").click();
  await expect(page.getByTestId("avatar-view")).toHaveCount(0);
  await context.close();
});

