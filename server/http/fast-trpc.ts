import "server-only";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { TRPCError } from "@trpc/server";
import { nodeHTTPRequestHandler } from "@trpc/server/adapters/node-http";
import { getErrorShape, getHTTPStatusCodeFromError, transformTRPCResponse } from "@trpc/server/unstable-core-do-not-import";
import { env } from "@/lib/env.mjs";
import { contentSecurityPolicy, SECURITY_HEADERS } from "@/lib/security-headers.mjs";
import { appRouter } from "@/server/api/root";
import { createTRPCContext } from "@/server/api/trpc";
import { trpcBodyLimit } from "./body-limit";

/*
 * The tRPC endpoint on Node's own request path, beside Next.js in the same server process. The
 * App Router's route handler (app/api/trpc) costs a request its routing, tracing and a second pair
 * of web streams for every streamed event; on a 2-core machine that was most of a one-query
 * procedure's CPU and of the first token's delay. Requests for /api/trpc/* are taken from the
 * HTTP server before Next.js sees them and answered by tRPC's Node adapter with the same router,
 * context (auth), error boundary, batch limit, body limits and security headers; everything else
 * goes to Next.js as before. `AF_TRPC_VIA_NEXT=1` turns this off (the benchmark compares both).
 */

const PREFIX = "/api/trpc/";
function bodyLimitFor(path: string) {
  return trpcBodyLimit(path.split(","));
}

/** What next.config.mjs sets on every API response. */
const API_HEADERS: [string, string][] = Object.entries({ ...SECURITY_HEADERS, "content-security-policy": contentSecurityPolicy() });

/** The same error envelope tRPC itself sends, for a request refused before tRPC reads it. */
function refuse(res: ServerResponse, error: TRPCError) {
  const config = appRouter._def._config;
  const shape = getErrorShape({ config, error, type: "unknown", path: undefined, input: undefined, ctx: undefined });
  res.statusCode = getHTTPStatusCodeFromError(error);
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(transformTRPCResponse(config, { error: shape })));
}

function headersOf(req: IncomingMessage) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  return headers;
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  for (const [name, value] of API_HEADERS) res.setHeader(name, value);
  const url = req.url ?? "";
  const query = url.indexOf("?");
  let path: string;
  try {
    path = decodeURIComponent(url.slice(PREFIX.length, query < 0 ? undefined : query));
  } catch {
    return refuse(res, new TRPCError({ code: "BAD_REQUEST", message: "The request path is not valid." }));
  }
  const limit = bodyLimitFor(path);
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return refuse(res, new TRPCError({ code: "PAYLOAD_TOO_LARGE", message: `The request is larger than ${limit / (1024 * 1024)} MB.` }));
  }
  await nodeHTTPRequestHandler({
    req,
    res,
    path,
    router: appRouter,
    maxBodySize: limit,
    maxBatchSize: env().MAX_BATCH_SIZE,
    createContext: () => createTRPCContext({ headers: headersOf(req) }),
  });
}

type Emit = (this: http.Server, event: string | symbol, ...args: unknown[]) => boolean;

/** Installs the fast path on every HTTP server of this process (once; production only). */
export function serveTrpcBesideNext() {
  const holder = globalThis as unknown as { afFastTrpc?: boolean };
  if (holder.afFastTrpc || process.env.AF_TRPC_VIA_NEXT === "1") return;
  holder.afFastTrpc = true;
  const proto = http.Server.prototype as unknown as { emit: Emit };
  const emit = proto.emit;
  proto.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]) {
    if (event === "request") {
      const [req, res] = args as [IncomingMessage, ServerResponse];
      if (req.url?.startsWith(PREFIX)) {
        handle(req, res).catch((error: unknown) => {
          console.error("[trpc] the request could not be answered", error);
          if (!res.headersSent) refuse(res, new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "Something went wrong on our side." }));
          else res.destroy();
        });
        return true;
      }
    }
    return emit.call(this, event, ...args);
  };
}
