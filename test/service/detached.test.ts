// Detached maps: started by a client that is then SIGKILLed, they run on in the service, and a
// second client collects every result exactly once, in input order; `clustrix tasks` lists them.
// Past the service's budget the results are dropped and collect() fails with RESULTS_EXPIRED.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, ConfigError, ResultsExpiredError } from 'clustrix';
import { ClusterService } from '../../dist/coordinator/service/index.js';
import { createLogger } from '../../dist/coordinator/util/logger.js';
import { waitUntil } from '../helpers/processes.js';
import { cli, FIXTURES, isolatedEnv, node } from './cli-helpers.js';

const env = isolatedEnv();
let service: ClusterService;

beforeAll(async () => {
  service = await ClusterService.start({ profile: 'detached', cluster: { agents: 1, slots: 2 }, env, log: createLogger('error') });
}, 60_000);

afterAll(async () => {
  await service?.stop('test over');
});

describe('a detached map', () => {
  it("survives its client's SIGKILL; a second client collects every result once, in order", async () => {
    const client = node(`${FIXTURES}detach-client.mjs`, ['60'], env);
    await waitUntil(() => /DETACHED (d\S+)/.test(client.output()), { timeoutMs: 30_000, what: 'the detached id' });
    const id = /DETACHED (d\S+)/.exec(client.output())![1]!;
    client.child.kill('SIGKILL');
    expect(await client.exit).toBe(128);
    await waitUntil(() => service.status().clients.length === 0, { timeoutMs: 10_000, what: 'the killed client to leave' });
    // still running after its client died
    const collector = await Cluster.connect({ env, name: 'collector' });
    try {
      const [row] = await collector.detachedCalls();
      // 20 tasks of 300 ms on 2 slots: still running when its client is gone
      expect(row).toMatchObject({ id, label: 'detached-squares', tasks: 20, state: 'running' });
      expect(row!.client).toContain('detaching client');
      const results = await collector.collect<number>(id);
      expect(results).toEqual(Array.from({ length: 60 }, (_, i) => i * i));
      // any later client may collect them again (they stay within the budget)
      expect(await collector.collect<number>(id)).toHaveLength(60);
      const listed = await cli(['tasks', '--json'], env);
      expect(listed.code, listed.stderr).toBe(0);
      const [reply] = JSON.parse(listed.stdout) as { detached: { id: string; state: string; settled: number }[] }[];
      expect(reply?.detached).toEqual([expect.objectContaining({ id, state: 'done', settled: 20 })]);
    } finally {
      await collector.close();
    }
  });

  it('fails a late collector with RESULTS_EXPIRED once the service dropped the results, and an unknown id too', async () => {
    const small = await ClusterService.start({ profile: 'tiny', cluster: { agents: 1, slots: 1 }, env, detachedBytes: 1, writeStateFile: false, log: createLogger('error') });
    const c = await Cluster.connect({ address: small.address, credential: small.credential });
    try {
      const { id } = await c.map((x: number) => x + 1, [1, 2, 3], { detach: true });
      const err = await c.collect(id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ResultsExpiredError);
      expect((err as ResultsExpiredError).code).toBe('RESULTS_EXPIRED');
      expect((err as ResultsExpiredError).callId).toBe(id);
      expect((err as Error).message).toMatch(/dropped/);
      await expect(c.collect('dnope')).rejects.toThrow(ResultsExpiredError);
    } finally {
      await c.close();
      await small.stop('test over');
    }
  });

  it('is refused by an embedded cluster and by stream, with a ConfigError', async () => {
    const c = await Cluster.start({ agents: 1, slots: 1 });
    try {
      await expect(c.map((x: number) => x, [1], { detach: true })).rejects.toThrow(ConfigError);
      expect(() => c.stream((x: number) => x, [1], { detach: true })).toThrow(/stream cannot be detached/);
    } finally {
      await c.close();
    }
  });
});
