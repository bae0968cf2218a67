// Row 4: broadcast to 32 agents on this machine (agents: 32, slots: 1): time until all 32 results
// are back. Also reports how long starting those 32 agents took. Floor, in the same run: the bare
// ws + msgpackr echo (bench/refs) fanned out to 32 echo processes at once, all echoes back: what 32
// processes on this machine's cores cost before any task runs.
import { pick } from '../lib/config.mjs';
import { loadClustrix } from '../lib/clustrix.mjs';
import { attempt, comparison, latency, perRound, rounds } from '../lib/metrics.mjs';
import { connectEcho, startEchoServer } from '../refs/ws-echo-client.mjs';

export const meta = { id: 'broadcast', row: 4, title: 'Broadcast to 32 agents (agents: 32, slots: 1)' };

export async function run(ctx, log) {
  const AGENTS = 32;
  const PER_ROUND = pick(20, 5);
  const ROUNDS = pick(3, 2);
  const metrics = [];
  const notes = [];
  const failures = [];
  const comparisons = [];
  let clx = null;
  await attempt(failures, 'clustrix', async () => {
    const { Cluster } = await loadClustrix();
    const t0 = performance.now();
    const cluster = await Cluster.start({ agents: AGENTS, slots: 1 });
    const startMs = performance.now() - t0;
    log(`${AGENTS} agents up in ${startMs.toFixed(0)} ms`);
    try {
      const connected = (await cluster.agents()).length;
      if (connected !== AGENTS) notes.push(`${connected} agents connected, not ${AGENTS}`);
      const samples = await rounds({ warmup: 1, count: ROUNDS, log, label: 'broadcast' }, async () => {
        const lat = [];
        for (let i = 0; i < PER_ROUND; i++) {
          const t = performance.now();
          const out = await cluster.broadcast((x) => x + 1, i);
          lat.push(performance.now() - t);
          if (out.length !== AGENTS || out.some((v) => v !== i + 1)) throw new Error(`broadcast returned ${out.length} results, expected ${AGENTS}`);
        }
        return lat;
      });
      clx = latency('broadcast', `clustrix \`broadcast(x => x + 1, i)\` to ${AGENTS} agents: all results back`, samples);
      metrics.push(clx);
      metrics.push(perRound('start', `clustrix \`Cluster.start({ agents: ${AGENTS}, slots: 1 })\` (once, for context)`, 'ms', 'lower', [startMs]));
    } finally {
      await cluster.close();
    }
  }, log);
  const floor = await attempt(failures, 'ws echo fan-out reference', async () => {
    const servers = await Promise.all(Array.from({ length: AGENTS }, () => startEchoServer()));
    const conns = await Promise.all(servers.map((s) => connectEcho(s.url)));
    try {
      const samples = await rounds({ warmup: 1, count: ROUNDS, log, label: 'ws echo fan-out' }, async () => {
        const lat = [];
        for (let i = 0; i < PER_ROUND; i++) {
          const t = performance.now();
          const out = await Promise.all(conns.map((c) => c.roundTrip([i])));
          lat.push(performance.now() - t);
          if (out.some((v) => v[0] !== i)) throw new Error('echo mismatch');
        }
        return lat;
      });
      return latency('echo-fanout', `reference: one task frame to each of ${AGENTS} bare ws echo processes at once, all echoes back`, samples, { reference: true });
    } finally {
      await Promise.all(conns.map((c) => c.close()));
      await Promise.all(servers.map((s) => s.stop()));
    }
  }, log);
  if (floor) metrics.push(floor);
  if (clx) comparisons.push(comparison('broadcast-ms', `broadcast to ${AGENTS} agents, median ms (goal: <= 5 ms)`, clx.median, { op: '<=', value: 5 }, { unit: 'ms' }));
  if (clx && floor) comparisons.push(comparison('vs-echo-fanout', `broadcast ÷ the bare echo fan-out to ${AGENTS} processes`, clx.median / floor.median));
  return { metrics, comparisons, notes, failures };
}
