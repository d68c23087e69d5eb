import { TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { getErrorShape, getHTTPStatusCodeFromError, transformTRPCResponse } from "@trpc/server/unstable-core-do-not-import";
import { env } from "@/lib/env.mjs";
import { appRouter } from "@/server/api/root";
import { createTRPCContext } from "@/server/api/trpc";
import { readLimitedBody, trpcBodyLimit } from "@/server/http/body-limit";

export const dynamic = "force-dynamic";

function bodyLimitFor(url: URL) {
  return trpcBodyLimit(decodeURIComponent(url.pathname.slice("/api/trpc/".length)).split(","));
}

/** The same error envelope tRPC itself sends, for a request refused before tRPC reads it. */
function refuse(error: TRPCError) {
  const config = appRouter._def._config;
  const shape = getErrorShape({ config, error, type: "unknown", path: undefined, input: undefined, ctx: undefined });
  return Response.json(transformTRPCResponse(config, { error: shape }), { status: getHTTPStatusCodeFromError(error) });
}

async function handler(incoming: Request) {
  const limit = bodyLimitFor(new URL(incoming.url));
  const req = await readLimitedBody(incoming, limit);
  if (req === "too_large") {
    return refuse(new TRPCError({ code: "PAYLOAD_TOO_LARGE", message: `The request is larger than ${limit / (1024 * 1024)} MB.` }));
  }
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    maxBatchSize: env().MAX_BATCH_SIZE,
    createContext: () => createTRPCContext({ headers: req.headers }),
  });
}

export { handler as GET, handler as POST };
