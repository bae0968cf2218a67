import { describe, expect, test } from 'vitest';
import { compileResources, formatHms, formatSlurmTime, parseMemoryMb, parseWalltimeSeconds } from '../../coordinator/backends/launchers/batch/resources.js';
import type { ResourceOptions } from '../../coordinator/backends/launchers/batch/resources.js';

describe('compileResources', () => {
  test('defaults: one node, everything else left to the scheduler', () => {
    expect(compileResources(undefined, 'slurm')).toEqual({
      nodes: 1,
      cpusPerTask: undefined,
      memoryMb: undefined,
      timeSeconds: undefined,
      queue: undefined,
      account: undefined,
      qos: undefined,
      gpus: undefined,
      extraDirectives: [],
    });
  });

  test('units are fixed: memory in MB, time in seconds; queue and partition are one setting', () => {
    const r = compileResources(
      { nodes: 2, cpusPerTask: 4, memory: '1.5G', time: '1-02:03:04', partition: 'short', account: 'proj', qos: 'high', gpus: 1, extraDirectives: ['--exclusive'] },
      'slurm',
    );
    expect(r).toEqual({
      nodes: 2,
      cpusPerTask: 4,
      memoryMb: 1536,
      timeSeconds: 93784,
      queue: 'short',
      account: 'proj',
      qos: 'high',
      gpus: 1,
      extraDirectives: ['--exclusive'],
    });
    expect(compileResources({ queue: 'all.q', memory: 512, time: 90 }, 'sge')).toMatchObject({ queue: 'all.q', memoryMb: 512, timeSeconds: 5400 });
  });

  // Each message is part of the interface: users see it, tests pin it.
  const cases: [string, unknown, 'slurm' | 'pbs' | 'sge', string][] = [
    ['not an object', 'big', 'slurm', 'resources must be an object, got "big"'],
    ['unknown key', { cpus: 4 }, 'slurm', 'resources.cpus is not an option (known: nodes, cpusPerTask, memory, time, partition, queue, account, qos, gpus, extraDirectives)'],
    ['zero nodes', { nodes: 0 }, 'slurm', 'resources.nodes must be a positive integer, got 0'],
    ['fractional cpus', { cpusPerTask: 1.5 }, 'slurm', 'resources.cpusPerTask must be a positive integer, got 1.5'],
    ['cpus as text', { cpusPerTask: '4' }, 'slurm', 'resources.cpusPerTask must be a positive integer, got "4"'],
    ['multi-node pbs', { nodes: 2 }, 'pbs', 'resources.nodes above 1 needs slurm (pbs jobs run one agent each: ask for more agents instead), got 2'],
    ['both names', { partition: 'a', queue: 'b' }, 'slurm', 'resources.partition and resources.queue are the same setting; give one of them'],
    ['qos on sge', { qos: 'high' }, 'sge', 'resources.qos is a SLURM setting; sge has no quality of service'],
    ['bad memory unit', { memory: '4X' }, 'slurm', `resources.memory must be a positive number of MB or a size such as '4G' or '512M', got "4X"`],
    ['negative memory', { memory: -1 }, 'slurm', `resources.memory must be a positive number of MB or a size such as '4G' or '512M', got -1`],
    ['bad time', { time: '1:2' }, 'slurm', `resources.time must be a positive number of minutes, 'HH:MM:SS' or 'D-HH:MM:SS', got "1:2"`],
    ['61 minutes', { time: '00:61:00' }, 'slurm', `resources.time must be a positive number of minutes, 'HH:MM:SS' or 'D-HH:MM:SS', got "00:61:00"`],
    ['zero time', { time: 0 }, 'slurm', `resources.time must be a positive number of minutes, 'HH:MM:SS' or 'D-HH:MM:SS', got 0`],
    ['empty account', { account: '' }, 'slurm', 'resources.account must be a non-empty string, got ""'],
    ['newline in partition', { partition: 'a\n#SBATCH --x' }, 'slurm', 'resources.partition must be a single line (no newline or carriage return), got "a\\n#SBATCH --x"'],
    ['newline in a directive', { extraDirectives: ['--a', 'b\nc'] }, 'slurm', 'resources.extraDirectives[1] must be a single line (no newline or carriage return), got "b\\nc"'],
    ['directives not a list', { extraDirectives: '--a' }, 'slurm', 'resources.extraDirectives must be an array of strings, got "--a"'],
  ];
  test.each(cases)('%s', (_, options, kind, message) => {
    expect(() => compileResources(options as ResourceOptions, kind)).toThrow(new TypeError(message));
  });
});

describe('units', () => {
  test.each([
    [512, 512],
    [0.5, 1],
    ['512M', 512],
    ['4G', 4096],
    ['4GB', 4096],
    ['4GiB', 4096],
    ['4g', 4096],
    ['1T', 1048576],
    ['1536K', 2],
    ['100', 100],
  ])('memory %s is %i MB', (input, mb) => {
    expect(parseMemoryMb(input, 'memory')).toBe(mb);
  });

  test.each([
    [1, 60],
    [0.5, 30],
    ['00:00:30', 30],
    ['48:00:00', 172800],
    ['2-00:00:01', 172801],
  ])('time %s is %i s', (input, seconds) => {
    expect(parseWalltimeSeconds(input, 'time')).toBe(seconds);
  });

  test('formats', () => {
    expect(formatHms(5)).toBe('00:00:05');
    expect(formatHms(172800)).toBe('48:00:00');
    expect(formatSlurmTime(3600)).toBe('01:00:00');
    expect(formatSlurmTime(93784)).toBe('1-02:03:04');
  });
});
