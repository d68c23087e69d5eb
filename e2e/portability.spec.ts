import { readFile } from "node:fs/promises";
import { headerSettled } from "./pages/characters";
import { devSignedIn } from "./pages/sign-in";
import { expect, keepScreenshot, test } from "./support/test";

// Every test signs in fresh accounts of its own: nothing here may touch the shared signed-in user.
test.use({ storageState: { cookies: [], origins: [] } });

/** A chat as SillyTavern saves it: a header, a greeting with two swipes, a user line, a hidden system line. */
const sillyTavernChat = [
  `{"user_name":"민수","character_name":"Seraphina","create_date":"2024-05-10@14h30m12s","chat_metadata":{"note_prompt":"","tainted":true}}`,
  `{"name":"Seraphina","is_user":false,"is_system":false,"send_date":"May 10, 2024 2:30pm","mes":"*숲 속에서* 안녕, {{user}}. 괜찮아?","extra":{},"swipe_id":1,"swipes":["첫 인사","*숲 속에서* 안녕, {{user}}. 괜찮아?"]}`,
  `{"name":"민수","is_user":true,"is_system":false,"send_date":"May 10, 2024 2:32pm","mes":"응, 고마워!","extra":{}}`,
  `{"name":"System","is_user":false,"is_system":true,"send_date":"May 10, 2024 2:33pm","mes":"(장면 전환)","extra":{}}`,
  `{"name":"Seraphina","is_user":false,"send_date":1715351640000,"mes":"<USER>, 천천히 쉬어.","extra":{"api":"ollama"}}`,
].join("\n");

const texts = (page: import("@playwright/test").Page) => page.locator('[data-testid="message"] [data-testid="message-text"]').allInnerTexts();

test("personas name {{user}}, and a chat goes out as SillyTavern JSONL and comes back the same", async ({ browser, baseURL }) => {
  const { context, page } = await devSignedIn(browser, baseURL!, `porter-${crypto.randomUUID()}@example.com`);

  // Two personas in Settings: the first becomes the default.
  await page.goto("/settings");
  const personas = page.getByTestId("personas");
  await expect(personas).toContainText("아직 페르소나가 없어요");
  for (const [name, description] of [
    ["하람", "숲을 떠도는 음유시인"],
    ["기사 로안", "왕국의 기사"],
  ]) {
    await page.getByTestId("persona-add").click();
    await page.getByTestId("persona-name").fill(name!);
    await page.getByTestId("persona-description").fill(description!);
    await page.getByTestId("persona-save").click();
    await expect(personas.getByTestId("persona-row").filter({ hasText: name! })).toBeVisible();
  }
  await expect(personas.getByTestId("persona-row").filter({ hasText: "하람" })).toContainText("기본");
  await headerSettled(page);
  await keepScreenshot(page, "settings-personas-desktop");

  // Import a SillyTavern chat onto a character: it opens, {{user}} shown as the default persona.
  await page.goto("/characters/preset-aria");
  await page.getByTestId("import-chat-file").setInputFiles({ name: "seraphina.jsonl", mimeType: "application/jsonl", buffer: Buffer.from(sillyTavernChat) });
  await page.waitForURL(/\/chat\/[\w-]+$/);
  const imported = page.url();
  await expect.poll(() => texts(page)).toEqual(["숲 속에서 안녕, 하람. 괜찮아?", "응, 고마워!", "(장면 전환)", "하람, 천천히 쉬어."]);

  // The chat's persona: another one, and the replies follow.
  await page.getByTestId("open-settings").click();
  await page.getByTestId("persona-select").selectOption({ label: "기사 로안" });
  await expect(page.locator('[data-testid="message"][data-role="assistant"]').last()).toContainText("기사 로안, 천천히 쉬어.");
  await keepScreenshot(page, "chat-persona-desktop");

  // Export as SillyTavern JSONL: SillyTavern's fields, the swipes with the active one.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-jsonl").click()]);
  expect(download.suggestedFilename()).toMatch(/\.jsonl$/);
  const jsonl = await readFile((await download.path())!, "utf8");
  const [header, ...lines] = jsonl.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(header).toMatchObject({ user_name: "기사 로안", character_name: "아리아" });
  expect(header).toHaveProperty("create_date");
  expect(lines.map((l) => [l.is_user, l.is_system, l.mes])).toEqual([
    [false, false, "*숲 속에서* 안녕, {{user}}. 괜찮아?"],
    [true, false, "응, 고마워!"],
    [false, true, "(장면 전환)"],
    [false, false, "<USER>, 천천히 쉬어."],
  ]);
  expect(lines[0]).toMatchObject({ swipes: ["첫 인사", "*숲 속에서* 안녕, {{user}}. 괜찮아?"], swipe_id: 1 });

  // The Markdown transcript.
  const [markdown] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-md").click()]);
  expect(markdown.suggestedFilename()).toMatch(/\.md$/);
  const md = await readFile((await markdown.path())!, "utf8");
  expect(md).toContain("**아리아**: *숲 속에서* 안녕, {{user}}. 괜찮아?");
  expect(md).toContain("**기사 로안**: 응, 고마워!");

  // The exported file imports onto another character with the same messages.
  await page.goto("/characters/preset-sunja");
  await page.getByTestId("import-chat-file").setInputFiles({ name: download.suggestedFilename(), mimeType: "application/jsonl", buffer: Buffer.from(jsonl) });
  await page.waitForURL((url) => /\/chat\/[\w-]+$/.test(url.pathname) && url.href !== imported);
  await expect.poll(() => texts(page)).toEqual(["숲 속에서 안녕, 하람. 괜찮아?", "응, 고마워!", "(장면 전환)", "하람, 천천히 쉬어."]);

  // A broken file is refused with a sentence, and nothing opens.
  await page.goto("/characters/preset-sunja");
  await page.getByTestId("import-chat-file").setInputFiles({ name: "broken.jsonl", mimeType: "application/jsonl", buffer: Buffer.from(`${sillyTavernChat}\n{"is_user":"yes"`) });
  await expect(page.getByText("채팅 파일의 6번째 줄이 올바르지 않아요.")).toBeVisible();
  await expect(page).toHaveURL(/\/characters\/preset-sunja$/);

  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/settings");
  await headerSettled(page);
  await keepScreenshot(page, "settings-personas-mobile");
  await context.close();
});

test("deleting the account removes everything and signs out", async ({ browser, baseURL }) => {
  const email = `leaver-${crypto.randomUUID()}@example.com`;
  const { context, page, signIn } = await devSignedIn(browser, baseURL!, email);
  await page.goto("/settings");
  await page.getByTestId("persona-add").click();
  await page.getByTestId("persona-name").fill("떠날 사람");
  await page.getByTestId("persona-save").click();
  await expect(page.getByTestId("persona-row")).toHaveCount(1);

  // Export all my data first: one JSON file with the persona.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-account").click()]);
  const data = JSON.parse(await readFile((await download.path())!, "utf8")) as { profile: { email: string }; personas: { name: string }[] };
  expect(data.profile.email).toBe(email);
  expect(data.personas.map((p) => p.name)).toEqual(["떠날 사람"]);

  await page.getByTestId("delete-account").click();
  const dialog = page.getByTestId("delete-account-dialog");
  await expect(dialog).toContainText(email);
  await expect(page.getByTestId("delete-account-submit")).toBeDisabled();
  await page.getByTestId("delete-account-confirm").fill("someone-else@example.com");
  await expect(page.getByTestId("delete-account-submit")).toBeDisabled();
  await page.getByTestId("delete-account-confirm").fill(email);
  await keepScreenshot(page, "delete-account-dialog");
  await page.getByTestId("delete-account-submit").click();
  await page.waitForURL(/\/signin/);

  // Signing in again with the same email starts from nothing.
  await signIn.withDevSignIn(email);
  await expect(page.getByTestId("user-avatar")).toBeVisible();
  await page.goto("/settings");
  await expect(page.getByTestId("personas")).toContainText("아직 페르소나가 없어요");
  await context.close();
});
