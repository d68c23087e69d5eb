import { TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { getErrorShape, getHTTPStatusCodeFromError, transformTRPCResponse } from "@trpc/server/unstable-core-do-not-import";
import { env } from "@/lib/env.mjs";
import { appRouter } from "@/server/api/root";
import { createTRPCContext } from "@/server/api/trpc";
import { readLimitedBody } from "@/server/http/body-limit";

export const dynamic = "force-dynamic";

const MB = 1024 * 1024;
/** Request bodies: files travel as base64 (4/3 of their size) in a few procedures; nothing else needs more than this. */
const BODY_LIMIT = 1 * MB;
/** A card file of up to 8 MB, or a 5 MB portrait, as base64 in JSON. */
const FILE_BODY_LIMIT = 12 * MB;
const FILE_PROCEDURES = new Set(["characters.importCard", "characters.uploadImage", "sessions.importChat", "avatars.generate"]);
/** A 3D avatar (VRM/GLB) of up to 30 MB as base64 in JSON. */
const MODEL_BODY_LIMIT = 42 * MB;
const MODEL_PROCEDURES = new Set(["avatars.upload"]);

function bodyLimitFor(url: URL) {
  const paths = decodeURIComponent(url.pathname.slice("/api/trpc/".length)).split(",");
  if (paths.some((path) => MODEL_PROCEDURES.has(path))) return MODEL_BODY_LIMIT;
  return paths.some((path) => FILE_PROCEDURES.has(path)) ? FILE_BODY_LIMIT : BODY_LIMIT;
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
    return refuse(new TRPCError({ code: "PAYLOAD_TOO_LARGE", message: `The request is larger than ${limit / MB} MB.` }));
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
