/**
 * A single byte range from a `Range` header (RFC 9110 §14.1.2), for a resource of `size` bytes:
 * `{ start, end }` (inclusive), "unsatisfiable" (416), or null when the header is absent,
 * malformed or asks for several ranges — then the whole resource is sent (200), as the RFC allows.
 */
export function parseByteRange(header: string | null, size: number): { start: number; end: number } | "unsatisfiable" | null {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return null;
  const [, first, last] = match;
  if (first === "" && last === "") return null;
  if (first === "") {
    // The last N bytes.
    const suffix = Number(last);
    if (suffix === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return "unsatisfiable";
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return null;
  return { start, end };
}

/**
 * Serves immutable bytes the way media players expect: a strong ETag (304 on a match), a year of
 * caching, `Accept-Ranges`, and 206 partial content for a Range request (also for HEAD).
 * `cache: "private"` is for bytes only some viewers may get, and whose audience can change (a
 * portrait of a character made private): only the browser that asked may keep them, never a
 * shared cache (CDN, proxy) that would hand them to the next person. The caller checks access
 * before any of this, so a 304 or a range is only ever answered to someone allowed the whole.
 */
export function immutableBytesResponse(
  request: Request,
  body: { bytes: Buffer; contentType: string; etag: string },
  { cache = "public" }: { cache?: "public" | "private" } = {},
) {
  const etag = `"${body.etag}"`;
  const size = body.bytes.length;
  const headers: Record<string, string> = {
    "Content-Type": body.contentType,
    "Cache-Control": `${cache}, max-age=31536000, immutable`,
    ETag: etag,
    "Accept-Ranges": "bytes",
    "X-Content-Type-Options": "nosniff",
  };
  const head = request.method === "HEAD";
  if (request.headers.get("if-none-match")?.split(/\s*,\s*/).includes(etag)) return new Response(null, { status: 304, headers });
  // If-Range with another validator: the client's partial copy is stale, send everything.
  const ifRange = request.headers.get("if-range");
  const range = ifRange && ifRange !== etag ? null : parseByteRange(request.headers.get("range"), size);
  if (range === "unsatisfiable") {
    return new Response(null, { status: 416, headers: { ...headers, "Content-Range": `bytes */${size}` } });
  }
  if (range) {
    const part = body.bytes.subarray(range.start, range.end + 1);
    return new Response(head ? null : new Uint8Array(part), {
      status: 206,
      headers: { ...headers, "Content-Range": `bytes ${range.start}-${range.end}/${size}`, "Content-Length": String(part.length) },
    });
  }
  return new Response(head ? null : new Uint8Array(body.bytes), { headers: { ...headers, "Content-Length": String(size) } });
}
