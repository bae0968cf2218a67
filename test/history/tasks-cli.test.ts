// `clustrix tasks [--json]`: the service's recent tasks, from its history, as a table or JSON.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { ClusterService } from '../../dist/coordinator/service/index.js';
import { createLogger } from '../../dist/coordinator/util/logger.js';
import { cli, isolatedEnv } from '../service/cli-helpers.js';

const env = isolatedEnv();
let service: ClusterService;

beforeAll(async () => {
  service = await ClusterService.start({ profile: 'tasks', cluster: { agents: 1, slots: 2 }, env, log: createLogger('error') });
  const client = await Cluster.connect({ env, name: 'producer' });
  await client.map((x: number) => x + 1, [1, 2, 3], { label: 'plus-one' });
  await client.run(() => {
    throw new Error('boom');
  }).catch(() => undefined);
  await client.close();
}, 60_000);

afterAll(async () => {
  await service?.stop('test over');
});

describe('clustrix tasks', () => {
  it('prints the newest tasks with their label, client, agent and outcome', async () => {
    const r = await cli(['tasks', 'tasks'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/tasks: 4 of 4 tasks settled/);
    expect(r.stdout).toMatch(/plus-one .*producer.* done/);
    expect(r.stdout).toMatch(/failed .*REMOTE_ERROR: Error: boom/);
  });

  it('--json --outcome failed --limit 1', async () => {
    const r = await cli(['tasks', '--json', '--outcome', 'failed', '--limit', '1'], env);
    expect(r.code, r.stderr).toBe(0);
    const [reply] = JSON.parse(r.stdout) as { profile: string; entries: { outcome: string; error: { code: string } }[]; total: number }[];
    expect(reply?.profile).toBe('tasks');
    expect(reply?.entries).toHaveLength(1);
    expect(reply?.entries[0]?.error.code).toBe('REMOTE_ERROR');
  });

  it('refuses an unknown outcome (exit 2)', async () => {
    const r = await cli(['tasks', '--outcome', 'lost'], env);
    expect(r.code).toBe(2);
  });
});
