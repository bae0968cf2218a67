/**
 * PBS (Torque, PBS Pro, or Debian's slurm-wlm-torque wrappers): `qsub` a script file, `qstat -f`
 * for status, `qdel` to cancel. One agent per job. A launch of several jobs is one array per
 * `maxArraySize` jobs (`-t 0-(n-1)` Torque, `-J 0-(n-1)` PBS Pro), whose elements are
 * `123[4].server`. Debian's slurm-torque wrappers take both flags (as sbatch --array) but answer
 * with a bare SLURM id and cannot address an element (their qdel cancels the whole array for
 * `123[4]`): there the array is tracked as one job of all its agents (see elementJobIds).
 *
 * qsub runs in the job directory and gets relative -o/-e names, because the slurm-torque wrapper
 * pastes its arguments unquoted into a shell command: an absolute path with a blank would break
 * it. The names are made of safe characters only; the script's #PBS -o/-e lines say the same.
 */
import type { JobStatus } from '../launcher.js';
import { compileBatchOptions, BatchLauncher, type BatchLauncherOptions, type PreparedJob } from './batch-launcher.js';
import { SchedulerCommandError } from './errors.js';
import type { SchedulerDialect } from './job-script.js';
import { parsePbsQstatFull, parseQsubJobId } from './parsers.js';
import { shellQuote } from './shell-quote.js';
import { oneOf } from './validate.js';

export interface PbsLauncherOptions extends BatchLauncherOptions {
  /**
   * How resources are written: `torque` (`-l nodes=1:ppn=N`, `-l mem=..`) or `pbspro`
   * (`-l select=1:ncpus=N:mem=..`).
   * @default 'torque'
   */
  resourceStyle?: 'torque' | 'pbspro';
}

export class PbsLauncher extends BatchLauncher {
  readonly kind = 'pbs';
  // qstat keeps a finished job as C without an exit status (the wrappers) or with one that a
  // kill and a failure share (Torque: 256 + signal), so a cancellation is not told apart.
  protected readonly reportsCancellation = false;
  private readonly resourceStyle: 'torque' | 'pbspro';

  constructor(options: PbsLauncherOptions) {
    super(compileBatchOptions(options, 'pbs', ['resourceStyle']));
    this.resourceStyle = oneOf(options.resourceStyle, ['torque', 'pbspro'], 'resourceStyle', 'torque');
  }

  protected dialect(): SchedulerDialect {
    return { kind: 'pbs', resourceStyle: this.resourceStyle };
  }

  protected async submit(job: PreparedJob): Promise<string> {
    const base = job.name; // [A-Za-z0-9._-] only: see jobName and safeName
    // -r n here too: the wrappers' sbatch ignores `#PBS -r n` in the script
    const command = `cd ${shellQuote(job.jobDir)} && ${this.command('qsub')} -r n -o ${base}.out -e ${base}.err ${base}.sh`;
    const result = await this.run(command);
    this.checkRan(command, result, 'qsub'); // not found is a set-up problem, not a rejection
    if (result.code !== 0) throw this.rejected(job, result, pbsHint(`${result.stderr}\n${result.stdout}`, job));
    const id = parseQsubJobId(result.stdout);
    if (id === undefined) throw new SchedulerCommandError('qsub printed no job id', { command, stderr: result.stdout + result.stderr, exitCode: result.code });
    return id;
  }

  protected async cancelJobs(jobIds: readonly string[]): Promise<void> {
    const command = `${this.command('qdel')} ${jobIds.map(shellQuote).join(' ')}`;
    const result = await this.run(command);
    this.checkRan(command, result, 'qdel');
    // Unknown ids: Torque says "Unknown Job Id", the wrapper says nothing; both are fine here.
    if (result.code !== 0 && result.stderr.trim() !== '' && !/unknown job|does not exist|invalid job/i.test(result.stderr)) {
      throw new SchedulerCommandError('qdel failed', { command, stderr: result.stderr, exitCode: result.code });
    }
  }

  protected async queryStatus(jobIds: readonly string[]): Promise<JobStatus[]> {
    // qstat -f prints the jobs it knows and exits non-zero if any id is unknown; -t shows array
    // elements (Torque, PBS Pro), and only they need it (the wrappers have no -t)
    const elements = jobIds.some((id) => id.includes('[')) ? ' -t' : '';
    const command = `${this.command('qstat')} -f${elements} ${jobIds.map(shellQuote).join(' ')}`;
    const result = await this.run(command);
    this.checkRan(command, result, 'qstat');
    return parsePbsQstatFull(result.stdout);
  }
}

export function pbsHint(output: string, job: PreparedJob): string {
  if (/More processors requested than permitted|node configuration is not available|exceeds (available|queue)|Insufficient amount of resource/i.test(output)) {
    return 'no node can hold one agent job: lower resources.cpusPerTask, memory or gpus (`pbsnodes -a` lists what the nodes have)';
  }
  if (/unknown queue|invalid partition/i.test(output)) return 'set resources.queue to one `qstat -Q` lists, or leave it unset for the default';
  if (/walltime|time limit/i.test(output)) return 'lower resources.time below the queue\'s limit (`qstat -Qf`)';
  return `submit the script by hand to see what PBS says: cd ${shellQuote(job.jobDir)} && qsub ${job.name}.sh`;
}
