/**
 * SLURM: `sbatch --parsable` a script file; status from `squeue`, then `scontrol show job` for a
 * job that ended recently (slurmctld keeps it for MinJobAge), then `sacct`; `scancel` to cancel.
 * A job of `resources.nodes` > 1 runs one agent per node through srun. A launch of several jobs is
 * one `--array` submission per `maxArraySize` jobs (default: slurmctld's MaxArraySize); elements
 * are `<id>_<task>` for squeue, scontrol and scancel alike.
 */
import type { JobStatus } from '../launcher.js';
import { compileBatchOptions, BatchLauncher, type BatchLauncherOptions, type PreparedJob } from './batch-launcher.js';
import { SchedulerCommandError } from './errors.js';
import type { SchedulerDialect } from './job-script.js';
import { parseSacct, parseSbatchParsable, parseScontrolJobs, parseScontrolMaxArraySize, parseSqueue } from './parsers.js';
import { shellQuote } from './shell-quote.js';
import { oneOf } from './validate.js';

export interface SlurmLauncherOptions extends BatchLauncherOptions {
  /**
   * Where `sacct` finds jobs that slurmctld has forgotten: `slurmdbd` (plain `sacct`), `jobcomp`
   * (`sacct -c`, the job-completion file, for clusters without an accounting daemon), `auto`
   * (the first, then the second), or `none`.
   * @default 'auto'
   */
  accounting?: 'auto' | 'slurmdbd' | 'jobcomp' | 'none';
}

export class SlurmLauncher extends BatchLauncher {
  readonly kind = 'slurm';
  protected readonly reportsCancellation = true;
  private readonly accounting: 'auto' | 'slurmdbd' | 'jobcomp' | 'none';

  constructor(options: SlurmLauncherOptions) {
    super(compileBatchOptions(options, 'slurm', ['accounting']));
    this.accounting = oneOf(options.accounting, ['auto', 'slurmdbd', 'jobcomp', 'none'], 'accounting', 'auto');
  }

  protected dialect(): SchedulerDialect {
    return { kind: 'slurm' };
  }

  protected async submit(job: PreparedJob): Promise<string> {
    const command = `${this.command('sbatch')} --parsable ${shellQuote(job.scriptPath)}`;
    const result = await this.run(command);
    this.checkRan(command, result, 'sbatch'); // not found is a set-up problem, not a rejection
    if (result.code !== 0) throw this.rejected(job, result, slurmHint(result.stderr, job.scriptPath));
    const id = parseSbatchParsable(result.stdout);
    if (id === undefined) throw new SchedulerCommandError('sbatch printed no job id', { command, stderr: result.stdout + result.stderr, exitCode: result.code });
    return id;
  }

  /** MaxArraySize of `scontrol show config` (0, arrays disabled there: 1); 1000 when it says none. */
  protected override async defaultMaxArraySize(): Promise<number> {
    const result = await this.run(`${this.command('scontrol')} show config`);
    const size = result.code === 0 ? parseScontrolMaxArraySize(result.stdout) : undefined;
    // MaxArraySize bounds the task index (0 to MaxArraySize - 1), so 0-based arrays hold that many.
    return size === undefined ? 1000 : Math.max(1, size);
  }

  protected async cancelJobs(jobIds: readonly string[]): Promise<void> {
    const command = `${this.command('scancel')} ${jobIds.map(shellQuote).join(' ')}`;
    const result = await this.run(command);
    // ids SLURM no longer knows are fine ("Unknown ids are ignored"); anything else is not
    if (result.code !== 0 && !/invalid job id/i.test(result.stderr)) {
      throw new SchedulerCommandError('scancel failed', { command, stderr: result.stderr, exitCode: result.code });
    }
  }

  protected async queryStatus(jobIds: readonly string[]): Promise<JobStatus[]> {
    const found = new Map<string, JobStatus>();
    const add = (list: JobStatus[]): void => list.forEach((s) => jobIds.includes(s.jobId) && !found.has(s.jobId) && found.set(s.jobId, s));

    // -r: pending array elements one per line, not collapsed into `123_[0-7]`
    const squeue = `${this.command('squeue')} -h -r -j ${shellQuote(jobIds.join(','))} -o '%i|%T|%r'`;
    const active = await this.run(squeue);
    // squeue fails with "Invalid job id" when it knows none of the ids: that is an answer, not an error
    if (active.code !== 0 && !/invalid job id/i.test(active.stderr)) {
      throw new SchedulerCommandError('squeue failed', { command: squeue, stderr: active.stderr, exitCode: active.code });
    }
    if (active.code === 0) add(parseSqueue(active.stdout));

    // Ended jobs: `scontrol show job` takes one id, so loop in one command; unknown ids only print to stderr.
    let missing = jobIds.filter((id) => !found.has(id));
    if (missing.length > 0) {
      const scontrol = missing.map((id) => `${this.command('scontrol')} show job -o ${shellQuote(id)}`).join('; ');
      add(parseScontrolJobs((await this.run(scontrol)).stdout));
    }
    missing = jobIds.filter((id) => !found.has(id));
    if (missing.length > 0 && this.accounting !== 'none') {
      const args = `-n -P -j ${shellQuote(missing.join(','))} -o JobID,State,ExitCode`;
      const dbd = `${this.command('sacct')} ${args}`;
      const jobcomp = `${this.command('sacct')} -c ${args}`;
      const command = this.accounting === 'slurmdbd' ? dbd : this.accounting === 'jobcomp' ? jobcomp : `${dbd} 2>/dev/null || ${jobcomp}`;
      add(parseSacct((await this.run(command)).stdout).filter((s) => s.state !== 'unknown'));
    }
    return [...found.values()];
  }
}

/** What to do about a rejection, from sbatch's words. */
export function slurmHint(stderr: string, scriptPath: string): string {
  if (/More processors requested than permitted|Requested node configuration is not available/i.test(stderr)) {
    return 'no node can hold one agent job: lower resources.cpusPerTask, memory, gpus or nodes (`sinfo -o "%P %D %c %m %G"` lists what the nodes have)';
  }
  if (/Memory specification can not be satisfied/i.test(stderr)) return 'lower resources.memory below the largest node\'s memory (`sinfo -o "%P %m"`)';
  if (/invalid partition/i.test(stderr)) return 'set resources.partition to one `sinfo -s` lists, or leave it unset for the default';
  if (/invalid account|invalid qos|association/i.test(stderr)) return 'check resources.account and resources.qos against `sacctmgr show assoc user=$USER`';
  if (/time limit/i.test(stderr)) return 'lower resources.time below the partition\'s limit (`sinfo -o "%P %l"`)';
  if (/unable to contact slurm controller|socket timed out|connection refused/i.test(stderr)) {
    return 'the SLURM controller did not answer: check `scontrol ping` on the login node and try again';
  }
  return `submit the script by hand to see what SLURM says: sbatch ${shellQuote(scriptPath)}`;
}
