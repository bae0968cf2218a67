// The `pools` option, in code and in a config file, through the one options schema: each pool
// resolves to its own options (the cluster's, under the pool's own), one token for all; a bad
// pool is a ConfigError naming its key path, word for word the same in code and in a file.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../coordinator/errors/errors.js';
import { loadConfig, resolveProfile } from '../../coordinator/config/index.js';
import { resolveClusterOptions } from '../../coordinator/config/options.js';
import { thrown, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();
const ssh = { host: 'login.example.org', user: 'me' };

describe('pools in code', () => {
  it('resolves each pool under the cluster options it does not set', () => {
    const o = resolveClusterOptions({
      ssh,
      retries: 5,
      pools: { cpu: { agents: 2, slots: 1 }, gpu: { backend: 'slurm', resources: { partition: 'gpu', gpus: 1 }, agents: 0, adapt: { min: 0, max: 4 } } },
    }, 8);
    expect(o.pools.map((p) => p.name)).toEqual(['cpu', 'gpu']);
    const [cpu, gpu] = o.pools.map((p) => p.options);
    expect(cpu).toMatchObject({ backend: 'local', agents: 2, slots: [1, 1], adapt: null, retries: 5 });
    expect(gpu).toMatchObject({ backend: 'slurm', agents: 0, ssh, resources: { partition: 'gpu', gpus: 1 }, adapt: { min: 0, max: 4, idleMs: 60_000 }, retries: 5 });
    expect(cpu!.token).toBe(gpu!.token);
    expect(o).toMatchObject({ backend: 'local+slurm', agents: 2 });
  });

  it("without pools, one pool named 'default' of the cluster's options", () => {
    const o = resolveClusterOptions({ agents: 0, adapt: { min: 0, max: 3, idleMs: 500 }, agentResources: { licenses: 2 } }, 4);
    expect(o.pools).toHaveLength(1);
    expect(o.pools[0]!.name).toBe('default');
    expect(o.pools[0]!.options).toMatchObject({ agents: 0, adapt: { min: 0, max: 3, idleMs: 500 }, agentResources: { licenses: 2 } });
  });

  it('an adaptive pool starts at its min unless agents says otherwise', () => {
    expect(resolveClusterOptions({ adapt: { min: 2, max: 3 } }, 4).pools[0]!.options.agents).toBe(2);
    expect(resolveClusterOptions({ agents: 3, adapt: { min: 2, max: 3 } }, 4).pools[0]!.options.agents).toBe(3);
  });

  it.each([
    [{ agents: 2, pools: { cpu: { agents: 1 } } }, 'options.agents: set per pool (pools.<name>.agents) when pools are given'],
    [{ adapt: { min: 0, max: 1 }, pools: { cpu: { agents: 1 } } }, 'options.adapt: set per pool (pools.<name>.adapt) when pools are given'],
    [{ pools: {} }, 'options.pools: expected a mapping of pool names to pool options (1 to 64 pools), got a mapping'],
    [{ pools: { cpu: { agnts: 1 } } }, "options.pools.cpu.agnts: unknown key (allowed: backend, agents, slots, ssh, hosts, resources, setup, node, uploadNode, remoteDir, binDir, jobName, maxArraySize, connect, relayHost, slurm, pbs, sge, kubernetes, replaceLostAgents, adapt, agentResources); did you mean 'agents'?"],
    [{ pools: { cpu: { agents: 0 } } }, 'options.pools.cpu.agents: expected a positive integer for the local backend (0 only for a remote backend, grown later by scale() or adapt()), got 0'],
    [{ pools: { cpu: { adapt: { min: 3, max: 1 } } } }, 'options.pools.cpu.adapt.max: expected at least min (3), got 1'],
    [{ pools: { cpu: { agentResources: { licenses: -1 } } } }, 'options.pools.cpu.agentResources.licenses: expected a non-negative number, got -1'],
    [{ pools: { cpu: { backend: 'slurmm' } } }, "options.pools.cpu.backend: expected one of 'local', 'ssh', 'slurm', 'pbs', 'sge', 'kubernetes', got \"slurmm\"; did you mean 'slurm'?"],
  ])('refuses %j', (options, message) => {
    const err = thrown(() => resolveClusterOptions(options as never, 4));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(message);
  });

  it('accepts a local pool of 0 agents when it adapts', () => {
    expect(resolveClusterOptions({ pools: { cpu: { agents: 0, adapt: { min: 0, max: 2 } } } }, 4).pools[0]!.options.agents).toBe(0);
  });
});

describe('pools in a config file', () => {
  it('are read from a profile, each checked like the options in code', () => {
    const dir = tempDir({
      'clustrix.config.yaml': [
        'profiles:',
        '  mixed:',
        '    ssh: { host: login.example.org, user: me }',
        '    pools:',
        '      cpu: { agents: 2 }',
        '      gpu: { backend: slurm, agents: 0, resources: { partition: gpu, gpus: 1 }, adapt: { min: 0, max: 8, idleMs: 30000 } }',
        '',
      ].join('\n'),
    });
    const options = resolveProfile({ profile: 'mixed' }, { cwd: dir, home: dir, env: {} });
    const o = resolveClusterOptions(options, 4);
    expect(o.pools.map((p) => [p.name, p.options.backend, p.options.agents])).toEqual([['cpu', 'local', 2], ['gpu', 'slurm', 0]]);
    expect(o.pools[1]!.options).toMatchObject({ ssh, adapt: { min: 0, max: 8, idleMs: 30_000 } });
  });

  it('a bad pool names its line and key path, in the same words as in code', () => {
    const dir = tempDir({ 'c.yaml': 'profiles:\n  a:\n    pools:\n      gpu:\n        agnts: 1\n' });
    const file = join(dir, 'c.yaml');
    const err = thrown(() => loadConfig(file));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:5:9: profiles\\.a\\.pools\\.gpu\\.agnts: unknown key \\(allowed: .*\\); did you mean 'agents'\\?$`));
  });

  it('a pool may not hold an SSH secret either', () => {
    const dir = tempDir({ 'c.yaml': 'profiles:\n  a:\n    pools:\n      gpu:\n        backend: slurm\n        ssh: { host: h, passphrase: x }\n' });
    const err = thrown(() => loadConfig(join(dir, 'c.yaml')));
    expect(err.message).toMatch(/profiles\.a\.pools\.gpu\.ssh\.passphrase: not allowed in a config file/);
  });
});
