// Finding 10.7: oversized values were found only by the socket: a result past the frame limit
// closed the agent's link (1009 / 1006) and, retried, took more links down; an argument past it
// did the same from the other side. Now both sides check the size before sending: the call fails
// with ValueTooLargeError naming the size and the limit, and no link is dropped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, ValueTooLargeError } from 'clustrix';
import { ClusterService } from '../../dist/coordinator/service/index.js';

const MAX_FRAME = 1024 * 1024;
const big = () => new Uint8Array(2 * 1024 * 1024).fill(7);

async function pids(cluster: Cluster): Promise<number[]> {
  return (await cluster.agents()).map((a) => a.pid).sort();
}

describe('values larger than a frame', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start({ agents: 2, slots: 1, maxFrameBytes: MAX_FRAME });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('an argument is refused before it is sent, naming its size and the limit', async () => {
    const before = await pids(cluster);
    const err = await cluster.run((b: Uint8Array) => b.length, big()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValueTooLargeError);
    expect((err as ValueTooLargeError).what).toBe('arguments');
    expect((err as ValueTooLargeError).message).toMatch(/the arguments of task \S+ \(.*\): 2\.0 MiB, more than the 960\.0 KiB one message may carry \(maxFrameBytes 1\.0 MiB\)/);
    expect(await pids(cluster)).toEqual(before);
  });

  it('a result fails that call on the agent, and every link stays up', async () => {
    const before = await pids(cluster);
    const err = await cluster.run(() => new Uint8Array(2 * 1024 * 1024)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValueTooLargeError);
    expect((err as ValueTooLargeError).what).toBe('result');
    expect((err as ValueTooLargeError).message).toMatch(/the result is \d+ bytes, more than the \d+ bytes one message may carry/);
    expect(await pids(cluster)).toEqual(before);
    expect(await cluster.map((x: number) => x * 2, [1, 2, 3, 4])).toEqual([2, 4, 6, 8]);
  });

  it('an inline result fails the same way', async () => {
    const err = await cluster.remote(async () => new Uint8Array(2 * 1024 * 1024), { inline: true })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValueTooLargeError);
  });

  it('actor arguments and results are checked too', async () => {
    class Store {
      take(b: Uint8Array) {
        return b.length;
      }
      give() {
        return new Uint8Array(2 * 1024 * 1024);
      }
    }
    const before = await pids(cluster);
    const store = await cluster.actor(Store);
    await expect(store.call('take', big())).rejects.toBeInstanceOf(ValueTooLargeError);
    await expect(store.call('give')).rejects.toBeInstanceOf(ValueTooLargeError);
    expect(await store.call('take', new Uint8Array(10))).toBe(10);
    expect(await pids(cluster)).toEqual(before);
    await store.kill();
  });
});

describe('over Cluster.connect()', () => {
  it("an argument past the service pool's limit fails with ValueTooLargeError, and the client stays connected", async () => {
    const service = await ClusterService.start({ profile: 'oversize-test', cluster: { agents: 1, slots: 1, maxFrameBytes: MAX_FRAME }, writeStateFile: false });
    try {
      const client = await Cluster.connect({ address: service.address, credential: service.credential });
      await expect(client.run((b: Uint8Array) => b.length, big())).rejects.toBeInstanceOf(ValueTooLargeError);
      await expect(client.run(() => new Uint8Array(2 * 1024 * 1024))).rejects.toBeInstanceOf(ValueTooLargeError);
      expect(await client.run((x: number) => x + 1, 1)).toBe(2);
      await client.close();
    } finally {
      await service.stop('test done');
    }
  });
});
