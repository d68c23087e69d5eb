// @ts-check
// Loaded into the app's server process by the avatar bench (`node --import <this file> next start`):
// measures the main thread's event-loop delay with perf_hooks.monitorEventLoopDelay, on demand,
// and answers on its own loopback port (AF_EVENT_LOOP_PROBE_PORT), so the app itself is unchanged.
//   POST /start  clears the histogram and starts sampling (every 1 ms)
//   POST /stop   stops, and answers { samples, p50, p99, max } in milliseconds
// A sample is the time between two 1 ms timer turns: an idle loop reads ~1 ms, a loop blocked for
// 40 ms reads ~41 ms. Worker threads (which inherit --import) do nothing.
import { createServer } from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { isMainThread } from "node:worker_threads";

const port = Number(process.env.AF_EVENT_LOOP_PROBE_PORT);
if (isMainThread && Number.isInteger(port) && port > 0) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const ms = (/** @type {number} */ ns) => Math.round(ns / 1e4) / 100;
  const server = createServer((request, response) => {
    if (request.method === "POST" && request.url === "/start") {
      histogram.reset();
      histogram.enable();
      response.end("{}");
    } else if (request.method === "POST" && request.url === "/stop") {
      histogram.disable();
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ samples: histogram.count, p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) }));
    } else {
      response.statusCode = 404;
      response.end();
    }
  });
  server.on("error", (error) => console.error("event-loop probe:", error.message));
  server.listen(port, "127.0.0.1");
  server.unref();
}
