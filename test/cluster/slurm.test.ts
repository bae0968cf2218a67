import { describe } from 'vitest';
import { describeBackend } from './pool-lifecycle.js';
import { loginSsh, skipCluster } from './cluster-env.js';

describe.skipIf(skipCluster)('cluster tier', () => {
  describeBackend({
    name: 'slurm',
    options: { backend: 'slurm', ssh: loginSsh, resources: { cpusPerTask: 1, time: '00:10:00' }, remoteDir: '~/clustrix dir/with space' },
    kill: (job) => `scancel ${job}`,
    alive: (jobs) => `squeue -h -o %i -j ${jobs.join(',')} 2>/dev/null || true`,
    rejected: { resources: { cpusPerTask: 512 } },
  });
});
