import path from "node:path";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { createDatabase } from "./client";
import { seedPresets } from "./seed";

/** Arbitrary constant: serialises migrations when several app instances boot at once. */
const MIGRATION_LOCK = 7_401_337;

export async function migrateAndSeed(url: string, migrationsFolder = path.join(process.cwd(), "drizzle")) {
  const { db, sql } = createDatabase(url, { max: 1 });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migrate(db, { migrationsFolder });
    await seedPresets(db);
  } finally {
    await sql`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => {});
    await sql.end({ timeout: 5 });
  }
}
