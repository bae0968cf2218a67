// Worker threads write lone results to the coordinator's socket themselves (agent/thread-writes.ts)
// while the agent's main thread writes the rest (results of tasks that print, their lines, kept
// values' notices): on two threads at once, every result arrives whole, right, and after its
// task's lines. (Cancel and timeout of running tasks: abort.test.ts, timeout.test.ts.)
import { describe, expect, it } from 'vitest';
import type { Cluster, LogEntry } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';

describe.each(MODES)('$name', (mode) => {
  const entries: LogEntry[] = [];
  let cluster!: Cluster;
  useCluster(mode, { agents: 1, slots: 2, onLog: (entry) => entries.push(entry) }, (c) => (cluster = c));

  it('keeps results whole and in their place while both threads and the main thread write', async () => {
    const quiet = (x: number) => x * 2;
    const loud = (x: number) => {
      console.log(`line ${x}`);
      return x * 3;
    };
    const calls: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      const printing = i % 3 === 0;
      calls.push(
        (printing ? cluster.run(loud, i) : cluster.run(quiet, i)).then((v) => {
          expect(v).toBe(printing ? i * 3 : i * 2);
          // A task's lines go out before its result, through the main thread, so they are here first.
          if (printing) expect(entries.some((e) => e.text === `line ${i}`)).toBe(true);
        }),
      );
      // Awaited one at a time now and then: a lone result, the case a thread writes itself.
      if (i % 50 === 0) await Promise.all(calls.splice(0));
    }
    await Promise.all(calls);
    const kept = cluster.submit(quiet, 21);
    expect(await cluster.run((x: number) => x + 1, kept)).toBe(43);
  });
});
