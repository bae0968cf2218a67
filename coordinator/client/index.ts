/**
 * Attaching a program to a running clustrix service (`clustrix up <profile>`).
 *
 * ```ts
 * import { Cluster } from 'clustrix';
 * const cluster = await Cluster.connect({ profile: 'hpc' });   // the pool `clustrix up hpc` holds
 * await cluster.map((x: number) => x * x, [1, 2, 3]);
 * await cluster.close();                                       // detaches; the pool stays warm
 * ```
 */
import { ClusterClient } from './client-cluster.js';
import type { ConnectOptions } from './address.js';

export { ClusterClient } from './client-cluster.js';
export { resolveAddress, type ConnectOptions } from './address.js';
export { ServiceLostError } from '../errors/errors.js';

export function connectCluster(options?: ConnectOptions): Promise<ClusterClient> {
  return ClusterClient.connect(options);
}
