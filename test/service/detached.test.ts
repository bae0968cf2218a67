// Detached maps: started by a client that is then SIGKILLed, they run on in the service, and a
// second client collects every result exactly once, in input order; `clustrix tasks` lists them.
// (Streams and calls: detached-kinds.test.ts; expiry: detached-expiry.test.ts; modes: detached-modes.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
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
      expect(row).toMatchObject({ id, kind: 'map', label: 'detached-squares', tasks: 20, state: 'running' });
      expect(row!.client).toContain('detaching client');
      const results = await collector.collect<number[]>(id);
      expect(results).toEqual(Array.from({ length: 60 }, (_, i) => i * i));
      // any later client may collect them again (they stay within the budget)
      expect(await collector.collect<number[]>(id)).toHaveLength(60);
      const listed = await cli(['tasks', '--json'], env);
      expect(listed.code, listed.stderr).toBe(0);
      const [reply] = JSON.parse(listed.stdout) as { detached: { id: string; state: string; settled: number }[] }[];
      expect(reply?.detached).toEqual([expect.objectContaining({ id, kind: 'map', state: 'done', settled: 20 })]);
    } finally {
      await collector.close();
    }
  });
});
