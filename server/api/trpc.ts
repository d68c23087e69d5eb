import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { z, ZodError } from "zod";
import { sessionFromHeaders } from "@/server/auth";
import { getDb } from "@/server/db";
import { DomainError, toTRPCError } from "@/server/errors";

/**
 * Context of every call, from the HTTP route and from server components alike.
 * `session` is null for visitors.
 */
export async function createTRPCContext(opts: { headers: Headers }) {
  const session = await sessionFromHeaders(opts.headers);
  return { db: getDb(), session, headers: opts.headers };
}
export type Context = Awaited<ReturnType<typeof createTRPCContext>>;

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

