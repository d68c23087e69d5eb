// scratch: what the app's database connections do during a 50-stream burst (deleted after use)
import { appStream, percentile, run, setUp, waitForUpstreamIdle } from "./chat";

await run(async () => {
  const { fake, database, client, sessionIds } = await setUp();
  const burst = () => Promise.all(sessionIds.map((id) => appStream(client, id)));
  await burst();
  await waitForUpstreamIdle(fake);

  interface Row { state: string | null; wait_event_type: string | null; wait_event: string | null; q: string }
  const samples: { at: number; rows: Row[] }[] = [];
  let sampling = true;
  const t0 = performance.now();
  const sampler = (async () => {
    while (sampling) {
      const rows = await database.sql<Row[]>`
        select state, wait_event_type, wait_event, left(regexp_replace(query, '\s+', ' ', 'g'), 90) as q
        from pg_stat_activity
        where backend_type = 'client backend' and pid <> pg_backend_pid() and state <> 'idle'`;
      samples.push({ at: performance.now() - t0, rows: [...rows] });
    }
  })();
  const results = await burst();
  sampling = false;
  await sampler;

  console.log("app TTFT p50", percentile(results.map((r) => r.ttftMs), 50).toFixed(0),
    "send p50", percentile(results.map((r) => r.breakdown!.sendMs), 50).toFixed(0));
  console.log(`samples: ${samples.length} over ${(performance.now() - t0).toFixed(0)} ms`);
  // timeline in 50 ms buckets: active connections, of which waiting on a lock / in a transaction idle
  const buckets = new Map<number, { n: number; active: number; lock: number; idleTx: number }>();
  for (const s of samples) {
    const b = Math.floor(s.at / 50) * 50;
    const e = buckets.get(b) ?? { n: 0, active: 0, lock: 0, idleTx: 0 };
    e.n += 1;
    e.active += s.rows.filter((r) => r.state === "active").length;
    e.lock += s.rows.filter((r) => r.wait_event_type === "Lock").length;
    e.idleTx += s.rows.filter((r) => r.state === "idle in transaction").length;
    buckets.set(b, e);
  }
  console.log("t(ms)  busy-conns(avg)  active  waiting-on-lock  idle-in-tx");
  for (const [b, e] of [...buckets.entries()].sort((x, y) => x[0] - y[0]).slice(0, 40)) {
    console.log(String(b).padStart(5), ((e.active + e.idleTx) / e.n).toFixed(1).padStart(8), (e.active / e.n).toFixed(1).padStart(8), (e.lock / e.n).toFixed(1).padStart(8), (e.idleTx / e.n).toFixed(1).padStart(8));
  }
  const counts = new Map<string, number>();
  for (const s of samples.filter((x) => x.at < 700)) for (const r of s.rows) {
    const k = `${r.state} ${r.wait_event_type ?? ""}:${r.wait_event ?? ""} ${r.q}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  console.log("\nmost seen (first 700 ms):");
  for (const [k, n] of [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 14)) console.log(String(n).padStart(5), k);
  const maxBusy = Math.max(...samples.map((s) => s.rows.length));
  console.log("max simultaneous non-idle app connections:", maxBusy);
});
