import { describe } from 'vitest';
import { describeBackend } from './pool-lifecycle.js';
import { pbsBinDir, skipCluster, ssh } from './cluster-env.js';

describe.skipIf(skipCluster)('cluster tier', () => {
  describeBackend({
    name: 'pbs',
    options: { backend: 'pbs', ssh, binDir: pbsBinDir, resources: { cpusPerTask: 1, time: '00:10:00' } },
    kill: (job) => `${pbsBinDir}/qdel ${job}`,
    // The wrappers run on SLURM: its queue is the truth.
    alive: (jobs) => `squeue -h -o %i -j ${jobs.join(',')} 2>/dev/null || true`,
    rejected: { resources: { cpusPerTask: 512 } },
  });
});
