// Eight SIGKILLs in a row of a 2-agent pool: more than the 6 immediate replacements a minute it
// allows. The cap limits the rate (the rest come with backoff); it must not leave the pool empty
// and the running map hanging.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { waitUntil } from '../helpers/processes.js';

let cluster: Cluster;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clustrix-cap-'));
  cluster = await Cluster.start({ agents: 2, slots: 1, retries: 20 });
});
afterAll(async () => {
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Holds its slot until the gate file exists, so the map cannot end before the kills do. */
const gated = ({ i, gate }: { i: number; gate: string }): number => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- shipped source cannot import; agents provide require
  const fs = require('node:fs') as typeof import('node:fs');
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (!fs.existsSync(gate)) Atomics.wait(cell, 0, 0, 5);
  return i * 3;
};

describe('a pool pushed past its replacement cap', () => {
  it('recovers by backoff after 8 kills in a row, and the running map ends with its result', { timeout: 90_000 }, async () => {
    const gate = join(dir, 'open');
    const items = Array.from({ length: 200 }, (_, i) => ({ i, gate }));
    let settled = false;
    const mapping = cluster.map(gated, items).finally(() => (settled = true));
    mapping.catch(() => undefined);

    const killed = new Set<number>();
    for (let k = 1; k <= 8; k++) {
      let victim: { pid: number } | undefined;
      await waitUntil(async () => (victim = (await cluster.agents()).find((a) => a.state === 'ready' && !killed.has(a.pid))) !== undefined, {
        timeoutMs: 30_000,
        what: `a live agent for kill ${k} of 8`,
      });
      killed.add(victim!.pid);
      process.kill(victim!.pid, 'SIGKILL');
    }
    expect(settled).toBe(false);
    expect(existsSync(gate)).toBe(false);
    writeFileSync(gate, '');

    await waitUntil(async () => settled, { timeoutMs: 30_000, intervalMs: 100, what: 'the map to end after 8 kills' });
    expect(await mapping).toEqual(items.map(({ i }) => i * 3));
    await waitUntil(async () => (await cluster.agents()).filter((a) => a.state === 'ready').length === 2, {
      timeoutMs: 30_000,
      what: 'the pool to be back to 2 agents',
    });
  });
});
