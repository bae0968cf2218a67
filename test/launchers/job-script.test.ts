import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { renderJobScript, slurmFilename, type JobScriptSpec, type SchedulerDialect } from '../../coordinator/backends/launchers/batch/job-script.js';
import { compileResources, type ResourceOptions, type SchedulerKind } from '../../coordinator/backends/launchers/batch/resources.js';

const TOKEN = 'tok-3f9a-SECRET-never-in-scripts';
const DIR = `/home/o'brien/my "jobs" $HOME/%j dir`;

export function spec(kind: SchedulerKind | 'ssh', overrides: Partial<JobScriptSpec> = {}, resources: ResourceOptions = {}): JobScriptSpec {
  const scheduler: SchedulerDialect =
    kind === 'slurm'
      ? { kind }
      : kind === 'pbs'
        ? { kind, resourceStyle: 'torque' }
        : kind === 'sge'
          ? { kind, parallelEnvironment: 'smp', memoryResource: 'h_vmem', gpuResource: 'gpu' }
          : { kind, exitFile: `${DIR}/a.exit`, jobIdPrefix: "host 'one':" };
  return {
    scheduler,
    resources: compileResources(resources, kind === 'ssh' ? 'slurm' : kind),
    jobName: kind === 'sge' ? 'clustrix-a1' : `job "one" $x 'q'`,
    stdoutPath: `${DIR}/a.out`,
    stderrPath: `${DIR}/a.err`,
    workDir: DIR,
    setup: ['module load nodejs/20', 'export CLUSTRIX_TEST_SETUP="$((6 * 7))"'],
    node: '/opt/node 20/bin/node',
    agentPath: `${DIR}/agent.mjs`,
    tokenFile: `${DIR}/token`,
    url: 'ws://login-1:7070/agents?a=1&b=$2',
    agentIds: ["agent 'one' $1"],
    ...overrides,
  };
}

function bashSyntaxOk(script: string): void {
  const result = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
}

function directives(script: string, prefix: string): string[] {
  return script
    .split('\n')
    .filter((l) => l.startsWith(`${prefix} `))
    .map((l) => l.slice(prefix.length + 1));
}

describe('renderJobScript', () => {
  test.each(['slurm', 'pbs', 'sge', 'ssh'] as const)('%s: valid bash, never the token', (kind) => {
    const input = spec(kind, {}, { cpusPerTask: 2, memory: '4G', time: '01:30:00' });
    // even a spec object that happens to carry the token (e.g. spread from the connect info) cannot leak it
    const script = renderJobScript({ ...input, ...({ token: TOKEN } as object) });
    bashSyntaxOk(script);
    expect(script).not.toContain(TOKEN);
    expect(script.startsWith('#!/bin/bash\n')).toBe(true);
    expect(script).toContain(`export CLUSTRIX_TOKEN_FILE='/home/o'\\''brien/my "jobs" $HOME/%j dir/token'`);
  });

  test('slurm directives: quoted values, %-patterns escaped, numbers bare', () => {
    const script = renderJobScript(
      spec('slurm', {}, { cpusPerTask: 4, memory: '4G', time: '1-00:00:00', partition: 'gpu short', account: "o'brien", qos: 'high', gpus: 2, extraDirectives: ['--constraint=skylake', '#SBATCH --exclusive'] }),
    );
    expect(directives(script, '#SBATCH')).toEqual([
      `--job-name='job "one" $x '\\''q'\\'''`,
      `--output='/home/o'\\''brien/my "jobs" $HOME/%%j dir/a.out'`,
      `--error='/home/o'\\''brien/my "jobs" $HOME/%%j dir/a.err'`,
      '--nodes=1',
      '--ntasks-per-node=1',
      '--no-requeue',
      '--cpus-per-task=4',
      '--mem=4096M',
      '--time=1-00:00:00',
      "--partition='gpu short'",
      "--account='o'\\''brien'",
      '--qos=high',
      '--gpus-per-node=2',
      '--constraint=skylake',
      '--exclusive',
    ]);
    expect(script).toContain('export CLUSTRIX_JOB_ID="${SLURM_JOB_ID:-}"');
    expect(script).toContain('export CLUSTRIX_SLOTS=4');
    expect(script).toContain('export CLUSTRIX_WALLTIME_END="$(( ($(date +%s) + 86400) * 1000 ))"');
    expect(script).toMatch(/\nexec "\$clustrix_node" '\/home\/o'\\''brien\/my "jobs" \$HOME\/%j dir\/agent\.mjs'\n$/);
  });

  test('all directives come before the first command (sbatch stops reading them there)', () => {
    for (const kind of ['slurm', 'pbs', 'sge'] as const) {
      const lines = renderJobScript(spec(kind, {}, { extraDirectives: ['-x'] })).split('\n');
      const firstCommand = lines.findIndex((l, i) => i > 0 && l !== '' && !l.startsWith('#'));
      const lastDirective = Math.max(...lines.map((l, i) => (/^#(SBATCH|PBS|\$) /.test(l) ? i : -1)));
      expect(lastDirective).toBeLessThan(firstCommand);
    }
  });

  test('slurm filename patterns: %% for a literal %, untouched when a backslash turns patterns off', () => {
    expect(slurmFilename('/a/100%/x.out')).toBe('/a/100%%/x.out');
    expect(slurmFilename('/a\\b/100%/x.out')).toBe('/a\\b/100%/x.out');
  });

  test('pbs directives, torque and pbspro styles', () => {
    const torque = renderJobScript(spec('pbs', {}, { cpusPerTask: 4, memory: 2048, time: 90, queue: 'batch', account: 'proj', gpus: 1 }));
    expect(directives(torque, '#PBS')).toEqual([
      `-N 'job "one" $x '\\''q'\\'''`,
      `-o '/home/o'\\''brien/my "jobs" $HOME/%j dir/a.out'`,
      `-e '/home/o'\\''brien/my "jobs" $HOME/%j dir/a.err'`,
      '-r n',
      '-l nodes=1:ppn=4:gpus=1',
      '-l mem=2048mb',
      '-l walltime=01:30:00',
      '-q batch',
      '-A proj',
    ]);
    expect(torque).toContain('export CLUSTRIX_JOB_ID="${PBS_JOBID:-${SLURM_JOB_ID:-}}"');
    const pro = renderJobScript({ ...spec('pbs', {}, { cpusPerTask: 4, memory: 2048, gpus: 1 }), scheduler: { kind: 'pbs', resourceStyle: 'pbspro' } });
    expect(directives(pro, '#PBS')).toContain('-l select=1:ncpus=4:mem=2048mb:ngpus=1');
  });

  test('sge directives: plain words only, memory per slot, paths left to the qsub command line', () => {
    const script = renderJobScript(spec('sge', {}, { cpusPerTask: 4, memory: '4G', time: '02:00:00', queue: 'all.q', account: 'proj', gpus: 1 }));
    expect(directives(script, '#$')).toEqual(['-S /bin/bash', '-N clustrix-a1', '-r n', '-pe smp 4', '-l h_rt=02:00:00', '-l h_vmem=1024M', '-l gpu=1', '-q all.q', '-A proj']);
    expect(script).not.toMatch(/^#\$ -[oe] /m);
    expect(script).toContain('export CLUSTRIX_JOB_ID="${JOB_ID:-}"');
    expect(() => renderJobScript(spec('sge', { jobName: 'my job' }))).toThrow(
      new TypeError('jobName cannot be written in an SGE #$ directive (no blanks, quotes, backslashes, backquotes or $), got "my job"'),
    );
    expect(() => renderJobScript(spec('sge', {}, { queue: "o'q" }))).toThrow(TypeError);
  });

  test('ssh: no directives; the exit status is kept beside the logs and the job id is host:pid', () => {
    const script = renderJobScript(spec('ssh'));
    expect(script).not.toMatch(/^#(SBATCH|PBS|\$) /m);
    expect(script).toContain(`clustrix_exit_file='/home/o'\\''brien/my "jobs" $HOME/%j dir/a.exit'`);
    expect(script).toContain(`trap 'echo "$?" > "$clustrix_exit_file"' EXIT`);
    expect(script).toContain(`export CLUSTRIX_JOB_ID='host '\\''one'\\'':'"$$"`);
    expect(script).not.toContain('exec "$clustrix_node"');
  });

  test('setup lines are inserted verbatim, in order, after the exports and before the node check', () => {
    const script = renderJobScript(spec('slurm', { setup: ['module load a', 'if true; then\n  echo "multi-line ok"\nfi', 'export X=$HOME'] }));
    const at = (s: string): number => script.indexOf(s);
    expect(at('module load a')).toBeGreaterThan(at('export CLUSTRIX_AGENT_ID='));
    expect(at('if true; then\n  echo "multi-line ok"\nfi')).toBeGreaterThan(at('module load a'));
    expect(at('export X=$HOME')).toBeGreaterThan(at('fi\n'));
    expect(at('clustrix_node=')).toBeGreaterThan(at('export X=$HOME'));
  });

  test('several nodes (slurm): one id variable per rank, srun starts one agent per node', () => {
    const script = renderJobScript(spec('slurm', { agentIds: ['a-0', "b '1'", 'c $2'] }, { nodes: 3, cpusPerTask: 2 }));
    bashSyntaxOk(script);
    expect(script).toContain("export CLUSTRIX_AGENT_ID_0=a-0\nexport CLUSTRIX_AGENT_ID_1='b '\\''1'\\'''\nexport CLUSTRIX_AGENT_ID_2='c $2'\n");
    expect(script).not.toMatch(/^export CLUSTRIX_AGENT_ID=/m);
    expect(script).toContain('exec srun --nodes=3 --ntasks=3 --ntasks-per-node=1 --cpus-per-task=2 bash -c ');
    expect(directives(script, '#SBATCH')).toContain('--nodes=3');
  });

  test('optional exports appear only when set; slots from the request win over cpusPerTask', () => {
    const bare = renderJobScript(spec('slurm'));
    expect(bare).not.toContain('CLUSTRIX_SLOTS');
    expect(bare).not.toContain('CLUSTRIX_WALLTIME_END');
    expect(bare).not.toContain('CLUSTRIX_CERT_FINGERPRINT');
    const full = renderJobScript(spec('slurm', { slots: 3, certFingerprint: 'AB:CD' }, { cpusPerTask: 8 }));
    expect(full).toContain('export CLUSTRIX_SLOTS=3\n');
    expect(full).toContain('export CLUSTRIX_CERT_FINGERPRINT=AB:CD\n');
  });

  test.each<[string, Partial<JobScriptSpec>, ResourceOptions, string]>([
    ['newline in a path', { stdoutPath: '/a\n#SBATCH --x' }, {}, 'stdoutPath must be a single line (no newline or carriage return), got "/a\\n#SBATCH --x"'],
    ['newline in an agent id', { agentIds: ['a\nb'] }, {}, 'agentIds[0] must be a single line (no newline or carriage return), got "a\\nb"'],
    ['NUL in a setup line', { setup: ['ok', 'a\0b'] }, {}, 'setup[1] must not contain a NUL character, got "a\\u0000b"'],
    ['empty node', { node: '' }, {}, 'node must be a non-empty string, got ""'],
    ['ids and nodes disagree', { agentIds: ['a', 'b'] }, {}, 'agentIds must hold one id per node (1), got 2'],
    ['zero slots', { slots: 0 }, {}, 'slots must be a positive integer, got 0'],
  ])('rejects %s', (_, overrides, resources, message) => {
    expect(() => renderJobScript(spec('slurm', overrides, resources))).toThrow(new TypeError(message));
  });
});
