import "server-only";
import { sql } from "drizzle-orm";
import type { Database } from "@/server/db";
import { DomainError } from "@/server/errors";

/** The actions that have a limit; each has a sentence in the catalogs (`limit.action.*`). */
export const LIMITED_ACTIONS = ["synthesis", "upload", "card_import", "search", "api_token", "sign_up", "avatar_generate", "account_export"] as const;
export type LimitedAction = (typeof LIMITED_ACTIONS)[number];

export interface Limit {
  /** what is limited, for the error sentence */
  action: LimitedAction;
  /** the counter's key: `<action>:user:<id>` per account, `<action>:all` for the whole app */
  key: string;
  /** how many calls a window allows */
  max: number;
  windowMs: number;
}

export const perUser = (action: LimitedAction, userId: string, max: number, windowMs: number): Limit => ({
  action,
  key: `${action}:user:${userId}`,
  max,
  windowMs,
});

export const global = (action: LimitedAction, max: number, windowMs: number): Limit => ({ action, key: `${action}:all`, max, windowMs });

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/**
 * Counts one call against each limit (fixed windows in Postgres, so every app instance shares
 * them) and refuses with TOO_MANY_REQUESTS when any is over. One round trip for all of them. A
 * refused call still counts, so hammering a limit does not reopen it early.
 */
export async function consume(db: Pick<Database, "execute">, limits: Limit[]): Promise<void> {
  if (limits.length === 0) return;
  const now = Date.now();
  const rows = limits.map((limit) => ({ ...limit, windowStart: new Date(now - (now % limit.windowMs)) }));
  const values = sql.join(
    rows.map((r) => sql`(${r.key}, ${r.windowStart.toISOString()}::timestamptz)`),
    sql`, `,
  );
  const counted = await db.execute<{ key: string; count: number }>(sql`
    insert into rate_limits (key, window_start, count)
    select key, window_start, 1 from (values ${values}) as v(key, window_start)
    on conflict (key, window_start) do update set count = rate_limits.count + 1
    returning key, count`);
  const over = rows.find((r) => (counted.find((c) => c.key === r.key)?.count ?? 0) > r.max);
  // Windows that ended are of no more use; dropping a few per call keeps the table small.
  if (Math.random() < 0.02) void pruneWindows(db).catch(() => {});
  if (over) {
    const retryAfterSeconds = Math.max(1, Math.ceil((over.windowStart.getTime() + over.windowMs - now) / 1000));
    throw new DomainError("limit_reached", `Too many requests (${over.action}); try again in ${retryAfterSeconds} s.`, {
      action: over.action,
      retryAfterSeconds,
    });
  }
}

/** Deletes windows that ended more than a day ago (the longest window is an hour). */
export async function pruneWindows(db: Pick<Database, "execute">) {
  await db.execute(sql`delete from rate_limits where window_start < now() - interval '1 day'`);
}
