// cluster.history() in both modes: the same entries (function or map label, client, agent, times,
// outcome, error with its remote stack), from the engine's record of every client's tasks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, ConfigError } from 'clustrix';
import { ClusterService } from '../../dist/coordinator/service/index.js';
import { createLogger } from '../../dist/coordinator/util/logger.js';

let embedded: Cluster;
let service: ClusterService;
let connected: Cluster;

beforeAll(async () => {
  embedded = await Cluster.start({ agents: 1, slots: 2 });
  service = await ClusterService.start({ profile: 'history', cluster: { agents: 1, slots: 2 }, writeStateFile: false, log: createLogger('error') });
  connected = await Cluster.connect({ address: service.address, credential: service.credential, name: 'history-test' });
}, 60_000);

afterAll(async () => {
  await connected?.close();
  await service?.stop('test over');
  await embedded?.close();
});

function square(x: number): number {
  if (x === 3) throw new RangeError('three is not allowed');
  return x * x;
}

describe.each([
  ['embedded', () => embedded],
  ['connected', () => connected],
])('cluster.history() (%s)', (mode, get) => {
  it('lists a run, a failed task with its remote stack, and a map under one call id', async () => {
    const cluster = get();
    expect(await cluster.run(square, 2)).toBe(4);
    await expect(cluster.run(square, 3)).rejects.toThrow(/three is not allowed/);
    await cluster.map(square, [4, 5, 6], { label: 'squares' });
    const h = await cluster.history({ limit: 10 });
    expect(h.total).toBeGreaterThanOrEqual(5);
    const mapped = h.entries.filter((e) => e.label === 'squares');
    expect(mapped).toHaveLength(3);
    expect(new Set(mapped.map((e) => e.callId)).size).toBe(1);
    expect(mapped.every((e) => e.outcome === 'done' && e.agentId !== null && e.startedAt !== null && e.endedAt >= e.startedAt)).toBe(true);
    const failed = h.entries.find((e) => e.outcome === 'failed');
    expect(failed?.label).toBe('square');
    expect(failed?.error?.code).toBe('REMOTE_ERROR');
    expect(failed?.error?.stack).toMatch(/RangeError: three is not allowed/);
    expect(h.entries[0]!.endedAt).toBeGreaterThanOrEqual(h.entries.at(-1)!.endedAt);
    expect(h.entries[0]!.client).toEqual(mode === 'embedded' ? 'this program' : expect.stringContaining('history-test'));
    const only = await cluster.history({ outcome: 'failed' });
    expect(only.entries.map((e) => e.outcome)).toEqual(['failed']);
    const call = await cluster.history({ callId: mapped[0]!.callId });
    expect(call.entries).toHaveLength(3);
  });

  it('refuses bad options with a ConfigError naming the key', async () => {
    await expect(get().history({ limit: 0 })).rejects.toThrow(ConfigError);
    await expect(get().history({ outcome: 'lost' as 'done' })).rejects.toThrow(/options\.outcome/);
  });
});
