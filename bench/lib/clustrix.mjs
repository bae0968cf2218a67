// Loads the built clustrix package. The runner snapshots dist/ at the start of a run (BENCH_DIST)
// so that a rebuild by someone else during the run cannot swap the code under a row; without a
// snapshot the package is imported by its own name, as a user would.
import { join } from 'node:path';
import { syncBuiltinESMExports } from 'node:module';
import { pathToFileURL } from 'node:url';
import childProcess from 'node:child_process';

export async function loadClustrix() {
  const dist = process.env.BENCH_DIST;
  return dist ? import(pathToFileURL(join(dist, 'coordinator', 'index.js')).href) : import('clustrix');
}

/**
 * Records when `child_process.spawn` is called (the local launcher starts agents with it), so a
 * row can time agent process spawn -> ready. Patches the builtin's live ESM bindings too.
 * Returns a function that hands out (and clears) the recorded spawn times, ms on the
 * performance.now() clock.
 */
export function recordSpawns() {
  const original = childProcess.spawn;
  const times = [];
  childProcess.spawn = function patchedSpawn(...args) {
    times.push({ t: performance.now(), cmd: String(args[0]), args: Array.isArray(args[1]) ? args[1].map(String) : [] });
    return original.apply(this, args);
  };
  syncBuiltinESMExports();
  return {
    take: () => times.splice(0),
    restore: () => {
      childProcess.spawn = original;
      syncBuiltinESMExports();
    },
  };
}

/** The single function ids clustrix is shipped with must stay self-contained: no helpers here. */
export const MB = 1e6;

/**
 * A connected cluster: a service (`clustrix up`, here in this process, as a program would find
 * one running) holding a pool of `pool` options, and a client attached with Cluster.connect().
 */
export async function connectedCluster(pool) {
  const dist = process.env.BENCH_DIST;
  const { Cluster } = await loadClustrix();
  const { ClusterService } = await import(dist ? pathToFileURL(join(dist, 'coordinator', 'service', 'index.js')).href : new URL('../../dist/coordinator/service/index.js', import.meta.url).href);
  const service = await ClusterService.start({ profile: 'bench', cluster: pool, writeStateFile: false });
  try {
    const cluster = await Cluster.connect({ address: service.address, credential: service.credential });
    return {
      cluster,
      close: async () => {
        await cluster.close();
        await service.stop('bench done');
      },
    };
  } catch (err) {
    await service.stop('bench failed');
    throw err;
  }
}
