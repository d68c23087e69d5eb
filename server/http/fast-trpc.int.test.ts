import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll } from "vitest";
import { serveTrpcBesideNext } from "./fast-trpc";

// The whole hostile-input corpus again, over real HTTP through the Node path production serves
// tRPC on (server/http/fast-trpc.ts), beside a stand-in for Next.js that answers everything else.

serveTrpcBesideNext();
// Node refuses request heads over 16 KB (431, before any handler); the corpus's over-long query
// inputs must reach tRPC here to be checked, so this server takes large heads.
const server = http.createServer({ maxHeaderSize: 64 * 1024 * 1024 }, (_req, res) => {
  res.statusCode = 404;
  res.end("not tRPC");
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A Request for http://localhost/… sent to this server instead. */
const overHttp = async (request: Request) => {
  const url = new URL(request.url);
  const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
  return fetch(`${origin}${url.pathname}${url.search}`, { method: request.method, headers: request.headers, body });
};
(globalThis as unknown as { afHttpTransport: unknown }).afHttpTransport = { GET: overHttp, POST: overHttp };

await import("../api/hostile-input.int.test");
