import { describe } from 'vitest';
import { describeBackend } from './pool-lifecycle.js';
import { loginSsh, pbsBinDir, skipCluster } from './cluster-env.js';

describe.skipIf(skipCluster)('cluster tier', () => {
  describeBackend({
    name: 'pbs',
    // maxArraySize 1: one job per agent, the lifecycle this checks (the wrappers track an array as
    // one job of all its agents: pbs-array.test.ts)
    options: { backend: 'pbs', ssh: loginSsh, binDir: pbsBinDir, maxArraySize: 1, resources: { cpusPerTask: 1, time: '00:10:00' } },
    kill: (job) => `${pbsBinDir}/qdel ${job}`,
    // The wrappers run on SLURM: its queue is the truth.
    alive: (jobs) => `squeue -h -o %i -j ${jobs.join(',')} 2>/dev/null || true`,
    rejected: { resources: { cpusPerTask: 512 } },
  });
});
