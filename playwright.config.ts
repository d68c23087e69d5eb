import { defineConfig } from "@playwright/test";

export const STORAGE_STATE = "e2e/.artifacts/signed-in.json";

/**
 * End-to-end tests against a production build (`next build` first), in Debian's Chromium,
 * with the protocol fakes and the local Google issuer started by e2e/support/global-setup.ts.
 */
export default defineConfig({
  testDir: "e2e",
  testMatch: "**/*.spec.ts",
  outputDir: "e2e/.artifacts/results",
  fullyParallel: false,
  // One production server on two shared cores: parallel browsers only add noise.
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? [["list"]] : [["list"], ["html", { outputFolder: "e2e/.artifacts/report", open: "never" }]],
  globalSetup: "./e2e/support/global-setup.ts",
  use: {
    locale: "ko-KR",
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        // Speech plays after the synthesis a click asked for; no sound device is needed.
        "--autoplay-policy=no-user-gesture-required",
      ],
    },
  },
  projects: [
    { name: "sign-in", testMatch: "auth.setup.ts" },
    {
      name: "chromium",
      dependencies: ["sign-in"],
      use: { viewport: { width: 1280, height: 800 }, storageState: STORAGE_STATE },
    },
  ],
});
