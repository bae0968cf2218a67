// What a collector of a detached call gets when the results are not there: dropped to keep the
// service within `detachedBytes` (the oldest finished calls first) → RESULTS_EXPIRED, for collect
// and collectStream alike; an id the service never had → RESULTS_EXPIRED saying so; a call that
// failed → its error, after the results that came before it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, ConfigError, RemoteError, ResultsExpiredError } from 'clustrix';
import { ClusterService } from '../../dist/coordinator/service/index.js';
import { createLogger } from '../../dist/coordinator/util/logger.js';
import { cli, isolatedEnv } from './cli-helpers.js';

let service: ClusterService;
let c: Cluster;

beforeAll(async () => {
  // Room for about 1.5 kB of packed results.
  service = await ClusterService.start({ profile: 'detached-expiry', cluster: { agents: 1, slots: 2 }, detachedBytes: 1500, env: isolatedEnv(), writeStateFile: false, log: createLogger('error') });
  c = await Cluster.connect({ address: service.address, credential: service.credential });
}, 60_000);

afterAll(async () => {
  await c?.close();
  await service?.stop('test over');
});

const expired = async (p: Promise<unknown>): Promise<ResultsExpiredError> => {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ResultsExpiredError);
  expect((err as ResultsExpiredError).code).toBe('RESULTS_EXPIRED');
  return err as ResultsExpiredError;
};

const drain = async (it: AsyncIterable<unknown>): Promise<unknown[]> => {
  const out: unknown[] = [];
  for await (const r of it) out.push(r);
  return out;
};

describe('a late collector', () => {
  it('of a call dropped for a newer stream gets RESULTS_EXPIRED from collect and collectStream; the newer one is kept', async () => {
    const old = await c.call((n: number) => 'x'.repeat(n), [1000], { detach: true });
    expect(old.kind).toBe('call');
    expect(await c.collect<string>(old.id)).toHaveLength(1000);
    // 2 × 600 bytes: past the budget with the call's 1000, so the older, finished call goes.
    const newer = await c.stream((n: number) => 'y'.repeat(n), [600, 600], { detach: true });
    expect(await c.collect<string[]>(newer.id)).toEqual(['y'.repeat(600), 'y'.repeat(600)]);

    const err = await expired(c.collect(old.id));
    expect(err.callId).toBe(old.id);
    expect(err.message).toMatch(/dropped/);
    expect(err.hint).toMatch(/detachedBytes/);
    expect((await expired(drain(c.collectStream(old.id)))).message).toMatch(/dropped/);
    const ids = (await c.detachedCalls()).map((r) => r.id);
    expect(ids).toContain(newer.id);
    expect(ids).not.toContain(old.id);
  });

  it('of a call whose results alone are over the budget gets RESULTS_EXPIRED once it ended', async () => {
    const { id } = await c.map((n: number) => 'z'.repeat(n), [800, 800], { detach: true });
    expect((await expired(c.collect(id))).message).toMatch(/dropped/);
  });

  it('of an id the service never had gets RESULTS_EXPIRED saying so; a malformed id is a ConfigError', async () => {
    const err = await expired(c.collect('dnope'));
    expect(err.callId).toBe('dnope');
    expect(err.message).toMatch(/no detached call dnope/);
    await expired(drain(c.collectStream('dnope')));
    await expect(c.collect('')).rejects.toThrow(ConfigError);
    expect(() => c.collectStream('x'.repeat(65))).toThrow(ConfigError);
  });
});

describe('a collector of a detached call that failed', () => {
  it('gets the results before the failure, then its RemoteError; collect rejects with it', async () => {
    const boom = (x: number): number => {
      if (x === 3) throw new TypeError(`no ${x}`);
      return x;
    };
    const { id } = await c.stream(boom, [0, 1, 2, 3, 4, 5], { detach: true, label: 'boom' });
    const seen: unknown[] = [];
    const err = await (async () => {
      for await (const r of c.collectStream<number>(id)) seen.push(r);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).remoteMessage).toBe('no 3');
    for (const r of seen as { index: number; value: number }[]) expect(r.value).toBe(r.index);
    await expect(c.collect(id)).rejects.toThrow(/TypeError: no 3/);
    expect((await c.detachedCalls()).find((r) => r.id === id)).toMatchObject({ kind: 'stream', label: 'boom', state: 'failed' });
  });
});

describe('clustrix up --detached-bytes', () => {
  it('sets the budget of the service it starts (a bad value is a usage error)', async () => {
    const env = isolatedEnv();
    expect((await cli(['up', 'local', '--detached-bytes', 'lots'], env)).code).toBe(2);
    const up = await cli(['up', 'local', '-n', '1', '--detached-bytes', '1'], env);
    expect(up.code, up.stderr).toBe(0);
    try {
      const tiny = await Cluster.connect({ env });
      try {
        const { id } = await tiny.call((x: number) => x, [1], { detach: true });
        expect((await expired(tiny.collect(id))).message).toMatch(/keeps at most 1 bytes/);
      } finally {
        await tiny.close();
      }
    } finally {
      await cli(['down', 'local'], env);
    }
  }, 60_000);
});
