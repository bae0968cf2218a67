// Pipelined dependents (issue 13, a chain of dependent tasks): a task whose ref arguments are
// being made on one agent is sent there at once, parked, and starts when the values land in that
// agent's store. The contract of waiting stays: a failed dependency fails it (it never runs), a
// retried one withdraws it, a lost agent re-runs the chain by lineage with one result per step,
// and parked tasks hold no slot an interactive call needs.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster, TaskRef } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';
import { waitUntil } from '../helpers/processes.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'clustrix-pipelined-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const fileIn = (name: string): string => join(dir, `${name}-${++files}`);

/** Blocks its thread until `gate` exists, then gives `value` (a dependency still being made). */
const gated = (gate: string, value: number): number => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- shipped source cannot import; agents provide require
  const fs = require('node:fs') as typeof import('node:fs');
  while (!fs.existsSync(gate)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
  return value;
};

/** One more, with a line in `log` per execution. */
const step = (v: number, log: string): number => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- shipped source cannot import; agents provide require
  (require('node:fs') as typeof import('node:fs')).appendFileSync(log, `${v}\n`);
  return v + 1;
};

const parkedSoFar = async (cluster: Cluster): Promise<number> => (await cluster.objectStats()).parked;

describe.each(MODES)('pipelined dependents ($name)', (mode) => {
  describe('on two agents', () => {
    let cluster!: Cluster;
    useCluster(mode, { agents: 2, slots: 1 }, (c) => (cluster = c));

    it('runs a chain right, its dependents parked on the agent making their arguments', { timeout: 30_000 }, async () => {
      const before = await parkedSoFar(cluster);
      let x: TaskRef<number> = cluster.submit(() => 0);
      for (let i = 0; i < 100; i++) x = cluster.submit((v: number) => v + 1, x);
      expect(await x).toBe(100);
      // Each step but the first had its argument being made when it could go: nearly all were parked.
      expect((await parkedSoFar(cluster)) - before).toBeGreaterThanOrEqual(90);
    });

    it('fails a parked dependent with its dependency\'s error, and never runs it', { timeout: 30_000 }, async () => {
      const gate = fileIn('gate');
      const ran = fileIn('ran');
      const before = await parkedSoFar(cluster);
      const failing = cluster.submit((g: string) => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- shipped source cannot import; agents provide require
        const fs = require('node:fs') as typeof import('node:fs');
        while (!fs.existsSync(g)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        throw new Error('the dependency broke');
      }, gate);
      const dependent = cluster.submit(step, failing, ran);
      await waitUntil(async () => (await parkedSoFar(cluster)) > before, { what: 'the dependent to be parked' });
      writeFileSync(gate, '');
      const [own, theirs] = await Promise.all([failing.then(() => null, (e: unknown) => e), dependent.then(() => null, (e: unknown) => e)]);
      expect(own).toBeInstanceOf(Error);
      expect((own as Error).message).toContain('the dependency broke');
      expect(theirs).toBeInstanceOf(Error);
      expect((theirs as Error).constructor).toBe((own as Error).constructor);
      expect((theirs as Error).message).toBe((own as Error).message);
      // Its agent dropped it: nothing of it ran.
      expect(existsSync(ran)).toBe(false);
    });

    it('withdraws a parked dependent when its dependency throws and is retried; it runs once, with the retry\'s value', { timeout: 30_000 }, async () => {
      const gate = fileIn('gate');
      const tries = fileIn('tries');
      const log = fileIn('log');
      const before = await parkedSoFar(cluster);
      const flaky = cluster.remote(
        (g: string, t: string) => {
          // eslint-disable-next-line @typescript-eslint/no-require-imports -- shipped source cannot import; agents provide require
          const fs = require('node:fs') as typeof import('node:fs');
          while (!fs.existsSync(g)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          fs.appendFileSync(t, 'x');
          if (fs.readFileSync(t, 'utf8').length === 1) throw new Error('first try fails');
          return 41;
        },
        { retryExceptions: 1 },
      );
      const made = cluster.submit(flaky, gate, tries);
      const dependent = cluster.submit(step, made, log);
      await waitUntil(async () => (await parkedSoFar(cluster)) > before, { what: 'the dependent to be parked' });
      writeFileSync(gate, '');
      expect(await dependent).toBe(42);
      expect(readFileSync(tries, 'utf8')).toBe('xx');
      expect(readFileSync(log, 'utf8')).toBe('41\n');
    });

    it('completes a chain whose agent is SIGKILLed mid-way, one correct result per step (lineage)', { timeout: 60_000 }, async () => {
      const gate = fileIn('gate');
      const before = await parkedSoFar(cluster);
      const refs: TaskRef<number>[] = [cluster.submit(gated, gate, 0)];
      for (let i = 0; i < 40; i++) refs.push(cluster.submit((v: number) => v + 1, refs[refs.length - 1]!));
      await waitUntil(async () => (await parkedSoFar(cluster)) > before, { what: 'the chain to be parked' });
      // The first step runs (blocked) on the agent the rest is parked on.
      const agents = await cluster.agents();
      const victim = agents.find((a) => a.busy > 1);
      expect(victim).toBeDefined();
      process.kill(victim!.pid, 'SIGKILL');
      await waitUntil(async () => !(await cluster.agents()).some((a) => a.id === victim!.id), { what: `agent ${victim!.id} to be gone`, timeoutMs: 20_000 });
      writeFileSync(gate, '');
      expect(await Promise.all(refs)).toEqual(Array.from({ length: 41 }, (_, i) => i));
    });
  });

  describe('on one agent of two slots', () => {
    let cluster!: Cluster;
    useCluster(mode, { agents: 1, slots: 2 }, (c) => (cluster = c));

    it('does not hold back an interactive run while dependents are parked', { timeout: 30_000 }, async () => {
      const gate = fileIn('gate');
      const before = await parkedSoFar(cluster);
      let x: TaskRef<number> = cluster.submit(gated, gate, 0);
      const chain = [x];
      for (let i = 0; i < 8; i++) chain.push((x = cluster.submit((v: number) => v + 1, x)));
      await waitUntil(async () => (await parkedSoFar(cluster)) - before >= 1, { what: 'dependents to be parked' });
      // The first step holds one slot; the parked ones hold none: the run gets the other at once.
      expect(await cluster.run((v: number) => v * 2, 21)).toBe(42);
      writeFileSync(gate, '');
      expect(await x).toBe(8);
    });
  });
});
