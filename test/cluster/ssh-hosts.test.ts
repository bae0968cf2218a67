import { describe } from 'vitest';
import { describeBackend } from './pool-lifecycle.js';
import { skipCluster, ssh } from './cluster-env.js';

describe.skipIf(skipCluster)('cluster tier', () => {
  describeBackend({
    name: 'ssh',
    options: { backend: 'ssh', hosts: [ssh], slots: 1 },
    // An agent's job id is `<host>:<pid>`: kill its process group as its owner would.
    kill: (job) => `/bin/kill -KILL -- -${job.split(':').pop()}`,
    alive: (jobs) => `for p in ${jobs.map((j) => j.split(':').pop()).join(' ')}; do [ -d /proc/$p ] && ! grep -q '^State:.*Z' /proc/$p/status && echo $p; done; true`,
  });
});
