// A pool whose launcher cannot start agents any more, after it was up: work waiting for an agent
// fails with POOL_UNAVAILABLE within recoveryTimeoutMs, saying why, instead of hanging; the pool
// keeps trying and serves new work once agents start again. The node binary is a wrapper script
// the test removes or breaks, so every launch is real and fails for real.
import { chmodSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, type ActorHandle } from 'clustrix';
import { isAlive, waitUntil } from '../helpers/processes.js';
import { MODES, type ClusterHandle } from '../helpers/modes.js';

describe.each(MODES)('$name', (mode) => {
  const RECOVERY_MS = 3_000;

  class Counter {
    n = 0;
    add(k: number): number {
      this.n += k;
      return this.n;
    }
  }

  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'clustrix-node-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function writeNode(path: string, body: string): void {
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
  }
  const workingNode = (path: string): void => writeNode(path, `exec '${process.execPath}' "$@"`);

  async function killAll(cluster: Cluster): Promise<void> {
    const pids = (await cluster.agents()).map((a) => a.pid);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await waitUntil(async () => (await cluster.agents()).length === 0 && pids.every((pid) => !isAlive(pid)), { what: 'every agent to be gone' });
  }

  interface Failure {
    code?: string;
    name?: string;
    message?: string;
  }

  describe('a pool whose launcher fails after the pool was up', () => {
    let cluster: Cluster;
    let handle: ClusterHandle | undefined;
    let node: string;
    beforeAll(async () => {
      node = join(dir, 'node-gone');
      workingNode(node);
      // Two slots: the actor holds one, tasks need the other.
      handle = await mode.start({ agents: 1, slots: 2, node, recoveryTimeoutMs: RECOVERY_MS });
      cluster = handle.cluster;
    });
    afterAll(async () => {
      await handle?.close();
    });

    let counter: ActorHandle<Counter>;

    it("fails waiting tasks and actor calls with POOL_UNAVAILABLE within recoveryTimeoutMs, with the launcher's last error", { timeout: 30_000 }, async () => {
      counter = await cluster.actor(Counter, { maxRestarts: 5 });
      expect(await counter.call('add', 1)).toBe(1);
      unlinkSync(node);
      const lostAt = Date.now();
      await killAll(cluster);

      const [task, call] = (await Promise.all([
        cluster.run((a: number) => a + 1, 1).catch((e: unknown) => e),
        counter.call('add', 1).catch((e: unknown) => e),
      ])) as Failure[];
      const elapsed = Date.now() - lostAt;

      for (const err of [task!, call!]) {
        expect(err.code).toBe('POOL_UNAVAILABLE');
        expect(err.name).toBe('PoolUnavailableError');
        expect(err.message).toContain('1 agent lost');
        expect(err.message).toMatch(/[1-9]\d* replacements? tried/);
        expect(err.message).toContain(`${node}`);
        expect(err.message).toContain('ENOENT');
      }
      expect(elapsed).toBeLessThan(RECOVERY_MS + 2_000);
      expect((await cluster.agents())).toHaveLength(0);
    });

    it('serves new work normally once the launcher works again', { timeout: 60_000 }, async () => {
      workingNode(node);
      await waitUntil(async () => (await cluster.agents()).filter((a) => a.state === 'ready').length === 1, {
        timeoutMs: 45_000,
        intervalMs: 100,
        what: 'the pool to start an agent again',
      });
      expect(await cluster.run((a: number) => a + 1, 1)).toBe(2);
      // The actor was constructed again on the new agent: its state is the constructor's.
      expect(await counter.call('add', 5)).toBe(5);
    });
  });

  describe('a pool whose replacements die before they connect', () => {
    let cluster: Cluster;
    let handle: ClusterHandle | undefined;
    let node: string;
    beforeAll(async () => {
      node = join(dir, 'node-broken');
      workingNode(node);
      handle = await mode.start({ agents: 1, slots: 1, node, recoveryTimeoutMs: RECOVERY_MS });
      cluster = handle.cluster;
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('fails waiting work with POOL_UNAVAILABLE carrying the last output of the failed replacement', { timeout: 30_000 }, async () => {
      writeNode(node, "echo 'clustrix-test: this node cannot start agents' >&2\nexit 3");
      const lostAt = Date.now();
      await killAll(cluster);

      const err = (await cluster.map((a: number) => a * 2, [1, 2, 3]).catch((e: unknown) => e)) as Failure;
      expect(err.code).toBe('POOL_UNAVAILABLE');
      expect(err.message).toContain('clustrix-test: this node cannot start agents');
      expect(err.message).toContain('exit code 3');
      expect(Date.now() - lostAt).toBeLessThan(RECOVERY_MS + 2_000);
    });
  });
});
