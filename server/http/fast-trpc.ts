import "server-only";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { TRPCError } from "@trpc/server";
import { nodeHTTPRequestHandler } from "@trpc/server/adapters/node-http";
import { getErrorShape, getHTTPStatusCodeFromError, transformTRPCResponse } from "@trpc/server/unstable-core-do-not-import";
import { env } from "@/lib/env.mjs";
import { contentSecurityPolicy, SECURITY_HEADERS } from "@/lib/security-headers.mjs";
import { appRouter } from "@/server/api/root";
import { createTRPCContext } from "@/server/api/trpc";

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
const MB = 1024 * 1024;
/** As app/api/trpc: files travel as base64 in two procedures; nothing else needs more than 1 MB. */
const BODY_LIMIT = 1 * MB;
const FILE_BODY_LIMIT = 12 * MB;
const FILE_PROCEDURES = new Set(["characters.importCard", "characters.uploadImage", "sessions.importChat", "avatars.generate"]);
/** A 3D avatar (VRM/GLB) of up to 30 MB as base64 in JSON. */
const MODEL_BODY_LIMIT = 42 * MB;
const MODEL_PROCEDURES = new Set(["avatars.upload"]);

function bodyLimitFor(path: string) {
  const names = path.split(",");
  if (names.some((name) => MODEL_PROCEDURES.has(name))) return MODEL_BODY_LIMIT;
  return names.some((name) => FILE_PROCEDURES.has(name)) ? FILE_BODY_LIMIT : BODY_LIMIT;
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
    return refuse(res, new TRPCError({ code: "PAYLOAD_TOO_LARGE", message: `The request is larger than ${limit / MB} MB.` }));
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
