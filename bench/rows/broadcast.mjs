// Row 4: broadcast to 32 agents on this machine (agents: 32, slots: 1): time until all 32 results
// are back. Also reports how long starting those 32 agents took.
import { pick } from '../lib/config.mjs';
import { loadClustrix } from '../lib/clustrix.mjs';
import { attempt, latency, perRound, rounds } from '../lib/metrics.mjs';

export const meta = { id: 'broadcast', row: 4, title: 'Broadcast to 32 agents (agents: 32, slots: 1)' };

export async function run(ctx, log) {
  const AGENTS = 32;
  const PER_ROUND = pick(20, 5);
  const ROUNDS = pick(3, 2);
  const metrics = [];
  const notes = [];
  const failures = [];
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
      metrics.push(latency('broadcast', `clustrix \`broadcast(x => x + 1, i)\` to ${AGENTS} agents: all results back`, samples));
      metrics.push(perRound('start', `clustrix \`Cluster.start({ agents: ${AGENTS}, slots: 1 })\` (once, for context)`, 'ms', 'lower', [startMs]));
    } finally {
      await cluster.close();
    }
  }, log);
  return { metrics, comparisons: [], notes, failures };
}
