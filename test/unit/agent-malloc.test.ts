// Agents start with glibc malloc settings that keep large blocks in the main thread's heap for
// reuse (coordinator/backends/backends.ts agentEnv): a 100 MB copy into fresh memory pays ~25,000
// page faults, one into reused memory does not. A setting in the coordinator's environment wins.
import { describe, expect, it } from 'vitest';
import { agentEnv } from '../../coordinator/backends/backends.js';
import type { ResolvedPoolOptions } from '../../coordinator/config/options.js';

describe('agent malloc settings', () => {
  const options = { agentGraceMs: 1000, inlineConcurrency: 8, maxFrameBytes: 1 << 30, agentResources: {} } as unknown as ResolvedPoolOptions;

  it('every agent gets them, beside its clustrix settings', () => {
    const env = agentEnv(options);
    expect(env.MALLOC_MMAP_MAX_).toBe('0');
    expect(Number(env.MALLOC_TRIM_THRESHOLD_)).toBe(512 * 1024 * 1024);
    // one arena for every thread cost trivial tasks ~20 % of their throughput: not set
    expect(env.MALLOC_ARENA_MAX).toBeUndefined();
    expect(env.CLUSTRIX_GRACE_MS).toBe('1000');
  });

  it('a setting in the environment wins', () => {
    process.env.MALLOC_MMAP_MAX_ = '4';
    try {
      const env = agentEnv(options);
      expect(env.MALLOC_MMAP_MAX_).toBeUndefined();
      expect(env.MALLOC_TRIM_THRESHOLD_).toBeDefined();
    } finally {
      delete process.env.MALLOC_MMAP_MAX_;
    }
  });
});
