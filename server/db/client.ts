import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema";

export type Database = PostgresJsDatabase<typeof schema>;

export function createDatabase(url: string, options: { max?: number } = {}) {
  const sql = postgres(url, {
    // Streams save partial replies while requests run: room for both on busy instances.
    max: options.max ?? 20,
    onnotice: () => {},
    connect_timeout: 10,
  });
  return { db: drizzle(sql, { schema }), sql };
}
