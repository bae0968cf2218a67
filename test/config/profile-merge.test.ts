// A valid file loads as typed profiles, and resolveProfile applies one under the caller's options.
import { describe, expect, it } from 'vitest';
import { loadConfig, mergeProfile, resolveProfile } from '../../coordinator/config/index.js';
import { fixture } from './helpers.js';

const file = fixture('valid.yaml');

const hpc = {
  backend: 'slurm',
  agents: 4,
  ssh: { host: 'login.hpc.example.edu', user: 'ada', identityFile: '~/.ssh/id_ed25519', connectTimeoutMs: 10_000 },
  resources: { cpusPerTask: 8, memory: '16G', time: '02:00:00', partition: 'short' },
  setup: ['module load nodejs/20'],
  connect: 'tunnel',
  heartbeatMs: 2000,
};

describe('a valid config file', () => {
  it('loads every profile and the default', () => {
    expect(loadConfig(file)).toEqual({ path: file, default: 'hpc', profiles: { hpc, local: { backend: 'local', agents: 2 } } });
  });

  it('is applied under the caller options, ssh and resources merged key by key', () => {
    const options = resolveProfile({
      profile: 'hpc',
      configFile: file,
      agents: 16,
      ssh: { host: 'login2.hpc.example.edu', port: 2222 },
      resources: { time: 30, gpus: 1 },
      setup: ['module load cuda'],
    });
    expect(options).toEqual({
      ...hpc,
      agents: 16,
      ssh: { ...hpc.ssh, host: 'login2.hpc.example.edu', port: 2222 },
      resources: { cpusPerTask: 8, memory: '16G', time: 30, partition: 'short', gpus: 1 },
      setup: ['module load cuda'],
    });
    expect(options).not.toHaveProperty('profile');
    expect(options).not.toHaveProperty('configFile');
  });

  it('takes the file default when only configFile is given', () => {
    expect(resolveProfile({ configFile: file })).toEqual(hpc);
  });

  it('resolves a relative configFile from cwd', () => {
    expect(resolveProfile({ configFile: 'valid.yaml', profile: 'local' }, { cwd: fixture('.') })).toEqual({ backend: 'local', agents: 2 });
  });

  it('reads no file when neither profile nor configFile is given', () => {
    const options = { backend: 'local' as const, agents: 3 };
    expect(resolveProfile(options, { cwd: '/nonexistent', home: '/nonexistent', env: {} })).toEqual(options);
  });
});

describe('YAML anchors', () => {
  it('let profiles share settings through << merge keys', () => {
    expect(loadConfig(fixture('anchors.yaml')).profiles['hpc-gpu']).toEqual({
      backend: 'slurm',
      ssh: { host: 'login.hpc.example.edu' },
      resources: { cpusPerTask: 8, partition: 'gpu', gpus: 1 },
    });
  });
});

describe('mergeProfile', () => {
  it('keeps the profile value where an override is undefined', () => {
    expect(mergeProfile({ agents: 4, ssh: { host: 'a', user: 'u' } }, { agents: undefined, ssh: { host: 'a', user: undefined } })).toEqual({
      agents: 4,
      ssh: { host: 'a', user: 'u' },
    });
  });

  it('lets an override queue replace the profile partition (one setting, two names)', () => {
    expect(mergeProfile({ resources: { partition: 'short', cpusPerTask: 2 } }, { resources: { queue: 'long' } })).toEqual({
      resources: { cpusPerTask: 2, queue: 'long' },
    });
  });

  it('merges kubernetes, slurm, pbs and sge one level deep; lists and maps inside are replaced', () => {
    const merged = mergeProfile(
      {
        kubernetes: { namespace: 'ns', cpu: 2, labels: { team: 'a' } },
        slurm: { accounting: 'none' },
        pbs: { resourceStyle: 'pbspro' },
        sge: { parallelEnvironment: 'smp', rejectImpossible: false },
      },
      { kubernetes: { cpu: 4, labels: { owner: 'b' } }, sge: { memoryResource: 'mem_free' } },
    );
    expect(merged).toEqual({
      kubernetes: { namespace: 'ns', cpu: 4, labels: { owner: 'b' } },
      slurm: { accounting: 'none' },
      pbs: { resourceStyle: 'pbspro' },
      sge: { parallelEnvironment: 'smp', rejectImpossible: false, memoryResource: 'mem_free' },
    });
  });

  it('does not change the profile it was given', () => {
    const profile = { ssh: { host: 'a' }, resources: { cpusPerTask: 2 } };
    mergeProfile(profile, { ssh: { host: 'b' }, resources: { cpusPerTask: 4 } });
    expect(profile).toEqual({ ssh: { host: 'a' }, resources: { cpusPerTask: 2 } });
  });
});
