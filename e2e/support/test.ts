import { test as base, expect, type Page } from "@playwright/test";
import path from "node:path";

/** The app's address comes from global setup, which picks free ports at run time. */
export const test = base.extend<{ fakes: Fakes }>({
  baseURL: async ({}, use) => {
    await use(process.env.E2E_BASE_URL);
  },
  fakes: async ({}, use) => {
    const fakes = new Fakes();
    await use(fakes);
    await fakes.resetAll();
  },
});
export { expect };

/** Drives the fakes' control endpoints (they run in the runner's process). */
export class Fakes {
  private async post(url: string | undefined, pathName: string, body?: unknown) {
    if (!url) throw new Error("fakes are not running (global setup)");
    const response = await fetch(`${url}${pathName}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${pathName}: ${response.status} ${await response.text()}`);
  }

  ollama(behaviour: { tokenDelayMs?: number; fault?: string; faultCount?: number; reply?: string | null }) {
    return this.post(process.env.E2E_OLLAMA_URL, "/__control", behaviour);
  }

  sovits(behaviour: { latencyMs?: number; perAudioSecondMs?: number; fault?: string; faultCount?: number | null }) {
    return this.post(process.env.E2E_SOVITS_URL, "/__control", behaviour);
  }

  async ollamaStats(): Promise<{ activeChatStreams: number; abortedChatStreams: number; completedChatStreams: number }> {
    const response = await fetch(`${process.env.E2E_OLLAMA_URL}/__control/stats`);
    return response.json();
  }

  async resetAll() {
    await this.post(process.env.E2E_OLLAMA_URL, "/__control", { tokenDelayMs: 15, fault: "none", reply: null });
    // Back to the start options (timings included).
    await this.post(process.env.E2E_SOVITS_URL, "/__control/reset");
  }
}

const shotDir = path.resolve(import.meta.dirname, "../screenshots");

/** Keeps a screenshot of what a person sees, for review (committed under e2e/screenshots). */
export async function keepScreenshot(page: Page, name: string) {
  // Fonts and the images on screen (next/image loads lazily) must be in before the picture.
  await page.evaluate(async () => {
    await document.fonts.ready;
    const onScreen = [...document.images].filter((img) => {
      const box = img.getBoundingClientRect();
      return box.bottom > 0 && box.top < window.innerHeight;
    });
    await Promise.all(onScreen.map((img) => (img.loading === "lazy" ? ((img.loading = "eager"), img.decode()) : img.decode()).catch(() => {})));
  });
  await page.screenshot({ path: path.join(shotDir, `${name}.png`) });
}
