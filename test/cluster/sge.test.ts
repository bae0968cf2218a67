import { describe } from 'vitest';
import { describeBackend } from './pool-lifecycle.js';
import { skipCluster, ssh } from './cluster-env.js';

describe.skipIf(skipCluster)('cluster tier', () => {
  describeBackend({
    name: 'sge',
    options: { backend: 'sge', ssh, resources: { cpusPerTask: 1, time: '00:10:00' } },
    kill: (job) => `qdel ${job}`,
    alive: (jobs) => `for j in ${jobs.join(' ')}; do qstat -j $j >/dev/null 2>&1 && echo $j; done; true`,
    rejected: { resources: { cpusPerTask: 512 } },
  });
});
