// Cluster.start() with no options: local agents whose slots add up to this machine's cores.
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await Cluster.start();
});
afterAll(async () => {
  await cluster?.close();
});

describe('the default cluster', () => {
  it('has agents × slots = os.availableParallelism()', async () => {
    const agents = (await cluster.agents());
    expect(agents.length).toBeGreaterThanOrEqual(1);
    expect(agents.reduce((n, a) => n + a.slots, 0)).toBe(os.availableParallelism());
    for (const a of agents) expect(a.state).toBe('ready');
  });

  it('runs on this machine', async () => {
    expect(new Set((await cluster.agents()).map((a) => a.host))).toEqual(new Set([os.hostname()]));
    const pids = await cluster.broadcast(() => process.pid);
    expect(pids).toEqual((await cluster.agents()).map((a) => a.pid));
  });

  it('spreads a map over every slot', async () => {
    const spans = await cluster.map(
      (ms: number) => {
        const start = Date.now();
        while (Date.now() < start + ms) {
          // busy
        }
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- shipped source cannot import; agents provide require
        const { threadId } = require('node:worker_threads') as typeof import('node:worker_threads');
        return { start, end: Date.now(), tid: `${process.pid}:${threadId}` };
      },
      new Array<number>(os.availableParallelism() * 2).fill(150),
    );
    expect(new Set(spans.map((s) => s.tid)).size).toBeGreaterThanOrEqual(os.availableParallelism());
  });
});
