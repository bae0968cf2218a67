import { existsSync } from 'node:fs';
import { Cluster } from '../../coordinator/api/cluster.js';
import { findConfigFile } from '../../coordinator/config/index.js';
import { ClustrixError } from '../../coordinator/errors/errors.js';
import type { ClusterOptions } from '../../coordinator/config/options.js';
import { loadSsh } from '../../coordinator/backends/peer-deps.js';
import type { SshShell } from '../../coordinator/backends/ssh/index.js';
import { parseArgs, stringFlag } from '../args.js';
import { Exit, type Command } from '../command.js';
import { cliWords, green, json, out, red } from '../output.js';
import { defaultProfile, profileOptions } from '../profiles.js';

interface Step {
  step: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

const SCHEDULER_COMMANDS: Record<string, string[]> = { slurm: ['sbatch', 'squeue', 'scancel', 'sacct'], pbs: ['qsub', 'qstat', 'qdel'], sge: ['qsub', 'qstat', 'qdel'] };

export const check: Command = {
  name: 'check',
  summary: 'test a profile step by step: SSH, host key, scheduler, node, one agent round trip',
  help: `Usage: clustrix check [profile] [--json] [--config <file>]

Checks, in order, and prints each step with ✓ or ✗ (and how to fix each ✗):
  the profile is valid; SSH reaches the login node; its host key is known; the scheduler's
  commands are there (sbatch/squeue/scancel, qsub/qstat/qdel); node runs there; one agent
  starts, connects back and runs a task. Exit code 1 if any step fails.`,
  async run(argv) {
    const args = parseArgs(argv, { valued: ['config'], boolean: ['json', 'help'] });
    const config = stringFlag(args, 'config');
    const profile = args.positionals[0] ?? defaultProfile(config);
    const steps: Step[] = [];
    const report = (s: Step): void => {
      steps.push(s);
      if (!args.flags.has('json')) out(`${s.ok ? green('✓') : red('✗')} ${s.step}: ${s.detail}${s.fix ? `\n    fix: ${s.fix}` : ''}`);
    };
    let options: ClusterOptions;
    try {
      options = profileOptions(profile, config);
      report({ step: 'profile', ok: true, detail: `'${profile}' (${options.backend ?? 'local'})` });
    } catch (err) {
      report({ step: 'profile', ok: false, detail: cliWords((err as Error).message.split('\n')[0] ?? ''), fix: profileFix(config, (err as ClustrixError).hint) });
      return finish(steps, args.flags.has('json'));
    }
    // Each pool of a profile with several is checked as a profile of its own would be.
    const pools = options.pools ? Object.entries(options.pools) : [[null, {}] as const];
    for (const [, pool] of pools) {
      const merged = { ...options, ...pool };
      const backend = merged.backend ?? 'local';
      if (merged.ssh && backend !== 'local' && backend !== 'kubernetes') {
        const ok = await checkSsh(merged, backend, report);
        if (!ok) return finish(steps, args.flags.has('json'));
      }
    }
    const started = Date.now();
    try {
      const oneEach = options.pools
        ? { ...options, pools: Object.fromEntries(Object.entries(options.pools).map(([n, p]) => [n, { ...p, agents: 1, adapt: undefined }])) }
        : { ...options, agents: 1, adapt: undefined };
      const cluster = await Cluster.start(oneEach);
      try {
        for (const [name] of pools) {
          const version = await cluster.call(() => process.version, [], name === null ? {} : { pool: name });
          const which = name === null ? 'one agent' : `pool ${name}: one agent`;
          report({ step: 'round trip', ok: true, detail: `${which} started, connected back and ran a task (node ${version}) in ${Date.now() - started} ms` });
        }
      } finally {
        await cluster.close();
      }
    } catch (err) {
      report({ step: 'round trip', ok: false, detail: (err as Error).message.split('\n').slice(0, 6).join(' / '), fix: (err as ClustrixError).hint ?? 'run with CLUSTRIX_LOG=debug for details' });
    }
    return finish(steps, args.flags.has('json'));
  },
};

async function checkSsh(options: ClusterOptions, backend: string, report: (s: Step) => void): Promise<boolean> {
  const ssh = options.ssh!;
  const where = `${ssh.user ? `${ssh.user}@` : ''}${ssh.host}:${ssh.port ?? 22}`;
  let shell: SshShell;
  try {
    // ssh2 is an optional peer dependency: missing, it is reported as this step's failure.
    shell = await (await loadSsh(`backend '${backend}'`)).SshShell.connect(ssh);
  } catch (err) {
    const e = err as ClustrixError;
    const hostKey = e.code?.startsWith('SSH_HOST_KEY');
    if (!hostKey) report({ step: 'ssh', ok: false, detail: `${where}: ${e.message.split('\n')[0]}`, fix: e.hint ?? `check host and port; try \`ssh -p ${ssh.port ?? 22} ${where.split(':')[0]}\`` });
    else {
      report({ step: 'ssh', ok: true, detail: `${where} answers` });
      report({ step: 'host key', ok: false, detail: e.message.split('\n')[0] ?? '', fix: e.hint ?? `ssh ${where.split(':')[0]} once and accept its key, or set knownHostsFile` });
    }
    return false;
  }
  try {
    report({ step: 'ssh', ok: true, detail: `${where} (${shell.description})` });
    report({ step: 'host key', ok: true, detail: 'known and matching' });
    const bin = options.binDir ? `PATH=${quote(options.binDir)}:$PATH; ` : '';
    const wanted = SCHEDULER_COMMANDS[backend] ?? [];
    if (wanted.length > 0) {
      const r = await shell.exec(`${bin}for c in ${wanted.join(' ')}; do command -v "$c" >/dev/null || echo "$c"; done`);
      const missing = r.stdout.split(/\s+/).filter(Boolean);
      if (missing.length === 0) report({ step: 'scheduler', ok: true, detail: `${wanted.join(', ')} found` });
      else report({ step: 'scheduler', ok: false, detail: `missing on the login node: ${missing.join(', ')}`, fix: 'set binDir in the profile to the directory holding them, or load their module in `setup`' });
    }
    const node = options.node ?? 'node';
    const r = await shell.exec(`${bin}${quote(node)} --version`);
    if (r.code === 0) report({ step: 'node', ok: true, detail: `${node} ${r.stdout.trim()} on the login node` });
    else report({ step: 'node', ok: false, detail: `${node} did not run (${r.stderr.trim().split('\n')[0] ?? ''})`, fix: 'install Node >= 20 there, set `node:` to its path, or `uploadNode: true`' });
    return true;
  } finally {
    await shell.close();
  }
}

/**
 * What to do about a profile that did not load: write a config only when there is none; a file
 * that exists has a mistake, which the message names by file and line.
 */
function profileFix(configFile: string | undefined, hint: string | undefined): string {
  const file = configFile ?? findConfigFile();
  if (file === null || !existsSync(file)) return '`clustrix init` writes a commented config with a profile per backend to start from, or pass --config <file>';
  return cliWords(hint ?? `correct ${file} where the message above points`);
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function finish(steps: Step[], asJson: boolean): number {
  const ok = steps.every((s) => s.ok);
  if (asJson) json({ ok, steps });
  return ok ? Exit.ok : Exit.failed;
}
