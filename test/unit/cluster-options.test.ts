// Cluster.start option validation: each invalid value is a TypeError with an exact message,
// raised before any agent process is started.
import { describe, expect, it } from 'vitest';
import { Cluster, ConfigError, type ClusterOptions } from 'clustrix';

/** Starts a cluster that must be refused; closes it if it was not, so no agents leak. */
async function refusal(options: unknown): Promise<unknown> {
  try {
    const cluster = await Cluster.start(options as ClusterOptions);
    await cluster.close();
  } catch (err) {
    return err;
  }
  throw new Error(`Cluster.start(${JSON.stringify(options)}) was accepted`);
}

describe('Cluster.start refuses', () => {
  it.each([
    [{ agents: 0 }, 'options.agents must be an integer >= 1, got 0'],
    [{ agents: -2 }, 'options.agents must be an integer >= 1, got -2'],
    [{ agents: 1.5 }, 'options.agents must be an integer >= 1, got 1.5'],
    [{ agents: '2' }, 'options.agents must be an integer >= 1, got "2"'],
    [{ agents: 1, slots: 0 }, 'options.slots must be an integer >= 1, got 0'],
    [{ agents: 1, port: 70_000 }, 'options.port must be an integer between 0 and 65535, got 70000'],
    [{ agents: 1, retries: -1 }, 'options.retries must be an integer >= 0, got -1'],
    [{ agents: 1, maxArraySize: 0 }, 'options.maxArraySize must be an integer >= 1, got 0'],
    [{ agents: 1, heartbeatMs: 10 }, 'options.heartbeatMs must be an integer between 50 and 2147483647, got 10'],
    [{ agents: 1, recoveryTimeoutMs: 0 }, 'options.recoveryTimeoutMs must be an integer between 100 and 2147483647, got 0'],
    [{ agents: 1, node: '' }, 'options.node must be a non-empty string'],
    [{ agents: 1, token: 'short' }, 'options.token must be a string of at least 16 characters'],
    [{ agents: 1, token: 'x'.repeat(15) }, 'options.token must be a string of at least 16 characters'],
    [{ agents: 1, token: 1234567890123456 }, 'options.token must be a string of at least 16 characters'],
    [{ agents: 1, host: '' }, 'options.host must be a non-empty string'],
    [{ agents: 1, backend: 'slurmm' }, `options.backend must be one of 'local', 'ssh', 'slurm', 'pbs', 'sge', 'kubernetes', got "slurmm"`],
    [{ agents: 1, onLog: 'console' }, 'options.onLog must be a function'],
    [{ agents: 1, replaceLostAgents: 'yes' }, 'options.replaceLostAgents must be a boolean'],
    [null, 'Cluster.start options must be an object'],
    [42, 'Cluster.start options must be an object'],
  ])('%j with a TypeError', async (options, message) => {
    const err = await refusal(options);
    // The options object itself is checked by Cluster.start (a ConfigError); its fields, for now, by TypeErrors.
    expect(err).toBeInstanceOf(options === null || typeof options !== 'object' ? ConfigError : TypeError);
    expect((err as Error).message).toBe(message);
  });

  it('an unknown option, naming it and listing the known ones', async () => {
    const err = await refusal({ agent: 2 });
    expect(err).toBeInstanceOf(TypeError);
    const message = (err as Error).message;
    expect(message.startsWith(`Unknown option 'agent' for Cluster.start (known: `)).toBe(true);
    expect(message).toMatch(/\bagents\b/);
    expect(message).toMatch(/\bslots\b/);
    expect(message).toMatch(/\btoken\b/);
  });

  it('a token of exactly 16 characters is accepted', async () => {
    const cluster = await Cluster.start({ agents: 1, slots: 1, token: 't'.repeat(16) });
    try {
      expect(await cluster.run((a: number) => a + 1, 1)).toBe(2);
    } finally {
      await cluster.close();
    }
  });
});
