// scratch: CPU timeline of the app during a 50-stream burst, and staggered starts (deleted after use)
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Ollama } from "ollama";
import { appStream, directStream, percentile, run, setUp, waitForUpstreamIdle } from "./chat";

const ticks = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
};
const p50 = (xs: number[]) => percentile(xs, 50).toFixed(1);

await run(async () => {
  const { fake, client, sessionIds, pid } = await setUp();
  const ollama = new Ollama({ host: fake.url });
  const burst = () => Promise.all(sessionIds.map((id) => appStream(client, id)));
  await burst();
  await waitForUpstreamIdle(fake);

  // CPU timeline of the app (ticks of 10 ms per 100 ms bucket = % of a core / 10)
  const timeline: number[] = [];
  let last = ticks(pid);
  const timer = setInterval(() => { const t = ticks(pid); timeline.push(t - last); last = t; }, 100);
  const b = await burst();
  clearInterval(timer);
  console.log("burst: TTFT p50", p50(b.map((r) => r.ttftMs)), "send p50", p50(b.map((r) => r.breakdown!.sendMs)));
  console.log("app CPU % of one core per 100 ms:", timeline.map((t) => t * 10).join(" "));

  for (const spreadMs of [400, 800]) {
    for (const path of ["direct", "app"] as const) {
      const all = [];
      for (let round = 0; round < 3; round += 1) {
        await waitForUpstreamIdle(fake);
        all.push(...(await Promise.all(sessionIds.map(async (id, i) => {
          await sleep((i * spreadMs) / sessionIds.length);
          return path === "app" ? appStream(client, id) : directStream(ollama);
        }))));
      }
      const extra = path === "app" ? ` send p50 ${p50(all.map((r) => r.breakdown!.sendMs))} server-1st-token p50 ${p50(all.map((r) => r.breakdown!.serverFirstTokenMs))}` : "";
      console.log(`staggered over ${spreadMs} ms, ${path}: TTFT p50 ${p50(all.map((r) => r.ttftMs))} p99 ${percentile(all.map((r) => r.ttftMs), 99).toFixed(1)}${extra}`);
    }
  }
});
