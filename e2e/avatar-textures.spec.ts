import type { Locator, Page } from "@playwright/test";
import sharp from "sharp";
import { buildTexturedGeneratorGlb, buildTexturedVrm0, buildTexturedVrm1 } from "./fixtures/avatars";
import { CharacterFormPage } from "./pages/characters";
import { devSignedIn } from "./pages/sign-in";
import { expect, keepScreenshot, test } from "./support/test";

// Textured models as users bring them (VRoid's VRM 1.0 and 0.x, a generator's GLB), each with
// textures embedded in the file. three.js's GLTFLoader reads those through blob: URLs, so this is
// where the page's Content-Security-Policy decides whether a model shows its colours or a bare mesh.
// The fixtures' PNG textures are magenta and their JPEG ones green: the rendered canvas is read
// back and must show them.

// An account of its own: its characters and avatars stay out of the shared user's screens.
test.use({ storageState: { cookies: [], origins: [] } });

/** The share of the canvas's pixels that are the fixtures' magenta and green (a grey mesh has none). */
async function textureColours(canvas: Locator) {
  const { data, info } = await sharp(await canvas.screenshot()).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let magenta = 0;
  let green = 0;
  for (let i = 0; i < data.length; i += info.channels) {
    const r = data[i]!;
    const g = data[i + 1]!;
    const b = data[i + 2]!;
    if (r >= 100 && b >= 100 && g <= 0.55 * Math.min(r, b)) magenta += 1;
    else if (g >= 90 && r <= 0.6 * g && b <= 0.6 * g) green += 1;
  }
  const total = info.width * info.height;
  return { magenta: magenta / total, green: green / total };
}

/**
 * Waits until the avatar on screen has loaded and is drawn with its textures: at least `share` of
 * the canvas in each colour the model's textures carry.
 */
async function expectTextured(page: Page, colours: Array<"magenta" | "green">, share = 0.004) {
  await expect(page.getByTestId("avatar-view")).toHaveAttribute("data-state", "ready", { timeout: 30_000 });
  const canvas = page.getByTestId("avatar-canvas").locator("canvas");
  await canvas.scrollIntoViewIfNeeded();
  let last = { magenta: 0, green: 0 };
  await expect
    .poll(
      async () => {
        last = await textureColours(canvas);
        return colours.every((colour) => last[colour] >= share);
      },
      { timeout: 20_000, message: `the texture colours ${colours.join(" and ")} on the canvas` },
    )
    .toBe(true);
  return last;
}

/**
 * What the page refused or complained about: `securitypolicyviolation` events, console errors
 * and warnings (three.js reports a texture it could not load as an error; the viewer warns when a
 * model could not be shown), and uncaught exceptions.
 */
async function watchProblems(page: Page) {
  const violations: string[] = [];
  const errors: string[] = [];
  await page.exposeBinding("__reportViolation", (_source, text: string) => void violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      const report = (window as unknown as { __reportViolation: (text: string) => void }).__reportViolation;
      void report(`${e.effectiveDirective} refused ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console error: ${message.text()}`);
    else if (message.type() === "warning" && /policy|refused|texture|\[avatar\]|THREE|VRM/i.test(message.text())) errors.push(`console warning: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  return { violations, errors };
}

interface Fixture {
  title: string;
  file: string;
  build: () => Promise<Uint8Array>;
  loaded: "vrm" | "glb";
  colours: ReadonlyArray<"magenta" | "green">;
  shot?: string;
  /** A browser without createImageBitmap (Safari before 17, Firefox before 98): GLTFLoader reads textures through <img>. */
  withoutImageBitmap?: boolean;
}

const FIXTURES: Fixture[] = [
  { title: "a VRoid VRM 1.0", file: "vroid-1.vrm", build: buildTexturedVrm1, loaded: "vrm", colours: ["magenta", "green"] as const },
  { title: "a VRoid VRM 0.x", file: "vroid-0.vrm", build: buildTexturedVrm0, loaded: "vrm", colours: ["magenta", "green"] as const },
  { title: "a generated GLB", file: "generated.glb", build: () => buildTexturedGeneratorGlb(), loaded: "glb", colours: ["magenta"] as const, shot: "avatar-textured-generated-character-1280" },
  {
    title: "a VRoid VRM 1.0 in a browser without createImageBitmap",
    file: "vroid-1.vrm",
    build: buildTexturedVrm1,
    loaded: "vrm",
    colours: ["magenta", "green"] as const,
    withoutImageBitmap: true,
  },
];

for (const fixture of FIXTURES) {
  test(`${fixture.title} shows its embedded textures on the character page and beside the chat, breaking no policy`, async ({ browser, baseURL }) => {
    test.setTimeout(120_000);
    const { context, page } = await devSignedIn(browser, baseURL!, `avatar-textures-${crypto.randomUUID()}@example.com`);
    const problems = await watchProblems(page);
    if (fixture.withoutImageBitmap) {
      await page.addInitScript(() => {
        delete (window as { createImageBitmap?: unknown }).createImageBitmap;
      });
    }
    const form = new CharacterFormPage(page);
    await form.openNew();
    await form.fill({ name: "색칠된 아바타", greeting: "안녕!" });
    await form.save();

    await page.getByTestId("avatar-file").setInputFiles({ name: fixture.file, mimeType: "model/gltf-binary", buffer: Buffer.from(await fixture.build()) });
    await expect(page.getByTestId("avatar-canvas")).toHaveAttribute("data-loaded", fixture.loaded, { timeout: 30_000 });
    const onCharacterPage = await expectTextured(page, [...fixture.colours]);
    if (fixture.shot) await keepScreenshot(page, fixture.shot);

    await page.getByTestId("start-chat").click();
    await page.waitForURL(/\/chat\/[\w-]+$/);
    await expect(page.getByTestId("avatar-canvas")).toHaveAttribute("data-loaded", fixture.loaded, { timeout: 30_000 });
    const besideTheChat = await expectTextured(page, [...fixture.colours]);
    test.info().annotations.push({ type: "colours", description: JSON.stringify({ onCharacterPage, besideTheChat }) });

    expect(problems.violations).toEqual([]);
    expect(problems.errors).toEqual([]);
    await context.close();
  });
}

test("a textured VRM, on the character page and in the chat, on a desktop, a tablet and a phone", async ({ browser, baseURL }) => {
  test.setTimeout(240_000);
  const { context, page } = await devSignedIn(browser, baseURL!, `avatar-textures-shots-${crypto.randomUUID()}@example.com`);
  const problems = await watchProblems(page);
  const form = new CharacterFormPage(page);
  await form.openNew();
  await form.fill({ name: "하늘 아바타", greeting: "*손을 흔들며* 안녕!" });
  await form.save();
  const characterUrl = page.url();
  await page.getByTestId("avatar-file").setInputFiles({ name: "vroid.vrm", mimeType: "model/gltf-binary", buffer: Buffer.from(await buildTexturedVrm1()) });
  await expect(page.getByTestId("avatar-canvas")).toHaveAttribute("data-loaded", "vrm", { timeout: 30_000 });
  await page.getByTestId("start-chat").click();
  await page.waitForURL(/\/chat\/[\w-]+$/);
  const chatUrl = page.url();

  for (const [width, height] of [[1280, 800], [820, 1180], [390, 844]] as const) {
    await page.setViewportSize({ width, height });
    await page.goto(characterUrl);
    await expectTextured(page, ["magenta", "green"]);
    await keepScreenshot(page, `avatar-textured-character-${width}`);
    await page.goto(chatUrl);
    await expectTextured(page, ["magenta", "green"]);
    await keepScreenshot(page, `avatar-textured-chat-${width}`);
  }
  expect(problems.violations).toEqual([]);
  expect(problems.errors).toEqual([]);
  await context.close();
});
