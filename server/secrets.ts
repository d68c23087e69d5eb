import "server-only";
import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Queryable } from "@/server/db";
import { appSecrets } from "@/server/db/schema";

/** The secrets the server keeps in `app_secrets`, each made once per database. */
export type SecretName = "audio_cache_key";

const SECRET_BYTES = 32;

/**
 * Read once per pool (one per process in the app): a secret never changes while a database
 * lives. A test's second pool behaves like another process starting.
 */
const known = new WeakMap<object, Map<SecretName, Promise<Buffer>>>();

/**
 * A random secret the server made for itself, the same for every instance on the database and
 * never configured or sent anywhere. The first instance to ask creates it; instances starting
 * together agree on whichever insert won.
 */
export function serverSecret(db: Queryable, name: SecretName): Promise<Buffer> {
  let byName = known.get(db);
  if (!byName) known.set(db, (byName = new Map()));
  let secret = byName.get(name);
  if (!secret) {
    secret = readOrCreate(db, name);
    byName.set(name, secret);
    // A failed read (the database was down) must not stay cached.
    secret.catch(() => byName.delete(name));
  }
  return secret;
}

async function readOrCreate(db: Queryable, name: SecretName): Promise<Buffer> {
  await db.insert(appSecrets).values({ name, value: randomBytes(SECRET_BYTES) }).onConflictDoNothing();
  // A second statement, not a CTE: it sees the row of an instance whose insert won meanwhile.
  const [row] = await db.select({ value: appSecrets.value }).from(appSecrets).where(eq(appSecrets.name, name));
  if (!row || row.value.length < SECRET_BYTES) throw new Error(`The server secret "${name}" is missing or too short.`);
  return row.value;
}
