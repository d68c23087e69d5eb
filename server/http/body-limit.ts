import "server-only";
import { CHARX_MAX_BYTES } from "@/lib/charx-limits";

/**
 * The request with its body read up to `maxBytes`, or "too_large". A declared Content-Length over
 * the limit is refused before anything is read; a body without one (chunked) is read until it
 * passes the limit, then dropped — never buffered whole.
 */
export async function readLimitedBody(request: Request, maxBytes: number): Promise<Request | "too_large"> {
  if (request.method === "GET" || request.method === "HEAD" || !request.body) return request;
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await request.body.cancel().catch(() => {});
    return "too_large";
  }
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return "too_large";
    }
    parts.push(value);
  }
  const body = Buffer.concat(parts);
  return new Request(request.url, { method: request.method, headers: request.headers, body, signal: request.signal });
}

const MB = 1024 * 1024;
/** Request bodies: files travel as base64 (4/3 of their size) in a few procedures; nothing else needs more than this. */
const BODY_LIMIT = 1 * MB;
/** A chat file of up to 5 MB, or a 5 MB portrait or image, as base64 in JSON. */
const FILE_BODY_LIMIT = 12 * MB;
const FILE_PROCEDURES = new Set(["characters.uploadImage", "sessions.importChat", "avatars.generate"]);
/** A 3D avatar (VRM/GLB) of up to 30 MB, as base64 in JSON. */
const MODEL_BODY_LIMIT = 42 * MB;
const MODEL_PROCEDURES = new Set(["avatars.upload"]);
/** A card file with its own files (a .charx, CHARX-JPEG or RisuAI PNG of up to CHARX_MAX_BYTES), as base64 in JSON. */
const CARD_BODY_LIMIT = Math.ceil(CHARX_MAX_BYTES / 3) * 4 + 64 * 1024;
/** A character as real cards make it (text fields of up to 100k characters, hundreds of greetings and lorebook entries): as much as a file. */
const CHARACTER_PROCEDURES = new Set(["characters.create", "characters.update"]);

/**
 * The most a tRPC request may send, by the procedures it calls (a batch: the largest of them).
 * One table for the Node path (server/http/fast-trpc.ts) and the App Router route alike.
 */
export function trpcBodyLimit(procedures: readonly string[]): number {
  if (procedures.includes("characters.importCard")) return CARD_BODY_LIMIT;
  if (procedures.some((name) => MODEL_PROCEDURES.has(name))) return MODEL_BODY_LIMIT;
  return procedures.some((name) => FILE_PROCEDURES.has(name) || CHARACTER_PROCEDURES.has(name)) ? FILE_BODY_LIMIT : BODY_LIMIT;
}
