import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@\//, replacement: `${path.resolve(import.meta.dirname)}/` },
      // `server-only` throws outside React Server Components; tests are plain Node.
      { find: /^server-only$/, replacement: path.resolve(import.meta.dirname, "e2e/support/empty-module.ts") },
    ],
  },
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", ".next/**", ".data/**", "e2e/**/*.spec.ts"],
    environment: "node",
    // next-auth imports "next/server" without an extension; let Vite resolve it.
    server: { deps: { inline: ["next-auth", "@auth/core"] } },
    globalSetup: ["e2e/support/vitest-postgres.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
