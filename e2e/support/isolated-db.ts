import { inject } from "vitest";
import { createDatabase } from "@/server/db/client";
import { migrateAndSeed } from "@/server/db/migrate";

/**
 * A database of the test file's own on the run's Postgres, migrated and seeded. For what the whole
 * app shares — counters for everyone, the audio cache's total, the server's secrets — which the
 * run's other files, using the common database at the same time, would disturb and be disturbed by.
 */
export async function isolatedDatabase() {
  const url = new URL(inject("databaseUrl"));
  const name = `af_test_${crypto.randomUUID().replaceAll("-", "")}`;
  const admin = createDatabase(url.href, { max: 1 });
  await admin.sql.unsafe(`create database ${name}`);
  url.pathname = `/${name}`;
  await migrateAndSeed(url.href);
  const { db, sql } = createDatabase(url.href, { max: 5 });
  return {
    db,
    sql,
    url: url.href,
    /** Closes this pool and drops the database (other pools on it must be closed first). */
    async drop() {
      await sql.end();
      await admin.sql.unsafe(`drop database if exists ${name} with (force)`);
      await admin.sql.end();
    },
  };
}
