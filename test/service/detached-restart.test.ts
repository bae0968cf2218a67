// Detached results live in the service's state directory: a service started again on it (same
// profile) answers the calls its earlier life finished, with their kind and client; a call that
// was still running when the service stopped collects as the error it ended with; files of calls
// it cannot answer are removed.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClustrixError, Cluster } from 'clustrix';
import { ClusterService } from '../../dist/coordinator/service/index.js';
import { servicesDir } from '../../dist/coordinator/service/state-file.js';
import { createLogger } from '../../dist/coordinator/util/logger.js';
import { isolatedEnv } from './cli-helpers.js';

const env = isolatedEnv();
const dir = join(servicesDir(env), 'restart.results');
const start = () => ClusterService.start({ profile: 'restart', cluster: { agents: 1, slots: 2 }, env, writeStateFile: false, log: createLogger('error') });
let second: ClusterService | undefined;

afterAll(async () => {
  await second?.stop('test over');
});

describe('a service started again on its state directory', () => {
  it('answers the detached calls of its earlier life', async () => {
    const first = await start();
    const a = await Cluster.connect({ address: first.address, credential: first.credential, name: 'first life' });
    const squares = await a.map((x: number) => x * x, [1, 2, 3], { detach: true, chunkSize: 2 });
    const sum = await a.call((x: number, y: number) => x + y, [20, 22], { detach: true });
    expect(await a.collect<number[]>(squares.id)).toEqual([1, 4, 9]);
    expect(await a.collect<number>(sum.id)).toBe(42);
    // Never finishes: it is running when the service stops.
    const forever = await a.stream(() => new Promise(() => undefined), [1], { detach: true, label: 'forever' });
    await a.close();
    writeFileSync(join(dir, 'dstray.results'), 'a call this directory has no record of');
    await first.stop('restart');

    second = await start();
    expect(existsSync(join(dir, 'dstray.results'))).toBe(false);
    const b = await Cluster.connect({ address: second.address, credential: second.credential });
    try {
      expect(await b.collect<number[]>(squares.id)).toEqual([1, 4, 9]);
      expect(await b.collect<number>(sum.id)).toBe(42);
      const seen: number[] = [];
      for await (const r of b.collectStream<number>(squares.id)) seen[r.index] = r.value;
      expect(seen).toEqual([1, 4, 9]);
      const err = await b.collect(forever.id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClustrixError);
      expect((err as ClustrixError).code).toBe('CLUSTER_CLOSED');
      const rows = await b.detachedCalls();
      expect(rows).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: squares.id, kind: 'map', state: 'done', client: expect.stringContaining('first life') }),
          expect.objectContaining({ id: sum.id, kind: 'call', state: 'done' }),
          expect.objectContaining({ id: forever.id, kind: 'stream', label: 'forever', state: 'failed' }),
        ]),
      );
      expect(readdirSync(dir).sort()).toEqual([forever.id, squares.id, sum.id].flatMap((id) => [`${id}.call`, `${id}.results`]).sort());
    } finally {
      await b.close();
    }
  });
});
