// Chaos: agents SIGKILLed over and over during a large map. Execution may repeat after a loss
// (at-least-once), delivery to the caller must not (exactly once, correct), and the pool gets back
// to its size, through the replacements the per-minute cap delays with backoff.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { isAlive, waitUntil } from '../helpers/processes.js';

const AGENTS = 2;
const TOTAL = 2_000;
/** A kill every this many results (about every 150 ms at this machine's rate). */
const KILL_EVERY = 150;
/** More than the 6 immediate replacements a minute two agents get: the rest come by backoff. */
const KILLS = 10;

let cluster: Cluster;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clustrix-chaos-'));
  cluster = await Cluster.start({ agents: AGENTS, slots: 1, retries: 50 });
});
afterAll(async () => {
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** About 2 ms of CPU, then a side effect: one line per execution in the shared log. */
const work = ({ i, log }: { i: number; log: string }): number => {
  const end = performance.now() + 2;
  while (performance.now() < end) {
    // spin
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- shipped source cannot import; agents provide require
  (require('node:fs') as typeof import('node:fs')).appendFileSync(log, `${i}\n`);
  return i * 7 + 1;
};

describe('agents SIGKILLed in a loop during a large map', () => {
  it('delivers every result exactly once and correct, runs every item at least once, and the pool gets back to its size', { timeout: 120_000 }, async () => {
    const log = join(dir, 'executions.log');
    const items = Array.from({ length: TOTAL }, (_, i) => ({ i, log }));
    const delivered = new Array<number>(TOTAL).fill(0);
    const killed = new Set<number>();
    let received = 0;

    for await (const { index, value } of cluster.stream(work, items)) {
      expect(value).toBe(index * 7 + 1);
      delivered[index]!++;
      received++;
      if (received % KILL_EVERY === 0 && killed.size < KILLS) {
        const live = (await cluster.agents()).filter((a) => a.state === 'ready' && !killed.has(a.pid));
        const victim = live[Math.floor(Math.random() * live.length)];
        if (victim) {
          killed.add(victim.pid);
          process.kill(victim.pid, 'SIGKILL');
        }
      }
    }

    expect(killed.size).toBeGreaterThan(6);
    expect(delivered.filter((n) => n !== 1)).toEqual([]);
    const executions = new Array<number>(TOTAL).fill(0);
    for (const line of readFileSync(log, 'utf8').split('\n')) if (line) executions[Number(line)]!++;
    expect(executions.filter((n) => n < 1)).toEqual([]);
    // Re-runs after a loss are allowed (and expected now and then): more executions than items.
    expect(executions.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(TOTAL);

    await waitUntil(async () => (await cluster.agents()).filter((a) => a.state === 'ready').length === AGENTS, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: `the pool to be back to ${AGENTS} agents after ${killed.size} kills`,
    });
    const pids = await cluster.broadcast(() => process.pid);
    expect(new Set(pids).size).toBe(AGENTS);
    for (const pid of pids) {
      expect(killed.has(pid)).toBe(false);
      expect(isAlive(pid)).toBe(true);
    }
  });
});
