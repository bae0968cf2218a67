// Row 10: dispatch throughput against many agents. Simulated agents (bench/refs/fake-agents.mjs:
// protocol-speaking connections in 1-2 child processes that answer each task at once) so the
// coordinator is the bottleneck: `map(x => x + 1, N)` tasks/s with 8, 512 and 2,048 of them, next to
// a bare ws round robin over the same number of connections (the limit), and the coordinator's
// memory per connected agent. One real local agent (1 slot) is connected too (Cluster.start needs one).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Packr } from 'msgpackr';
import WebSocket from 'ws';
import { pick } from '../lib/config.mjs';
import { loadClustrix } from '../lib/clustrix.mjs';
import { attempt, comparison, perRound, rounds } from '../lib/metrics.mjs';
import { spawnTracked } from '../lib/proc.mjs';
import { startEchoServer } from '../refs/ws-echo-client.mjs';

export const meta = { id: 'dispatch', row: 10, title: 'Dispatch throughput with 8 / 512 / 2,048 simulated agents' };

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const envelope = new Packr({ useRecords: false, mapsAsObjects: true });

function agentUrl(pid) {
  const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  return env.find((e) => e.startsWith('CLUSTRIX_URL='))?.slice('CLUSTRIX_URL='.length);
}

/** Starts `count` simulated agents in one or two processes; resolves once all are welcomed. */
async function fakeAgents(url, token, count) {
  const dist = join(process.env.BENCH_DIST ?? join(ROOT, 'dist'), 'protocol', 'index.js');
  const script = fileURLToPath(new URL('../refs/fake-agents.mjs', import.meta.url));
  const parts = count > 64 ? [Math.ceil(count / 2), Math.floor(count / 2)] : [count];
  const children = parts.map((n) => spawnTracked(process.execPath, [script], { env: { ...process.env, CLUSTRIX_URL: url, CLUSTRIX_TOKEN: token, PROTOCOL_DIST: dist, COUNT: String(n) } }));
  await Promise.all(children.map((child) => new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.once('data', resolve);
    child.stderr.pipe(process.stderr);
    child.once('exit', (code) => reject(new Error(`fake agents exited with ${code}`)));
  })));
  return () => Promise.all(children.map((c) => new Promise((res) => (c.exitCode !== null ? res() : (c.once('exit', res), c.stdin.end())))));
}

/** Bare ws: `n` frames of one small message, round robin over `count` connections, `window` in flight. */
async function wsRoundRobin(url, count, n) {
  const sockets = await Promise.all(Array.from({ length: count }, () => new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  })));
  const frame = envelope.pack([{ type: 'task', id: 'x'.repeat(12), code: 'h'.repeat(16), export: null, args: new Uint8Array(4), inline: false, chunk: false, timeoutMs: null }]);
  const window = Math.max(64, count * 2);
  let sent = 0;
  let got = 0;
  const t = performance.now();
  await new Promise((resolve) => {
    const pump = () => {
      while (sent < n && sent - got < window) sockets[sent++ % count].send(frame);
    };
    for (const ws of sockets) {
      ws.on('message', () => {
        got++;
        if (got === n) resolve();
        else pump();
      });
    }
    pump();
  });
  const ms = performance.now() - t;
  for (const ws of sockets) ws.close();
  return (n / ms) * 1000;
}

export async function run(ctx, log) {
  const COUNTS = pick([8, 512, 2048], [8, 64, 256]);
  const N = pick(100_000, 10_000);
  const ROUNDS = pick(2, 1);
  const metrics = [];
  const comparisons = [];
  const failures = [];
  const notes = ['one real local agent (1 slot) is connected beside the simulated ones; simulated agents have 1 slot each'];
  const { Cluster } = await loadClustrix();
  const rates = {};
  const refRates = {};
  for (const count of COUNTS) {
    const r = await attempt(failures, `clustrix ${count} agents`, async () => {
      const token = randomBytes(16).toString('hex');
      const cluster = await Cluster.start({ agents: 1, slots: 1, token });
      let stop = async () => undefined;
      try {
        const [real] = await cluster.agents();
        // After full GCs each time (the row runs with --expose-gc): without them the garbage of the
        // previous count's rounds, collected while these agents connect, made the growth negative.
        // Three GCs a turn apart: the previous count's closed sockets free their memory in callbacks.
        const settled = async () => {
          for (let i = 0; i < 3; i++) {
            await new Promise((res) => setTimeout(res, 20));
            global.gc();
          }
          const m = process.memoryUsage();
          return { rss: m.rss, heap: m.heapUsed + m.external };
        };
        const before = await settled();
        stop = await fakeAgents(agentUrl(real.pid), token, count);
        while ((await cluster.agents()).length < count + 1) await new Promise((res) => setTimeout(res, 50));
        const after = await settled();
        metrics.push(perRound(`memory-${count}`, `coordinator RSS growth with ${count} simulated agents connected, after a full GC (÷ ${count} = per agent)`, 'MB', 'lower', [(after.rss - before.rss) / 1e6]));
        metrics.push(perRound(`heap-${count}`, `coordinator V8 heap + external growth, the same (÷ ${count} = per agent)`, 'MB', 'lower', [(after.heap - before.heap) / 1e6]));
        const values = await rounds({ warmup: 1, count: ROUNDS, log, label: `dispatch ${count} agents` }, async () => {
          // A full-size warm-up, as in row 2 (a fresh process's first large map runs slower).
          const items = Array.from({ length: N }, (_, i) => i);
          const t = performance.now();
          const out = await cluster.map((x) => x + 1, items);
          if (out.length !== items.length) throw new Error('wrong map result');
          return (items.length / (performance.now() - t)) * 1000;
        });
        return perRound(`clustrix-${count}`, `clustrix \`map(x => x + 1, ${N})\` over ${count} simulated agents`, 'tasks/s', 'higher', values);
      } finally {
        await cluster.close();
        await stop();
      }
    }, log);
    if (r) {
      metrics.push(r);
      rates[count] = r.median;
    }
    const ref = await attempt(failures, `ws round robin ${count}`, async () => {
      const server = await startEchoServer();
      try {
        const values = await rounds({ warmup: 1, count: ROUNDS, log, label: `ws round robin ${count}` }, () => wsRoundRobin(server.url, count, N));
        return perRound(`ws-${count}`, `reference: bare ws round robin of one task frame over ${count} connections to an echo process`, 'tasks/s', 'higher', values, { reference: true });
      } finally {
        await server.stop();
      }
    }, log);
    if (ref) {
      metrics.push(ref);
      refRates[count] = ref.median;
    }
    if (r && ref) comparisons.push(comparison(`vs-ws-${count}`, `clustrix tasks/s ÷ bare ws round robin, ${count} connections`, r.median / ref.median));
  }
  const [low, , high] = COUNTS;
  if (rates[low] && rates[high]) comparisons.push(comparison('scaling', `tasks/s with ${high} agents ÷ with ${low}`, rates[high] / rates[low], { op: '>=', value: 0.8 }));
  // The transport's own scaling: with more connections than tasks in flight every task is a frame
  // (and a write) of its own, and the bare round robin pays that as well.
  if (refRates[low] && refRates[high]) comparisons.push(comparison('ws-scaling', `reference: bare ws round robin, ${high} connections ÷ ${low}`, refRates[high] / refRates[low]));
  return { metrics, comparisons, notes, failures };
}
