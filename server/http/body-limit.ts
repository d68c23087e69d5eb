import "server-only";

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
