// Row 11: an interactive client beside a batch, in three processes as in the issue (`clustrix up`,
// one program mapping, another doing awaited runs): the service (lib/fairshare-service.mjs, 2
// agents × 1 slot), the batch client (lib/fairshare-batch.mjs) mapping N trivial tasks, and this
// process, the interactive client, doing awaited `run`s, one every few ms, until the map ends.
// Its latency, next to the same runs on the idle pool.
import { fileURLToPath } from 'node:url';
import { pick } from '../lib/config.mjs';
import { loadClustrix } from '../lib/clustrix.mjs';
import { attempt, comparison, latency, perRound } from '../lib/metrics.mjs';
import { spawnTracked } from '../lib/proc.mjs';
import { connectEcho, startEchoServer } from '../refs/ws-echo-client.mjs';

export const meta = { id: 'fairshare', row: 11, title: 'Interactive run beside a 100,000-task map of another client (service, batch and interactive clients: 3 processes)' };

const BATCH = fileURLToPath(new URL('../lib/fairshare-batch.mjs', import.meta.url));
const SERVICE = fileURLToPath(new URL('../lib/fairshare-service.mjs', import.meta.url));
const FLOOD = fileURLToPath(new URL('../refs/ws-flood.mjs', import.meta.url));
const MARK = 'BENCH_JSON ';
const pause = (ms) => new Promise((res) => setTimeout(res, ms));

/** Awaited calls of `once(i)`, one every few ms, until `until(i)`: their latencies. */
async function awaited(once, until) {
  const lat = [];
  for (let i = 0; !until(i); i++) {
    const t = performance.now();
    await once(i);
    lat.push(performance.now() - t);
    await pause(5);
  }
  return lat;
}

function interactiveRuns(cluster, until) {
  return awaited(async (i) => {
    if ((await cluster.run((x) => x + 1, i)) !== i + 1) throw new Error('wrong run result');
  }, until);
}

/** Starts the service program; resolves with its address and credential once it is up. */
function startService(log) {
  const child = spawnTracked(process.execPath, [SERVICE], { env: process.env });
  let out = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    for (const line of d.split('\n')) if (line.trim()) log(`(service) ${line}`);
  });
  child.stdout.setEncoding('utf8');
  const up = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('SERVICE '));
      if (line) resolve(JSON.parse(line.slice('SERVICE '.length)));
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`the service exited with ${signal ?? code} before it was up`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // Its stdin ending is its signal to stop (lib/fairshare-service.mjs).
  const stop = () => {
    child.stdin.end();
    return exited;
  };
  return { up, stop };
}

/** Starts the batch program; `mapping` resolves when its map has started, `done` with its result line. */
function startBatch(opts, n, log) {
  const batch = startProgram(BATCH, process.env, log);
  batch.child.stdin.write(`${JSON.stringify({ ...opts, n })}\n`);
  return batch;
}

/** A batch program (clustrix's, or the floor's flood): prints MAPPING when it starts, then its result line. */
function startProgram(script, env, log) {
  const child = spawnTracked(process.execPath, [script], { env });
  const name = script === BATCH ? 'the batch client' : 'the flood';
  let out = '';
  let err = '';
  let onMapping;
  const mapping = new Promise((resolve) => (onMapping = resolve));
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    out += d;
    if (out.includes('MAPPING\n')) onMapping();
  });
  child.stderr.on('data', (d) => {
    err = (err + d).slice(-4000);
    for (const line of d.split('\n')) if (line.trim()) log(`(batch) ${line}`);
  });
  const done = new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith(MARK));
      if (code === 0 && line) resolve(JSON.parse(line.slice(MARK.length)));
      else reject(new Error(`${name} exited with ${signal ?? code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
  // Should it fail before its map starts, the wait for `mapping` must end too.
  done.catch(() => onMapping());
  return { mapping, done, child };
}

export async function run(ctx, log) {
  const N = pick(100_000, 10_000);
  const IDLE = pick(300, 100);
  const metrics = [];
  const comparisons = [];
  const failures = [];
  const { Cluster } = await loadClustrix();
  await attempt(failures, 'clustrix', async () => {
    const service = startService(log);
    let interactive = null;
    let batch = null;
    try {
      const opts = await service.up;
      interactive = await Cluster.connect(opts);
      await interactive.run((x) => x, 0);
      log(`idle: ${IDLE} awaited runs`);
      const idle = await interactiveRuns(interactive, (i) => i >= IDLE);
      log(`busy: awaited runs while the batch client (its own process) maps ${N} tasks`);
      batch = startBatch(opts, N, log);
      await batch.mapping;
      let mapping = true;
      const finished = batch.done.finally(() => (mapping = false));
      const busy = await interactiveRuns(interactive, () => !mapping);
      const result = await finished;
      log(`map of ${N} took ${(result.ms / 1000).toFixed(1)} s; ${busy.length} runs beside it`);
      const idleM = latency('idle', 'awaited `run` through `Cluster.connect()`, idle pool (2 agents × 1 slot)', [idle]);
      const busyM = latency('busy', `the same while another client (its own process) maps ${N} trivial tasks on the pool`, [busy]);
      metrics.push(idleM, busyM, perRound('map', `the batch client's map of ${N}, wall time (beside the runs)`, 'ms', 'lower', [result.ms]));
      comparisons.push(comparison('busy-p99-ms', 'p99 of the interactive run beside the batch, ms (goal: <= 5 ms)', busyM.p99, { op: '<=', value: 5 }, { unit: 'ms' }));
      comparisons.push(comparison('busy-vs-idle-p99', 'p99 beside the batch ÷ p99 on the idle pool', busyM.p99 / idleM.p99));
    } finally {
      if (batch && batch.child.exitCode === null) batch.child.kill('SIGTERM');
      await interactive?.close();
      await service.stop();
    }
  }, log);
  const mapMs = metrics.find((m) => m.key === 'map')?.median ?? 0;
  const floor = await attempt(failures, 'bare ws floor', () => bareFloor(N, mapMs, log), log);
  if (floor) {
    metrics.push(floor.busy, perRound('floor-flood', `floor: the flood's frames per second through its relay (${floor.n} frames)`, 'tasks/s', 'higher', [(floor.n / floor.ms) * 1000], { reference: true }));
    const busyP99 = metrics.find((m) => m.key === 'busy')?.p99;
    if (busyP99 !== undefined) comparisons.push(comparison('busy-vs-floor-p99', 'p99 beside the batch ÷ p99 of the bare relay → echo round trip beside the bare flood', busyP99 / floor.busy.p99));
  }
  return {
    metrics,
    comparisons,
    notes: ['three processes, as with `clustrix up`: the service with its 2 × 1-slot local agents (lib/fairshare-service.mjs), the batch client (lib/fairshare-batch.mjs), and the interactive client (the row); the machine was shared with other work',
      `floor: what this machine gives the same shape without clustrix: awaited round trips (one every 5 ms) over a bare ws relay process to an echo process of their own (two hops, like client → service → agent), while a flood process keeps 1,024 task frames in flight through another relay to 2 echo processes for as long as the map took (at least ${N} frames): CPU contention alone, no scheduler`],
    failures,
  };
}

/**
 * The same shape without clustrix: an interactive client whose round trips cross two otherwise idle
 * processes (relay → echo), while a flood crosses a relay to two echo processes as fast as they go.
 */
async function bareFloor(n, minMs, log) {
  const servers = [];
  const start = async (opts) => {
    const server = await startEchoServer(opts);
    servers.push(server);
    return server;
  };
  try {
    const batchEchoes = await Promise.all([start(), start()]);
    const batchRelay = await start({ script: 'ws-relay.mjs', env: { ...process.env, RELAY_UPSTREAMS: batchEchoes.map((e) => e.url).join(',') } });
    const ownEcho = await start();
    const ownRelay = await start({ script: 'ws-relay.mjs', env: { ...process.env, RELAY_UPSTREAMS: ownEcho.url } });
    const conn = await connectEcho(ownRelay.url);
    try {
      for (let i = 0; i < 200; i++) await conn.roundTrip([i]); // warm-up
      log(`floor: awaited bare round trips beside a flood of ${n} frames`);
      const flood = startProgram(FLOOD, { ...process.env, FLOOD_URL: batchRelay.url, FLOOD_N: String(n), FLOOD_MIN_MS: String(Math.round(minMs)) }, log);
      await flood.mapping;
      let flooding = true;
      const finished = flood.done.finally(() => (flooding = false));
      const lat = await awaited(async (i) => {
        const [v] = await conn.roundTrip([i]);
        if (v !== i) throw new Error('echo mismatch');
      }, () => !flooding);
      const result = await finished;
      log(`floor: flood of ${result.n} took ${(result.ms / 1000).toFixed(1)} s; ${lat.length} round trips beside it`);
      return { busy: latency('floor-busy', 'floor: awaited bare ws round trip over a relay → echo (processes of their own) while a bare flood runs as long as the map did', [lat], { reference: true }), ms: result.ms, n: result.n };
    } finally {
      await conn.close();
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}
