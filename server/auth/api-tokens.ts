import { createHash, randomBytes } from "node:crypto";
import { and, count, desc, eq, sql } from "drizzle-orm";
import { LIMITS } from "@/lib/schemas";
import type { Database } from "@/server/db";
import { apiTokens, users } from "@/server/db/schema";
import { DomainError, notFound } from "@/server/errors";

/** Tokens look like `af_` + 43 base64url characters (32 random bytes). */
const TOKEN_PATTERN = /^af_[A-Za-z0-9_-]{43}$/;
/** How much of a token is kept in the clear to tell tokens apart. */
const SHOWN_PREFIX = 10;

const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

/**
 * The token in an `Authorization: Bearer …` header: undefined without such a header, null when
 * there is one but it can't be one of ours.
 */
export function bearerToken(headers: Headers): string | null | undefined {
  const header = headers.get("authorization");
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match && TOKEN_PATTERN.test(match[1]!) ? match[1]! : null;
}

/** The owner of a live token; its last use is recorded (at most once a minute). */
export async function userForToken(db: Database, token: string) {
  const [row] = await db
    .select({ tokenId: apiTokens.id, lastUsedAt: apiTokens.lastUsedAt, id: users.id, name: users.name, email: users.email, image: users.image })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(eq(apiTokens.tokenHash, hashToken(token)))
    .limit(1);
  if (!row) return null;
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
    void db
      .update(apiTokens)
      .set({ lastUsedAt: sql`now()` })
      .where(eq(apiTokens.id, row.tokenId))
      .catch((error: unknown) => console.warn("[auth] could not record a token's use", error));
  }
  return { id: row.id, name: row.name, email: row.email, image: row.image };
}

/** One user's personal API tokens. The token itself exists only in `create`'s answer. */
export class ApiTokenModel {
  constructor(
    private readonly db: Database,
    private readonly userId: string,
  ) {}

  list() {
    return this.db
      .select({ id: apiTokens.id, name: apiTokens.name, prefix: apiTokens.prefix, createdAt: apiTokens.createdAt, lastUsedAt: apiTokens.lastUsedAt })
      .from(apiTokens)
      .where(eq(apiTokens.userId, this.userId))
      .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id));
  }

  /**
   * Count and insert under a lock on the user's row, so creates running at once take turns and
   * can't all pass the count before any of them inserts. `no key update` still lets other rows
   * that reference the user be inserted meanwhile.
   */
  create(name: string) {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select 1 from ${users} where ${users.id} = ${this.userId} for no key update`);
      const [existing] = await tx.select({ n: count() }).from(apiTokens).where(eq(apiTokens.userId, this.userId));
      if ((existing?.n ?? 0) >= LIMITS.apiTokensPerUser) {
        throw new DomainError("bad_input", `At most ${LIMITS.apiTokensPerUser} API tokens. Revoke one you no longer use.`, {
          limit: LIMITS.apiTokensPerUser,
        });
      }
      const token = `af_${randomBytes(32).toString("base64url")}`;
      const [row] = await tx
        .insert(apiTokens)
        .values({ userId: this.userId, name, tokenHash: hashToken(token), prefix: token.slice(0, SHOWN_PREFIX) })
        .returning({ id: apiTokens.id, name: apiTokens.name, prefix: apiTokens.prefix, createdAt: apiTokens.createdAt, lastUsedAt: apiTokens.lastUsedAt });
      return { ...row!, token };
    });
  }

  /** A revoked token stops working at once. */
  async revoke(id: string) {
    const [row] = await this.db
      .delete(apiTokens)
      .where(and(eq(apiTokens.id, id), eq(apiTokens.userId, this.userId)))
      .returning({ id: apiTokens.id });
    if (!row) throw notFound("API token");
    return row;
  }
}
