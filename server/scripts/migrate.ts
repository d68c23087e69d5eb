// `npm run db:migrate`: applies migrations and seeds the presets on the server in DATABASE_URL.
import { migrateAndSeed } from "@/server/db/migrate";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("Set DATABASE_URL to the Postgres server to migrate (the embedded database migrates itself).");
  process.exit(1);
}
try {
  await migrateAndSeed(url);
  console.log("✓ migrations applied and presets seeded");
} catch (error) {
  console.error(`✖ migration failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
