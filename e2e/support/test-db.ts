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

