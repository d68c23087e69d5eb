import { createCaller } from "@/server/api/root";
import type { Context } from "@/server/api/trpc";
import type { Database } from "@/server/db";

export interface TestUser {
  id: string;
  name: string | null;
  email: string | null;
}

/**
 * Server-side callers of the whole API on `db`: `callerFor(user)` is that user signed in to the
 * app (its session cookie), `callerFor(null)` a visitor.
 */
export function callersOn(db: Database) {
  return (user: TestUser | null, via: Context["via"] = user ? "browser" : null) =>
    createCaller({
      db,
      headers: new Headers(),
      via,
      session: user ? { user: { id: user.id, name: user.name, email: user.email }, expires: new Date(Date.now() + 3_600_000).toISOString() } : null,
    });
}
