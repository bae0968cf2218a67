// Row 5: agent cold start. Cluster.start({ agents: 1 }) to ready, and within it the agent process's
// spawn() → ready (the coordinator's spawn call is recorded; ready = start() resolved, i.e. the
// agent connected and was welcomed). Floor: `node -e 0`, and for context `node agent.cjs` without
// configuration (the bundle the launcher starts: loads it, then exits at the config check).
import { pick } from '../lib/config.mjs';
import { loadClustrix, recordSpawns } from '../lib/clustrix.mjs';
import { attempt, comparison, perRound, rounds } from '../lib/metrics.mjs';
import { timeProcess } from '../lib/proc.mjs';

export const meta = { id: 'coldstart', row: 5, title: 'Agent cold start (Cluster.start with 1 agent)' };

export async function run(ctx, log) {
  const ROUNDS = pick(7, 3);
  const notes = [];
  const failures = [];
  const metrics = [];
  const comparisons = [];
  const spawns = recordSpawns();
  const { Cluster } = await loadClustrix();
  let agentEntry = null;
  const results = await attempt(failures, 'clustrix', () => rounds({ warmup: 1, count: ROUNDS, log, label: 'Cluster.start' }, async () => {
    spawns.take();
    const t0 = performance.now();
    const cluster = await Cluster.start({ agents: 1, slots: 1 });
    const ready = performance.now();
    const spawned = spawns.take().filter((s) => s.args.some((a) => /agent|main\.js/.test(a)));
    const t1 = performance.now();
    await cluster.close();
    const closeMs = performance.now() - t1;
    if (spawned.length === 1) agentEntry = spawned[0].args.at(-1);
    return { startMs: ready - t0, spawnToReadyMs: spawned.length === 1 ? ready - spawned[0].t : NaN, closeMs };
  }), log);
  spawns.restore();
  let start = null;
  let spawnReady = null;
  if (results) {
    start = perRound('start', 'clustrix `Cluster.start({ agents: 1, slots: 1 })` → resolved', 'ms', 'lower', results.map((r) => r.startMs));
    metrics.push(start);
    const spawnToReady = results.map((r) => r.spawnToReadyMs).filter(Number.isFinite);
    if (spawnToReady.length) {
      spawnReady = perRound('spawn-ready', 'clustrix agent process: spawn() call → connected and ready', 'ms', 'lower', spawnToReady);
      metrics.push(spawnReady);
    } else {
      notes.push('could not see the agent spawn() call (launcher changed?): spawn → ready not reported');
    }
    metrics.push(perRound('close', 'clustrix `cluster.close()` with 1 agent (for context)', 'ms', 'lower', results.map((r) => r.closeMs)));
  }

  // cheap: at least 5 rounds whatever the deadline
  const floor = await rounds({ warmup: 1, count: pick(10, 3), minRounds: pick(5, 2), log, label: 'node -e 0' }, async () => (await timeProcess(process.execPath, ['-e', '0'])).ms);
  const nodeFloor = perRound('node-e-0', 'floor: `node -e 0` spawn → exit', 'ms', 'lower', floor, { reference: true });
  metrics.push(nodeFloor);
  if (agentEntry) {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('CLUSTRIX_')) delete env[k];
    const load = await rounds({ warmup: 1, count: pick(10, 3), minRounds: pick(5, 2), log, label: 'agent bundle load' }, async () => (await timeProcess(process.execPath, [agentEntry], { env })).ms);
    metrics.push(perRound('agent-load', 'context: `node agent.cjs` (the agent bundle the launcher starts) without config (loads the bundle, exits at the config check)', 'ms', 'lower', load, { reference: true }));
  }
  if (start) comparisons.push(comparison('start-vs-floor', 'Cluster.start ÷ `node -e 0`', start.median / nodeFloor.median));
  if (spawnReady) comparisons.push(comparison('spawn-vs-floor', 'agent spawn → ready ÷ `node -e 0`', spawnReady.median / nodeFloor.median));
  return { metrics, comparisons, notes, failures };
}
