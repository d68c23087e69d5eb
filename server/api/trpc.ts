import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { z, ZodError } from "zod";
import { hasForbiddenCharacters, TEXT_MESSAGES } from "@/lib/schemas";
import type { Session } from "next-auth";
import { sessionFromHeaders } from "@/server/auth";
import { bearerToken, userForToken } from "@/server/auth/api-tokens";
import { getDb, type Database } from "@/server/db";
import { DomainError, toTRPCError } from "@/server/errors";
import { zodIssues } from "@/lib/zod-issue";

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

/** A short id that ties an error the user saw to the server's log line. */
const newRequestId = () => crypto.randomUUID().replaceAll("-", "").slice(0, 12);

/** "persona: This text contains …" — the first problem, named by its field. */
function zodSentence(error: ZodError) {
  const issue = error.issues[0];
  if (!issue) return "The input is not valid.";
  const field = issue.path.map(String).join(".");
  return field ? `${field}: ${issue.message}` : issue.message;
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  /**
   * The one error boundary. Domain errors and input errors say what went wrong; anything else
   * (a database error with its SQL, a bug) leaves as "something went wrong" with a request id,
   * and is logged in full under that id, never sent.
   */
  errorFormatter({ shape, error, path }) {
    const cause = error.cause;
    const unexpected = error.code === "INTERNAL_SERVER_ERROR" && !(cause instanceof DomainError);
    const requestId = unexpected ? newRequestId() : null;
    if (requestId) console.error(`[trpc] ${path ?? "(request)"} failed, request ${requestId}:`, cause ?? error);
    const message = requestId
      ? `Something went wrong on our side (request ${requestId}).`
      : cause instanceof ZodError
        ? zodSentence(cause)
        : shape.message;
    const { stack: _stack, ...data } = shape.data;
    return {
      ...shape,
      message,
      data: {
        ...data,
        requestId,
        // Field errors for forms: { fieldErrors: { name: ["..."] }, formErrors: [...] }
        zodError: cause instanceof ZodError ? z.flattenError(cause) : null,
        // The English sentences above are for scripts; the UI says each issue in its reader's language.
        zodIssues: cause instanceof ZodError ? zodIssues(cause) : null,
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

/** Deeper input than any procedure takes; refused before any schema walks it. */
const MAX_INPUT_DEPTH = 12;

/**
 * Where in a raw input something no procedure may receive sits: NUL and other control
 * characters or broken Unicode in any string (Postgres refuses some; none is meant), a
 * `__proto__` key, or nesting deeper than MAX_INPUT_DEPTH. Null when the input is clean.
 */
export function hostileInputAt(value: unknown, path: (string | number)[] = []): { path: (string | number)[]; message: string } | null {
  if (typeof value === "string") return hasForbiddenCharacters(value) ? { path, message: TEXT_MESSAGES.forbidden } : null;
  if (typeof value !== "object" || value === null) return null;
  if (path.length >= MAX_INPUT_DEPTH) return { path, message: "The input is nested too deeply." };
  // Only plain data: an input whose prototype was set (a `__proto__` key decoded by assignment)
  // is refused, like the key itself.
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null && !(value instanceof Date)) {
    return { path, message: "The input has a key that is not allowed." };
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = hostileInputAt(value[i], [...path, i]);
      if (found) return found;
    }
    return null;
  }
  for (const key of Object.keys(value)) {
    if (key === "__proto__" || hasForbiddenCharacters(key)) return { path, message: "The input has a key that is not allowed." };
    const found = hostileInputAt((value as Record<string, unknown>)[key], [...path, key]);
    if (found) return found;
  }
  return null;
}

/**
 * Every procedure's input is checked for what no procedure may receive, whatever its own schema
 * says, so a procedure added later can't pass a NUL to Postgres either. The problem is reported as
 * a field error, like a schema's own.
 */
const cleanInput = t.middleware(async ({ getRawInput, next }) => {
  const found = hostileInputAt(await getRawInput());
  if (found) {
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: found.message,
      cause: new ZodError([{ code: "custom", path: found.path, message: found.message, input: undefined }]),
    });
  }
  return next();
});

/** Errors thrown while a subscription streams map like any other. */
async function* mappingErrors<T>(events: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* events;
  } catch (error) {
    throw toTRPCError(error);
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

/** Maps domain errors to tRPC codes in one place (the formatter logs the unexpected), and logs the slow. */
const errorsAndTiming = t.middleware(async ({ next, path, type }) => {
  const start = performance.now();
  const result = await next();
  const ms = performance.now() - start;
  if (ms > 1000 && type !== "subscription") console.warn(`[trpc] ${path} took ${ms.toFixed(0)} ms`);
  if (result.ok) {
    if (type === "subscription" && isAsyncIterable(result.data)) return { ...result, data: mappingErrors(result.data) };
    return result;
  }
  const cause = result.error.cause;
  if (cause instanceof DomainError) throw toTRPCError(cause);
  return result;
});

export const publicProcedure = t.procedure.use(errorsAndTiming).use(cleanInput);

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
