// Row 1: round trip of one trivial task, awaited one at a time, through the coordinator and one
// local agent (1 slot), against the bare ws echo (server in another process) and Dask.
import { pick } from '../lib/config.mjs';
import { connectedCluster, loadClustrix } from '../lib/clustrix.mjs';
import { attempt, comparison, latency, rounds } from '../lib/metrics.mjs';
import { runDask } from '../lib/refs.mjs';
import { startEchoServer, connectEcho } from '../refs/ws-echo-client.mjs';

export const meta = { id: 'roundtrip', row: 1, title: 'Round trip of one trivial task (awaited one at a time)' };

export async function run(ctx, log) {
  const N = pick(2000, 300);
  const ROUNDS = pick(5, 2);
  const WARM = pick(1000, 100);
  const metrics = [];
  const comparisons = [];
  const notes = [];
  const failures = [];

  const clx = await attempt(failures, 'clustrix', async () => {
    const { Cluster } = await loadClustrix();
    const cluster = await Cluster.start({ agents: 1, slots: 1 });
    try {
      const perRound = await rounds({ warmup: 1, count: ROUNDS, log, label: 'clustrix run()' }, async ({ warmup }) => {
        const n = warmup ? WARM : N;
        const lat = new Array(n);
        for (let i = 0; i < n; i++) {
          const t = performance.now();
          const v = await cluster.run((x) => x + 1, i);
          lat[i] = performance.now() - t;
          if (v !== i + 1) throw new Error(`run returned ${v} for ${i}`);
        }
        return lat;
      });
      return latency('clustrix', 'clustrix `run(x => x + 1, i)`, 1 agent × 1 slot', perRound);
    } finally {
      await cluster.close();
    }
  }, log);
  if (clx) metrics.push(clx);

  // The same through a service: the program's cluster is Cluster.connect(), the pool the service's.
  const connected = await attempt(failures, 'clustrix connected', async () => {
    const { cluster, close } = await connectedCluster({ agents: 1, slots: 1 });
    try {
      const perRound = await rounds({ warmup: 1, count: ROUNDS, log, label: 'clustrix connected run()' }, async ({ warmup }) => {
        const n = warmup ? WARM : N;
        const lat = new Array(n);
        for (let i = 0; i < n; i++) {
          const t = performance.now();
          const v = await cluster.run((x) => x + 1, i);
          lat[i] = performance.now() - t;
          if (v !== i + 1) throw new Error(`run returned ${v} for ${i}`);
        }
        return lat;
      });
      return latency('clustrix-connected', 'clustrix `run(x => x + 1, i)` through `Cluster.connect()` to a service (same process), 1 agent × 1 slot', perRound);
    } finally {
      await close();
    }
  }, log);
  if (connected) metrics.push(connected);

  const echo = await attempt(failures, 'ws echo reference', async () => {
    const server = await startEchoServer();
    try {
      const client = await connectEcho(server.url);
      const perRound = await rounds({ warmup: 1, count: ROUNDS, log, label: 'ws echo' }, async ({ warmup }) => {
        const n = warmup ? WARM : N;
        const lat = new Array(n);
        for (let i = 0; i < n; i++) {
          const t = performance.now();
          const [v] = await client.roundTrip([i]);
          lat[i] = performance.now() - t;
          if (v !== i) throw new Error('echo mismatch');
        }
        return lat;
      });
      await client.close();
      return latency('ws-echo', 'reference: bare `ws` + msgpackr echo of the same task frame (server in another process)', perRound, { reference: true });
    } finally {
      await server.stop();
    }
  }, log);
  if (echo) metrics.push(echo);
  if (clx && echo) comparisons.push(comparison('vs-echo', 'clustrix median RTT ÷ bare ws echo median RTT', clx.median / echo.median, { op: '<=', value: 1.5 }));
  if (clx && echo && connected) {
    comparisons.push(comparison('connected-vs-embedded', 'connected median RTT ÷ (embedded median + one bare echo hop)', connected.median / (clx.median + echo.median), { op: '<=', value: 1 }));
  }

  if (ctx.dask.ok) {
    const dask = await attempt(failures, 'Dask reference', async () => {
      const r = await runDask('rtt', { warmup: pick(30, 10), n: pick(200, 50), rounds: pick(3, 2), timeoutMs: 180_000 });
      return latency('dask', `reference: Dask \`client.submit(inc, i).result()\`, ${r.workers} worker processes × 1 thread`, r.rounds, { reference: true });
    }, log);
    if (dask) metrics.push(dask);
    if (dask && clx) comparisons.push(comparison('vs-dask', 'Dask median RTT ÷ clustrix median RTT (times faster)', dask.median / clx.median, { op: '>=', value: 50 }));
  } else {
    notes.push(`Dask comparison skipped: ${ctx.dask.reason}`);
  }
  return { metrics, comparisons, notes, failures };
}
