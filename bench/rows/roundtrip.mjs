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

  // The three are measured in the same rounds, one after the other (clustrix, connected, echo),
  // so a change in the machine's load during the row weighs on each alike.
  const subjects = [];
  const perRound = new Map();
  const closers = [];
  let inlineCall = null;
  const setup = async (key, what, open) => {
    const got = await attempt(failures, what, open, log);
    if (!got) return;
    closers.push(got.close);
    subjects.push({ key, call: got.call });
    perRound.set(key, []);
  };
  try {
    await setup('clustrix', 'clustrix', async () => {
      const { Cluster } = await loadClustrix();
      const cluster = await Cluster.start({ agents: 1, slots: 1 });
      // The main-thread fast path for tasks that need no kill: `inline: true` runs on the agent's
      // event loop (no worker thread, so no thread hops, and no termination on cancel or timeout).
      const inc = cluster.remote((x) => x + 1, { inline: true });
      inlineCall = (i) => inc(i);
      return { call: (i) => cluster.run((x) => x + 1, i), close: () => cluster.close() };
    });
    if (inlineCall) {
      const call = inlineCall;
      subjects.push({ key: 'clustrix-inline', call });
      perRound.set('clustrix-inline', []);
    }
    // The same through a service: the program's cluster is Cluster.connect(), the pool the service's.
    await setup('clustrix-connected', 'clustrix connected', async () => {
      const { cluster, close } = await connectedCluster({ agents: 1, slots: 1 });
      return { call: (i) => cluster.run((x) => x + 1, i), close };
    });
    await setup('ws-echo', 'ws echo reference', async () => {
      const server = await startEchoServer();
      const client = await connectEcho(server.url);
      return {
        // The echo sends i back; the +1 is done here, so every subject answers i + 1.
        call: async (i) => (await client.roundTrip([i]))[0] + 1,
        close: async () => {
          await client.close();
          await server.stop();
        },
      };
    });
    await attempt(failures, 'round trips', () => rounds({ warmup: 1, count: ROUNDS, log, label: subjects.map((s) => s.key).join(' + ') }, async ({ warmup }) => {
      const n = warmup ? WARM : N;
      for (const subject of subjects) {
        const lat = new Array(n);
        for (let i = 0; i < n; i++) {
          const t = performance.now();
          const v = await subject.call(i);
          lat[i] = performance.now() - t;
          if (v !== i + 1) throw new Error(`${subject.key} returned ${v} for ${i}`);
        }
        if (!warmup) perRound.get(subject.key).push(lat);
      }
    }), log);
  } finally {
    for (const close of closers.reverse()) await close();
  }
  const measured = (key, title, extra) => (perRound.get(key)?.length ? latency(key, title, perRound.get(key), extra) : null);
  const clx = measured('clustrix', 'clustrix `run(x => x + 1, i)`, 1 agent × 1 slot');
  const inline = measured('clustrix-inline', 'clustrix `remote(x => x + 1, { inline: true })(i)`: the same agent, on its event loop (no worker thread)');
  const connected = measured('clustrix-connected', 'clustrix `run(x => x + 1, i)` through `Cluster.connect()` to a service (same process), 1 agent × 1 slot');
  const echo = measured('ws-echo', 'reference: bare `ws` + msgpackr echo of the same task frame (server in another process)', { reference: true });
  for (const m of [clx, inline, connected, echo]) if (m) metrics.push(m);
  if (clx && echo) comparisons.push(comparison('vs-echo', 'clustrix median RTT ÷ bare ws echo median RTT', clx.median / echo.median, { op: '<=', value: 1.5 }));
  if (inline && echo) comparisons.push(comparison('inline-vs-echo', 'inline (`inline: true`, no worker thread, no kill) median RTT ÷ bare ws echo median RTT', inline.median / echo.median, { op: '<=', value: 1.5 }));
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
