import { describe, expect, test } from 'vitest';
import { PbsLauncher, SgeLauncher, SlurmLauncher, SshHostsLauncher } from '../../coordinator/backends/launchers/batch/index.js';
import { LocalShell } from '../../coordinator/backends/launchers/local-shell.js';

const shell = new LocalShell();
const ensureAgent = (): Promise<string> => Promise.resolve('/x/agent.mjs');

describe('launcher options: each invalid value throws a TypeError naming the option', () => {
  const cases: [string, () => unknown, string][] = [
    ['not an object', () => new SlurmLauncher(null as never), 'options must be an object, got null'],
    ['unknown option', () => new SlurmLauncher({ shell, ensureAgent, partition: 'x' } as never), 'partition is not an option (known: ensureAgent, clusterId, remoteDir, node, setup, workDir, jobName, commandTimeoutMs, shell, resources, binDir, maxArraySize, accounting)'],
    ['no ensureAgent', () => new SlurmLauncher({ shell } as never), 'ensureAgent must be a function (shell) => Promise<path of agent.cjs>, got undefined'],
    ['no shell', () => new SlurmLauncher({ ensureAgent } as never), 'shell must be a RemoteShell (LocalShell, or SshShell from coordinator/ssh), got undefined'],
    ['job name with a blank', () => new SlurmLauncher({ shell, ensureAgent, jobName: 'my job' }), `jobName must start with a letter and hold at most 32 letters, digits, '.', '_' or '-', got "my job"`],
    ['cluster id with a slash', () => new SlurmLauncher({ shell, ensureAgent, clusterId: 'a/b' }), `clusterId must be 1 to 64 letters, digits, '.', '_' or '-' (not starting with '.'), got "a/b"`],
    ['empty remoteDir', () => new SlurmLauncher({ shell, ensureAgent, remoteDir: '' }), 'remoteDir must be a non-empty string, got ""'],
    ['newline in node', () => new SlurmLauncher({ shell, ensureAgent, node: 'node\nrm -rf ~' }), 'node must be a single line (no newline or carriage return), got "node\\nrm -rf ~"'],
    ['setup not a list', () => new SlurmLauncher({ shell, ensureAgent, setup: 'module load x' as never }), 'setup must be an array of strings, got "module load x"'],
    ['NUL in setup', () => new SlurmLauncher({ shell, ensureAgent, setup: ['a\0'] }), 'setup[0] must not contain a NUL character, got "a\\u0000"'],
    ['zero timeout', () => new SlurmLauncher({ shell, ensureAgent, commandTimeoutMs: 0 }), 'commandTimeoutMs must be a positive integer, got 0'],
    ['newline in binDir', () => new SlurmLauncher({ shell, ensureAgent, binDir: '/opt\n' }), 'binDir must be a single line (no newline or carriage return), got "/opt\\n"'],
    ['bad accounting', () => new SlurmLauncher({ shell, ensureAgent, accounting: 'dbd' as never }), `accounting must be one of 'auto', 'slurmdbd', 'jobcomp', 'none', got "dbd"`],
    ['zero maxArraySize', () => new SlurmLauncher({ shell, ensureAgent, maxArraySize: 0 }), 'maxArraySize must be a positive integer, got 0'],
    ['fractional maxArraySize', () => new SgeLauncher({ shell, ensureAgent, maxArraySize: 2.5 }), 'maxArraySize must be a positive integer, got 2.5'],
    ['resources checked too', () => new SlurmLauncher({ shell, ensureAgent, resources: { cpusPerTask: 0 } }), 'resources.cpusPerTask must be a positive integer, got 0'],
    ['pbs resource style', () => new PbsLauncher({ shell, ensureAgent, resourceStyle: 'pbs' as never }), `resourceStyle must be one of 'torque', 'pbspro', got "pbs"`],
    ['pbs multi-node', () => new PbsLauncher({ shell, ensureAgent, resources: { nodes: 2 } }), 'resources.nodes above 1 needs slurm (pbs jobs run one agent each: ask for more agents instead), got 2'],
    ['sge queue with a blank', () => new SgeLauncher({ shell, ensureAgent, resources: { queue: 'all q' } }), 'resources.queue cannot be written in an SGE #$ directive (no blanks, quotes, backslashes, backquotes or $), got "all q"'],
    ['sge pe with a quote', () => new SgeLauncher({ shell, ensureAgent, parallelEnvironment: "smp'" }), `parallelEnvironment cannot be written in an SGE #$ directive (no blanks, quotes, backslashes, backquotes or $), got "smp'"`],
    ['sge rejectImpossible', () => new SgeLauncher({ shell, ensureAgent, rejectImpossible: 'yes' as never }), 'rejectImpossible must be true or false, got "yes"'],
    ['ssh without hosts', () => new SshHostsLauncher({ ensureAgent, hosts: [] }), 'hosts must be a non-empty array, got an array'],
    ['ssh host not a shell', () => new SshHostsLauncher({ ensureAgent, hosts: [{ shell: {} as never }] }), 'hosts[0].shell must be a RemoteShell (LocalShell, or SshShell from coordinator/ssh), got an object'],
    ['ssh host null', () => new SshHostsLauncher({ ensureAgent, hosts: [null as never] }), 'hosts[0].shell must be a RemoteShell (LocalShell, or SshShell from coordinator/ssh), got null'],
    ['ssh host typo', () => new SshHostsLauncher({ ensureAgent, hosts: [{ shell, max: 1 } as never] }), 'hosts[0].max is not an option (known: shell, name, maxAgents)'],
    ['ssh maxAgents', () => new SshHostsLauncher({ ensureAgent, hosts: [{ shell, maxAgents: -1 }] }), 'hosts[0].maxAgents must be a positive integer, got -1'],
    ['ssh resources', () => new SshHostsLauncher({ ensureAgent, hosts: [shell], resources: {} } as never), 'resources is not an option (known: ensureAgent, clusterId, remoteDir, node, setup, workDir, jobName, commandTimeoutMs, hosts)'],
  ];
  test.each(cases)('%s', (_, make, message) => {
    expect(make).toThrow(new TypeError(message));
  });

  test('valid options construct; every kind says what it is', () => {
    expect(new SlurmLauncher({ shell, ensureAgent }).kind).toBe('slurm');
    expect(new PbsLauncher({ shell, ensureAgent, resourceStyle: 'pbspro' }).kind).toBe('pbs');
    expect(new SgeLauncher({ shell, ensureAgent, resources: { queue: 'all.q', cpusPerTask: 2 } }).kind).toBe('sge');
    expect(new SshHostsLauncher({ ensureAgent, hosts: [shell, { shell, name: 'h2', maxAgents: 2 }] }).kind).toBe('ssh');
  });
});
