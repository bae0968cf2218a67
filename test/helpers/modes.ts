/**
 * The API matrix: every API test runs once per mode, against the same `Cluster` type.
 *
 *   describe.each(MODES)('run ($name)', (mode) => {
 *     let h: ClusterHandle;
 *     beforeAll(async () => (h = await mode.start({ agents: 2, slots: 1 })));
 *     afterAll(() => h?.close());
 *     it('...', async () => expect(await h.cluster.run(...)).toBe(...));
 *   });
 *
 * `embedded` is `Cluster.start(options)`. `connected` is a `ClusterService` started in this test
 * process (port 0, no state file, so tests never see each other's services) holding a pool of the
 * same options, and `Cluster.connect()` to it, as a program attaching to `clustrix up` would.
 */
import { afterAll, beforeAll } from 'vitest';
import { Cluster, type ClusterOptions } from 'clustrix';
// The built service, as `clustrix up` runs it (it starts agents from dist/).
import { ClusterService } from '../../dist/coordinator/service/index.js';

export type ModeName = 'embedded' | 'connected';

export interface ClusterHandle {
  readonly mode: ModeName;
  readonly cluster: Cluster;
  /** The service holding the pool (connected mode only). */
  readonly service: ClusterService | null;
  /** Closes the cluster and, connected, stops the service and its agents. Idempotent. */
  close(): Promise<void>;
}

export interface Mode {
  readonly name: ModeName;
  start(options?: ClusterOptions): Promise<ClusterHandle>;
}

const embedded: Mode = {
  name: 'embedded',
  async start(options) {
    const cluster = await Cluster.start(options);
    let closing: Promise<void> | null = null;
    return { mode: 'embedded', cluster, service: null, close: () => (closing ??= cluster.close()) };
  },
};

let services = 0;

const connected: Mode = {
  name: 'connected',
  async start(options = {}) {
    // onLog belongs to the program (the client), not to the pool.
    const { onLog, ...pool } = options;
    const service = await ClusterService.start({ profile: `matrix-${process.pid}-${++services}`, cluster: pool, writeStateFile: false });
    let cluster: Cluster;
    try {
      cluster = await Cluster.connect({ address: service.address, credential: service.credential, ...(onLog ? { onLog } : {}) });
    } catch (err) {
      await service.stop('the test client could not connect');
      throw err;
    }
    let closing: Promise<void> | null = null;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        try {
          await cluster.close();
        } finally {
          await service.stop('test done');
        }
      })());
    return { mode: 'connected', cluster, service, close };
  },
};

/** Both modes, for `describe.each(MODES)('... ($name)', (mode) => ...)`. */
export const MODES: readonly Mode[] = [embedded, connected];

/**
 * Starts a cluster of `mode` before the enclosing describe's tests and closes it after them;
 * `use` receives it (`let cluster!: Cluster; useCluster(mode, opts, (c) => (cluster = c));`).
 */
export function useCluster(mode: Mode, options: ClusterOptions, use: (cluster: Cluster) => void): void {
  let handle: ClusterHandle | undefined;
  beforeAll(async () => {
    handle = await mode.start(options);
    use(handle.cluster);
  });
  afterAll(async () => {
    await handle?.close();
  });
}
