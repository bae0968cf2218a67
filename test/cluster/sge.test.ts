import { describe } from 'vitest';
import { describeBackend } from './pool-lifecycle.js';
import { skipCluster, ssh } from './cluster-env.js';

describe.skipIf(skipCluster)('cluster tier', () => {
  describeBackend({
    name: 'sge',
    options: { backend: 'sge', ssh, resources: { cpusPerTask: 1, time: '00:10:00' } },
    kill: (job) => `qdel ${job}`,
    queue: 'qstat -u testuser',
    rejected: { resources: { cpusPerTask: 512 } },
  });
});
