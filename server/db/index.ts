import type { Sql } from "postgres";
import { createDatabase, type Database } from "./client";

export type { Database, Queryable } from "./client";

/**
 * One pool per process, kept on globalThis so hot reloads in development don't leak
 * connections. The URL is known only after boot (the embedded server picks it), so the pool is
 * created on first use, never at import time.
 */
const holder = globalThis as unknown as {
  afDatabaseUrl?: string;
  afDb?: { db: Database; sql: Sql };
};

export function setDatabaseUrl(url: string) {
  holder.afDatabaseUrl = url;
}

export function databaseUrl(): string {
  const url = holder.afDatabaseUrl ?? process.env.DATABASE_URL;
  if (!url) throw new Error("The database has not been started yet (server/boot.ts runs first).");
  return url;
}

function connection() {
  holder.afDb ??= createDatabase(databaseUrl());
  return holder.afDb;
}

export function getDb(): Database {
  return connection().db;
}

export function getSql(): Sql {
  return connection().sql;
}
