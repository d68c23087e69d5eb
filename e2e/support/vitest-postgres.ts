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
