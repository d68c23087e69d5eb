import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent, getGlobalDispatcher, setGlobalDispatcher } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { longFetch } from "./long-fetch";

// Node's fetch waits 300 s for response headers; here its default dispatcher waits 300 ms, so a
// server that answers "late" only needs to answer after that.
let original: ReturnType<typeof getGlobalDispatcher>;
const shortened = new Agent({ headersTimeout: 300 });
let server: Server;
let base: string;
/** Requests held without an answer, answered when the test says. */
const held: Array<{ req: IncomingMessage; res: ServerResponse; body: string }> = [];

beforeAll(async () => {
  original = getGlobalDispatcher();
  setGlobalDispatcher(shortened);
  server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += String(chunk);
    if (req.url === "/now") return void res.end(`${req.headers["content-type"]}|${body}`);
    held.push({ req, res, body });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  setGlobalDispatcher(original);
  await shortened.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("longFetch", () => {
  it("waits past the default dispatcher's header timeout, up to its own", async () => {
    const late = longFetch({ headersTimeoutMs: 60_000, bodyTimeoutMs: 60_000 })(`${base}/late`);
    // Once the default dispatcher gave up on a request sent after it, the long one has waited longer.
    await expect(fetch(`${base}/witness`)).rejects.toMatchObject({ cause: { code: "UND_ERR_HEADERS_TIMEOUT" } });
    for (const entry of held.splice(0)) entry.res.end(entry.req.url);
    const response = await late;
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("/late");
  });

  it("gives up at its own header timeout", async () => {
    await expect(longFetch({ headersTimeoutMs: 200, bodyTimeoutMs: 60_000 })(`${base}/never`)).rejects.toMatchObject({
      cause: { code: "UND_ERR_HEADERS_TIMEOUT" },
    });
    for (const entry of held.splice(0)) entry.res.destroy();
  });

  it("sends a built-in FormData as multipart, and the caller's signal still aborts", async () => {
    const form = new FormData();
    form.append("seed", "5");
    form.append("file", new Blob([new Uint8Array([65, 66])], { type: "image/png" }), "image.png");
    const long = longFetch({ headersTimeoutMs: 60_000, bodyTimeoutMs: 60_000 });
    const text = await (await long(`${base}/now`, { method: "POST", body: form })).text();
    expect(text).toMatch(/^multipart\/form-data; boundary=/);
    expect(text).toContain('name="seed"\r\n\r\n5');
    expect(text).toContain('filename="image.png"');

    const controller = new AbortController();
    const pending = long(`${base}/held`, { signal: controller.signal });
    controller.abort(new DOMException("stopped", "AbortError"));
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    for (const entry of held.splice(0)) entry.res.destroy();
  });
});
