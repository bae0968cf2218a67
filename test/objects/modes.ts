// Both modes for one test file: an embedded cluster (Cluster.start), and a client of a service in
// this process (ClusterService from the build, as `clustrix up` runs it, then Cluster.connect).
import { Cluster, type ClusterOptions } from 'clustrix';

type ServiceModule = typeof import('../../coordinator/service/service.js');
const { ClusterService } = (await import(new URL('../../dist/coordinator/service/service.js', import.meta.url).href)) as ServiceModule;
type Service = Awaited<ReturnType<ServiceModule['ClusterService']['start']>>;

export type Mode = 'embedded' | 'connected';
export const MODES: Mode[] = ['embedded', 'connected'];

export interface Opened {
  cluster: Cluster;
  /** A second client of the same pool (connected), or the same cluster (embedded). */
  close(): Promise<void>;
}

export async function openCluster(mode: Mode, options: ClusterOptions): Promise<Opened> {
  if (mode === 'embedded') {
    const cluster = await Cluster.start(options);
    return { cluster, close: () => cluster.close() };
  }
  const service: Service = await ClusterService.start({ profile: `objects-${process.pid}`, cluster: options, writeStateFile: false });
  const cluster = await Cluster.connect({ address: service.address, credential: service.credential });
  return {
    cluster,
    close: async () => {
      await cluster.close();
      await service.stop('test over');
    },
  };
}
