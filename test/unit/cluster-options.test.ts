// Cluster.start option validation: each invalid value is a ConfigError (CONFIG_INVALID) with an
// exact message naming the option and what is allowed, raised before any agent process is started.
import { describe, expect, it } from 'vitest';
import { Cluster, ConfigError, type ClusterOptions } from 'clustrix';
import { resolveClusterOptions } from '../../coordinator/config/options.js';

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

/** resolveClusterOptions' error (the same code, without starting anything). */
function resolveError(options: unknown): Error & { code?: string } {
  try {
    resolveClusterOptions(options as ClusterOptions);
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error(`resolveClusterOptions(${JSON.stringify(options)}) was accepted`);
}

const MS = (min: number) => `a whole number of milliseconds from ${min} to 2147483647 (the longest timer Node can set)`;

describe('Cluster.start refuses', () => {
  it.each([
    [{ agents: 0 }, 'options.agents: expected a positive integer for the local backend (0 only for a remote backend, grown later by scale() or adapt()), got 0'],
    [{ agents: -2 }, 'options.agents: expected a non-negative integer, got -2'],
    [{ agents: 1.5 }, 'options.agents: expected a non-negative integer, got 1.5'],
    [{ agents: '2' }, 'options.agents: expected a non-negative integer, got "2"'],
    [{ agents: 1, slots: 0 }, 'options.slots: expected a positive integer, got 0'],
    [{ agents: 1, port: 70_000 }, 'options.port: expected an integer from 0 to 65535 (0: any free port), got 70000'],
    [{ agents: 1, retries: -1 }, 'options.retries: expected a non-negative integer, got -1'],
    [{ agents: 1, maxArraySize: 0 }, 'options.maxArraySize: expected a positive integer, got 0'],
    [{ agents: 1, heartbeatMs: 10 }, `options.heartbeatMs: expected ${MS(50)}, got 10`],
    [{ agents: 1, heartbeatMs: '5s' }, `options.heartbeatMs: expected ${MS(50)}, got "5s"`],
    [{ agents: 1, startTimeoutMs: 3e9 }, `options.startTimeoutMs: expected ${MS(100)}, got 3000000000`],
    [{ agents: 1, recoveryTimeoutMs: 0 }, `options.recoveryTimeoutMs: expected ${MS(100)}, got 0`],
    [{ agents: 1, node: '' }, 'options.node: expected a non-empty string on one line, got ""'],
    [{ agents: 1, token: 'short' }, 'options.token: expected a string of at least 16 characters (the value is a secret: not shown)'],
    [{ agents: 1, token: 'x'.repeat(15) }, 'options.token: expected a string of at least 16 characters (the value is a secret: not shown)'],
    [{ agents: 1, token: 1234567890123456 }, 'options.token: expected a string of at least 16 characters (the value is a secret: not shown)'],
    [{ agents: 1, host: '' }, 'options.host: expected a non-empty string, got ""'],
    [{ agents: 1, backend: 'slurmm' }, `options.backend: expected one of 'local', 'ssh', 'slurm', 'pbs', 'sge', 'kubernetes', got "slurmm"; did you mean 'slurm'?`],
    [{ agents: 1, onLog: 'console' }, 'options.onLog: expected a function (entry) => void, got "console"'],
    [{ agents: 1, replaceLostAgents: 'yes' }, 'options.replaceLostAgents: expected true or false, got "yes"'],
    [{ agents: 1, setup: ['module load x', 3] }, 'options.setup[1]: expected a string, got 3'],
    [{ agents: 1, tls: { cert: 'c.pem' } }, 'options.tls.key: missing, expected a PEM file path'],
    [{ agents: 1, resources: { memory: 'lots' } }, `options.resources.memory: expected a positive number of MB or a size such as '4G' or '512M', got "lots"`],
    [{ agents: 1, ssh: { host: 'h', port: 0 } }, 'options.ssh.port: expected an integer from 1 to 65535, got 0'],
    [{ agents: 1, ssh: { host: 'h', passphrase: 7 } }, 'options.ssh.passphrase: expected a string (the value is a secret: not shown)'],
    [{ agents: 1, connect: 'tunnel', relayHost: '0.0.0.0' }, "options.relayHost: expected the login node's address compute nodes reach (not a wildcard such as 0.0.0.0), got \"0.0.0.0\""],
  ])('%j with a ConfigError', async (options, message) => {
    const err = await refusal(options);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('CONFIG_INVALID');
    expect((err as Error).message).toBe(message);
  });

  it('an unknown option, naming it, listing the known ones, and the near miss', async () => {
    const err = await refusal({ agent: 2 });
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(
      'options.agent: unknown key (allowed: backend, agents, slots, profile, configFile, ssh, hosts, resources, setup, node, uploadNode, ' +
        'remoteDir, binDir, jobName, maxArraySize, connect, relayHost, slurm, pbs, sge, kubernetes, host, port, advertiseHost, token, retries, heartbeatMs, ' +
        "agentGraceMs, startTimeoutMs, recoveryTimeoutMs, maxPipelinePerSlot, maxFrameBytes, objectStoreBytes, objectSpillBytes, inlineConcurrency, onLog, historyEntries, historyBytes, dashboard, replaceLostAgents, adapt, agentResources, tls, pools); did you mean 'agents'?",
    );
  });

  it('every problem at once, a line each', async () => {
    const err = await refusal({ agents: 1, slots: 0, retries: 'x', jobName: '9lives' });
    expect((err as Error).message).toBe(
      'options.slots: expected a positive integer, got 0\n' +
        `options.jobName: expected a name of at most 32 letters, digits, '.', '_' or '-', starting with a letter, got "9lives"\n` +
        'options.retries: expected a non-negative integer, got "x"',
    );
  });

  it('a secret is not repeated, nor kept in the error', async () => {
    const err = (await refusal({ agents: 1, token: 'hunter2' })) as ConfigError;
    expect(err.message).not.toContain('hunter2');
    expect(err.cause).toBeUndefined();
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

describe('resolveClusterOptions', () => {
  it.each([
    [null, 'options: expected a mapping of cluster options (backend, agents, ssh, resources, ...), got null'],
    [42, 'options: expected a mapping of cluster options (backend, agents, ssh, resources, ...), got 42'],
  ])('refuses %j as options', (options, message) => {
    const err = resolveError(options);
    expect(err.name).toBe('ConfigError');
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toBe(message);
  });

  it('0 agents is a remote backend starting none', () => {
    expect(resolveClusterOptions({ backend: 'slurm', agents: 0 }).agents).toBe(0);
  });

  it.each([
    [{ backend: 'pbs', resources: { nodes: 2 } }, 'options.resources.nodes: expected 1 with the pbs backend (its jobs run one agent each: ask for more agents instead), got 2'],
    [{ backend: 'sge', resources: { qos: 'high' } }, 'options.resources.qos: a SLURM setting; sge has no quality of service'],
    [{ backend: 'sge', resources: { queue: 'all q' } }, 'options.resources.queue: expected a plain word (no blanks, quotes, backslashes, backquotes or $: SGE #$ directives cannot quote), got "all q"'],
    [{ backend: 'slurm', resources: { partition: 'a', queue: 'b' } }, 'options.resources.queue: the same setting as partition (its PBS and SGE name): give one of the two'],
    [{ backend: 'sge', sge: { parallelEnvironment: "smp'" } }, `options.sge.parallelEnvironment: expected a plain word (no blanks, quotes, backslashes, backquotes or $: SGE #$ directives cannot quote), got "smp'"`],
    [{ backend: 'slurm', node: 'node\nrm -rf ~' }, 'options.node: expected a non-empty string on one line, got "node\\nrm -rf ~"'],
    [{ backend: 'slurm', setup: ['a\0'] }, 'options.setup: expected a list of shell lines without NUL characters, got a list'],
  ])('a rule a launcher would apply is the schema\'s first: %j', (options, message) => {
    const err = resolveError(options);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toBe(message);
  });
});
