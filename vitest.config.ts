import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration and cluster tests start real processes; two cores cannot run many files at once.
    fileParallelism: true,
    maxWorkers: 2,
    pool: 'forks',
  },
});
