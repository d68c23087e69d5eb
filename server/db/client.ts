import type { PgDatabase } from "drizzle-orm/pg-core";
import { drizzle, type PostgresJsDatabase, type PostgresJsQueryResultHKT } from "drizzle-orm/postgres-js";
import postgres, { type Sql } from "postgres";
import * as schema from "./schema";

/** The pool: Drizzle over postgres.js, with the driver itself for LISTEN (server/db/notify.ts). */
export type Database = PostgresJsDatabase<typeof schema> & { $client: Sql };
/**
 * What models and domain functions query through: the pool or an open transaction, so a caller
 * can make several of them one unit of work (both are this Drizzle base type).
 */
export type Queryable = PgDatabase<PostgresJsQueryResultHKT, typeof schema>;

export function createDatabase(url: string, options: { max?: number } = {}) {
  const sql = postgres(url, {
    // Streams save partial replies while requests run: room for both on busy instances.
    max: options.max ?? 20,
    onnotice: () => {},
    connect_timeout: 10,
    // Diagnostics (AF_LOG_QUERIES=1): every statement sent, to count a request's round trips.
    ...(process.env.AF_LOG_QUERIES === "1"
      ? { debug: (connection: number, query: string) => console.error(`[sql] ${performance.now().toFixed(1)} #${connection} ${query.replace(/\s+/g, " ").slice(0, 140)}`) }
      : {}),
  });
  return { db: drizzle(sql, { schema }), sql };
}
