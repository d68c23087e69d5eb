import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { z, ZodError } from "zod";
import type { Session } from "next-auth";
import { sessionFromHeaders } from "@/server/auth";
import { bearerToken, userForToken } from "@/server/auth/api-tokens";
import { getDb, type Database } from "@/server/db";
import { DomainError, toTRPCError } from "@/server/errors";

/**
 * Context of every call, from the HTTP route and from server components alike.
 * `session` is null for visitors.
 */
export interface Context {
  db: Database;
  /** null for visitors */
  session: Session | null;
  headers: Headers;
  /** how the caller signed in: the app's session cookie, or a personal API token */
  via?: "browser" | "token" | null;
}

export async function createTRPCContext(opts: { headers: Headers }): Promise<Context> {
  const db = getDb();
  const token = bearerToken(opts.headers);
  if (token === undefined) {
    const session = await sessionFromHeaders(opts.headers);
    return { db, session, headers: opts.headers, via: session ? "browser" : null };
  }
  // A script with a personal API token acts as its owner; a bad token is refused outright rather
  // than treated as a visitor, so a revoked token fails loudly.
  const user = token ? await userForToken(db, token) : null;
  if (!user) throw new TRPCError({ code: "UNAUTHORIZED", message: "This API token is not valid (mistyped or revoked)." });
  const session: Session = { user, expires: new Date(Date.now() + 60 * 60_000).toISOString() };
  return { db, session, headers: opts.headers, via: "token" };
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    return {
      ...shape,
      data: {
        ...shape.data,
        // Field errors for forms: { fieldErrors: { name: ["..."] }, formErrors: [...] }
        zodError: cause instanceof ZodError ? z.flattenError(cause) : null,
        appCode: cause instanceof DomainError ? cause.code : null,
        appParams: cause instanceof DomainError ? cause.params : null,
      },
    };
  },
  sse: {
    ping: { enabled: true, intervalMs: 10_000 },
    client: { reconnectAfterInactivityMs: 25_000 },
  },
});

export const createCallerFactory = t.createCallerFactory;
export const createTRPCRouter = t.router;

/** Maps domain errors to tRPC codes in one place, and logs the unexpected and the slow. */
const errorsAndTiming = t.middleware(async ({ next, path, type }) => {
  const start = performance.now();
  const result = await next();
  const ms = performance.now() - start;
  if (ms > 1000 && type !== "subscription") console.warn(`[trpc] ${path} took ${ms.toFixed(0)} ms`);
  if (result.ok) return result;
  const cause = result.error.cause;
  if (cause instanceof DomainError) throw toTRPCError(cause);
  if (result.error.code === "INTERNAL_SERVER_ERROR") console.error(`[trpc] ${path} failed`, cause ?? result.error);
  return result;
});

export const publicProcedure = t.procedure.use(errorsAndTiming);

/** For user data: `ctx.user` is the signed-in user, never null. */
export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  const user = ctx.session?.user;
  if (!user?.id) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
  return next({ ctx: { ...ctx, user: { ...user, id: user.id } } });
});

/** Only in the app itself, signed in: a token can't mint or revoke tokens. */
export const browserProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (ctx.via === "token") throw new TRPCError({ code: "FORBIDDEN", message: "API tokens are managed in the app's settings." });
  return next();
});
