// What the person sees: from pressing Enter in the chat to the first character of the reply
// painted, in Chromium on the production build (the same fake, the same pacing as the rest of
// bench:chat). The page records the Enter key press and, with a MutationObserver on the reply's
// text, the end of the frame that paints its first character. Next to it, the server's own figure
// for the same reply.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { chromium, type Browser } from "@playwright/test";
import { log, onCleanup, ROOT } from "./harness";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Records the Enter key press (`__enterAt`) and resolves `__paintedAt` with the time of the frame
 * painting the first non-blank text of a new assistant message.
 */
const ARM_SCRIPT = `(() => {
  const before = document.querySelectorAll('[data-testid="message"][data-role="assistant"]').length;
  window.__enterAt = undefined;
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && window.__enterAt === undefined) window.__enterAt = performance.now();
  }, { capture: true, once: true });
  window.__paintedAt = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      const replies = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
      if (replies.length <= before) return;
      const text = replies[replies.length - 1].querySelector('[data-testid="message-text"]')?.textContent ?? "";
      if (text.trim() === "") return;
      observer.disconnect();
      // The frame that paints this change: a task queued from its animation callback runs right
      // after its paint.
      requestAnimationFrame(() => {
        const afterPaint = new MessageChannel();
        afterPaint.port1.onmessage = () => resolve(performance.now());
        afterPaint.port2.postMessage(null);
      });
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
  });
})()`;

export interface PaintSample {
  /** Enter pressed → first character of the reply painted. */
  paintMs: number;
  /** The server's figure for the same reply: reply started → first token from Ollama. */
  serverFirstTokenMs: number | null;
}

async function launch(): Promise<Browser> {
  const ensured = spawnSync("bash", [path.join(ROOT, "e2e/ensure-chromium.sh")], { stdio: "inherit" });
  if (ensured.status !== 0) throw new Error("Chromium is not available");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  onCleanup("chromium", () => browser.close());
  return browser;
}

/**
 * `samples` replies, each in a chat of its own (`sessionIds`), typed and sent with Enter as a
 * person would. `cookie` is the signed-in session ("name=value"); `serverFigure` reads the
 * server's first-token figure of the chat's last reply once it is done.
 */
export async function enterToPaint(options: {
  baseUrl: string;
  cookie: string;
  sessionIds: readonly string[];
  text: string;
  serverFigure: (sessionId: string) => Promise<number | null>;
}): Promise<PaintSample[]> {
  const browser = await launch();
  const [name, ...rest] = options.cookie.split("=");
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addCookies([{ name: name!, value: rest.join("="), url: options.baseUrl }]);
  const page = await context.newPage();
  const samples: PaintSample[] = [];
  log(`browser: ${options.sessionIds.length} replies, Enter → first character painted`);
  for (const sessionId of options.sessionIds) {
    await page.goto(`${options.baseUrl}/chat/${sessionId}`);
    const composer = page.getByTestId("composer");
    await composer.waitFor();
    await composer.fill(options.text);
    // Armed before the key press: the first assistant text that appears after it. (Plain script
    // text: tsx would wrap named functions in a helper the page does not have.)
    await page.evaluate(ARM_SCRIPT);
    await composer.press("Enter");
    const paintMs = (await page.evaluate("window.__paintedAt.then((at) => at - window.__enterAt)")) as number;
    // The reply runs to its end before the next one (its figure is saved then).
    await page.getByTestId("typing").waitFor({ state: "detached", timeout: 60_000 });
    samples.push({ paintMs, serverFirstTokenMs: await options.serverFigure(sessionId) });
  }
  await context.close();
  return samples;
}
