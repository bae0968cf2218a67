// Row 7's subject, in a process of its own so its RSS is only this:
//   node memory-child.mjs idle             clustrix imported, nothing else
//   node memory-child.mjs arrays N         + an N-item input array and its N-item output array
//   node memory-child.mjs map N CAP_MS     + Cluster.start(2 × 1) and map(x => x + 1, input) over
//                                          the same N-item array; if it runs past CAP_MS the input
//                                          ends early (a lazy view of the array stops yielding) and
//                                          the result says how many items were done
// Peak RSS is the kernel's high-water mark (VmHWM), so no sampling gap can miss it; RSS is also
// sampled every 100 ms with the tasks done so far, to show whether it grows with the input.
// Run with --expose-gc: in map mode a full GC before and after the map (never during it) gives the
// live heap, which tells memory the map keeps (a leak) from garbage V8 has not collected yet.
import { loadClustrix } from './clustrix.mjs';
import { emitJson, procMemory } from './proc.mjs';

const [mode, nS, capS] = process.argv.slice(2);
const N = Number(nS ?? 0);
const { Cluster } = await loadClustrix();
const out = { mode, n: N };

if (mode === 'idle') {
  await new Promise((r) => setTimeout(r, 200));
} else if (mode === 'arrays') {
  const input = Array.from({ length: N }, (_, i) => i);
  // grown one index at a time, as map() builds its result
  const output = [];
  for (let i = 0; i < N; i++) output[i] = input[i] + 1;
  await new Promise((r) => setTimeout(r, 200));
  out.check = output[N - 1] === N;
} else if (mode === 'map') {
  const input = Array.from({ length: N }, (_, i) => i);
  const cluster = await Cluster.start({ agents: 2, slots: 1 });
  const agentRss = async () => (await cluster.agents()).map((a) => ({ pid: a.pid, rss: procMemory(a.pid)?.rss ?? null }));
  await new Promise((r) => setTimeout(r, 500));
  out.agentsIdleFresh = await agentRss();
  out.beforeMap = procMemory(process.pid);
  globalThis.gc?.();
  out.liveHeapBefore = process.memoryUsage().heapUsed;
  const done = async () => (await cluster.agents()).reduce((s, a) => s + a.tasksDone, 0);
  const samples = [];
  let heapPeak = 0;
  const t0 = performance.now();
  const timer = setInterval(() => {
    const mu = process.memoryUsage();
    heapPeak = Math.max(heapPeak, mu.heapUsed);
    const t = Math.round(performance.now() - t0);
    void done().then((d) => samples.push({ t, rss: mu.rss, heapUsed: mu.heapUsed, done: d }));
  }, 100);
  const deadline = performance.now() + Number(capS);
  let fed = 0;
  // The array itself when there is time; a generator over it only to be able to stop early.
  function* capped() {
    for (; fed < N; fed++) {
      if ((fed & 1023) === 0 && performance.now() > deadline) return;
      yield input[fed];
    }
  }
  try {
    const result = await cluster.map((x) => x + 1, Number(capS) > 0 ? capped() : input);
    out.completed = result.length === N && result[N - 1] === N;
    out.resultLength = result.length;
    if (!out.completed) out.stopped = `input cut at ${fed} items after the ${capS} ms cap`;
  } catch (err) {
    out.completed = false;
    out.error = `${err.name}: ${String(err.message).split('\n')[0]}`;
  }
  out.elapsedMs = performance.now() - t0;
  clearInterval(timer);
  out.itemsDone = await done();
  globalThis.gc?.();
  out.liveHeapAfter = process.memoryUsage().heapUsed;
  out.heapPeak = heapPeak;
  out.samples = samples;
  await new Promise((r) => setTimeout(r, 1000));
  out.agentsIdleAfter = await agentRss();
  await cluster.close();
}
out.mem = procMemory(process.pid);
emitJson(out);
process.exit(0);
