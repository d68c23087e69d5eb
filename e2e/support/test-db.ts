import { inject } from "vitest";
import { createDatabase } from "@/server/db/client";
import { users } from "@/server/db/schema";

/** A pool on the run's real Postgres (started by vitest-postgres.ts). */
export function testDatabase() {
  return createDatabase(inject("databaseUrl"), { max: 5 });
}

export async function createUser(db: ReturnType<typeof testDatabase>["db"], name = "테스터") {
  const email = `${crypto.randomUUID()}@example.com`;
  const [user] = await db.insert(users).values({ email, name }).returning();
  if (!user) throw new Error("no user");
  return user;
}

/**
 * A database of its own on the run's Postgres, migrated and seeded: for a test that compares the
 * whole database before and after, which other test files writing beside it would disturb.
 */
export async function isolatedDatabase() {
  const { migrateAndSeed } = await import("@/server/db/migrate");
  const serverUrl = inject("databaseUrl");
  const name = `isolated_${crypto.randomUUID().replaceAll("-", "")}`;
  const admin = createDatabase(serverUrl, { max: 1 });
  await admin.sql.unsafe(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await migrateAndSeed(url.toString());
  const isolated = createDatabase(url.toString(), { max: 5 });
  return {
    ...isolated,
    url: url.toString(),
    async drop() {
      await isolated.sql.end();
      await admin.sql.unsafe(`drop database if exists ${name} with (force)`);
      await admin.sql.end();
    },
  };
}
