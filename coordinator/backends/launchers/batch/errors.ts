import { ClustrixError } from '../../../errors/errors.js';

/**
 * The scheduler refused the job at submission (`sbatch`/`qsub` exited non-zero): an impossible
 * request (more CPUs or memory than any node has, with SLURM's EnforcePartLimits=ALL or SGE's
 * `-w e`), an unknown partition, queue or account, or a controller that did not answer.
 * Nothing was started for the agents of that job.
 */
export class JobRejectedError extends ClustrixError {
  /** `slurm`, `pbs` or `sge`. */
  readonly scheduler: string;
  /** What the submit command printed on stderr (and stdout, for wrappers that print errors there). */
  readonly stderr: string;
  readonly exitCode: number | null;
  /** The rendered job script on the cluster, to resubmit by hand when the message is not enough. */
  readonly scriptPath: string;

  constructor(details: { scheduler: string; stderr: string; exitCode: number | null; scriptPath: string; hint: string }) {
    const said = details.stderr.trim() || `(no output; exit code ${String(details.exitCode)})`;
    super('JOB_REJECTED', `${details.scheduler} rejected the agent job:\n${indent(said)}`, { hint: details.hint });
    this.name = 'JobRejectedError';
    this.scheduler = details.scheduler;
    this.stderr = details.stderr;
    this.exitCode = details.exitCode;
    this.scriptPath = details.scriptPath;
  }
}

/**
 * A command the launcher relies on failed in a way that is not an answer about a job: the
 * scheduler's command is missing, the controller is down, a directory cannot be made.
 */
export class SchedulerCommandError extends ClustrixError {
  /** The command line that was run (it never holds the cluster token). */
  readonly command: string;
  readonly stderr: string;
  readonly exitCode: number | null;

  constructor(message: string, details: { command: string; stderr: string; exitCode: number | null; hint?: string }) {
    const said = details.stderr.trim();
    super('SCHEDULER_COMMAND_FAILED', `${message}\n  command: ${details.command}\n  exit code: ${String(details.exitCode)}${said ? `\n${indent(said)}` : ''}`, {
      hint:
        details.hint ??
        (details.exitCode === 127
          ? 'the command was not found on the login node: set the launcher option binDir to the directory that holds it'
          : 'run the command by hand on the login node to see what is wrong'),
    });
    this.name = 'SchedulerCommandError';
    this.command = details.command;
    this.stderr = details.stderr;
    this.exitCode = details.exitCode;
  }
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
