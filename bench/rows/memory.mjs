// Row 7: memory. The coordinator's peak RSS while `map` runs over 1,000,000 trivial items (in a
// child process; 2 agents × 1 slot), against the RSS of a process that only holds the 1M-item
// input and output arrays (and the same clustrix import). Bounded by backpressure means: the map
// adds a constant, not something that grows with the input. Also an idle agent's RSS (VmRSS of
// the agent pids from (await cluster.agents())).
import { fileURLToPath } from 'node:url';
import { pick, timeLeftMs } from '../lib/config.mjs';
import { MB } from '../lib/clustrix.mjs';
import { attempt, comparison, median, perRound, rounds } from '../lib/metrics.mjs';
import { runJson } from '../lib/proc.mjs';

export const meta = { id: 'memory', row: 7, title: 'Memory: coordinator peak RSS during map of 1M items; idle agent RSS' };

const CHILD = fileURLToPath(new URL('../lib/memory-child.mjs', import.meta.url));
const child = (args, timeoutMs = 60_000) => runJson(process.execPath, ['--expose-gc', CHILD, ...args.map(String)], { prefix: 'memory-child', timeoutMs });

export async function run(ctx, log) {
  const N = pick(1_000_000, 100_000);
  // Past the cap the input is cut short (and the row says so); the cap shrinks to fit the run's deadline.
  const CAP_MS = Math.round(Math.max(pick(90_000, 20_000), Math.min(pick(150_000, 30_000), timeLeftMs() - 30_000)));
  const notes = [];
  const failures = [];
  const idle = await rounds({ warmup: 0, count: 3, log, label: 'idle process' }, async () => (await child(['idle'])).mem.hwm / MB);
  const arrays = await rounds({ warmup: 0, count: 3, log, label: `arrays ${N}` }, async () => (await child(['arrays', N])).mem.hwm / MB);
  const maps = await attempt(failures, 'clustrix', () => rounds({ warmup: 0, count: 2, minRounds: 1, budgetMs: pick(60_000, 10_000), log, label: `map ${N}` }, async () => {
    const r = await child(['map', N, CAP_MS], CAP_MS + 90_000);
    if (r.error) throw new Error(`map failed after ${r.itemsDone} of ${N} items: ${r.error}`);
    return r;
  }), log);
  const refs = [
    perRound('arrays', `reference: process holding the ${N.toLocaleString('en-US')}-item input and output arrays (clustrix imported): peak RSS`, 'MB', 'lower', arrays, { reference: true }),
    perRound('idle', 'reference: process with clustrix imported, nothing else: peak RSS', 'MB', 'lower', idle, { reference: true }),
  ];
  if (!maps) return { metrics: refs, comparisons: [], notes, failures };
  const peak = maps.map((r) => r.mem.hwm / MB);
  const metrics = [
    perRound('map-peak', `coordinator peak RSS (VmHWM) during \`map(x => x + 1, ${N.toLocaleString('en-US')} items)\`, 2 agents × 1 slot`, 'MB', 'lower', peak),
    ...refs,
  ];
  const agentFresh = maps.flatMap((r) => r.agentsIdleFresh.map((a) => a.rss / MB));
  const agentAfter = maps.flatMap((r) => r.agentsIdleAfter.map((a) => a.rss / MB));
  metrics.push(perRound('agent-idle', 'idle agent RSS (VmRSS), just started', 'MB', 'lower', agentFresh, { nUnit: 'agents' }));
  metrics.push(perRound('agent-idle-after', 'idle agent RSS (VmRSS), 1 s after the map', 'MB', 'lower', agentAfter, { nUnit: 'agents' }));
  const heap = maps.map((r) => r.heapPeak / MB);
  metrics.push(perRound('map-heap', 'coordinator peak heapUsed during the map (100 ms samples)', 'MB', 'lower', heap));
  const live = maps.filter((r) => r.liveHeapAfter !== undefined).map((r) => (r.liveHeapAfter - r.liveHeapBefore) / MB);
  if (live.length) {
    metrics.push(perRound('map-live', 'coordinator live heap after the map minus before it (full GC each time): what the map keeps, its result array included', 'MB', 'lower', live));
  }

  const arraysMed = median(arrays);
  const comparisons = [
    comparison('map-vs-arrays', 'map peak RSS ÷ arrays-only peak RSS', median(peak) / arraysMed),
  ];
  const r0 = maps[0];
  if (!r0.completed) {
    notes.push(`the map ran past its ${CAP_MS / 1000} s cap: its input was cut after ${r0.resultLength?.toLocaleString('en-US')} of ${N.toLocaleString('en-US')} items (the whole array was still held); peak RSS is of that part`);
  } else {
    notes.push(`map of ${N.toLocaleString('en-US')} items took ${(r0.elapsedMs / 1000).toFixed(1)} s`);
  }
  notes.push(`map peak − arrays-only peak = ${(median(peak) - arraysMed).toFixed(1)} MB (the cost of running the map, uncollected garbage included)`);
  // Growth: RSS at each quarter of the items done; a bounded map plateaus, an unbounded one climbs.
  const s = r0.samples.filter((x) => x.done > 0);
  if (s.length > 4) {
    const total = s.at(-1).done;
    const at = (f) => s.find((x) => x.done >= total * f) ?? s.at(-1);
    const q = [0.25, 0.5, 0.75, 1].map((f) => at(f));
    notes.push(`coordinator RSS at 25/50/75/100% of the items done: ${q.map((x) => `${(x.rss / MB).toFixed(0)}`).join(' / ')} MB ` +
      `(heapUsed ${q.map((x) => `${(x.heapUsed / MB).toFixed(0)}`).join(' / ')} MB)`);
  }
  return { metrics, comparisons, notes, failures, detail: { maps: maps.map(({ samples, ...rest }) => ({ ...rest, samples: samples.filter((_, i) => i % 10 === 0) })) } };
}
