/**
 * Sun/Son of Grid Engine: the script piped to `qsub -terse` on stdin, `qstat -xml` for status,
 * `qstat -j` for why a job sits in an error state, `qacct -j` once it ended, `qdel` to cancel.
 * One agent per job; several CPUs come from a parallel environment (`-pe smp N`). A launch of
 * several jobs is one `-t 1-n` array per `maxArraySize` jobs; a task is `<job>.<task>` (qstat
 * lists it so, `qdel 123.4` cancels it alone, `qacct -j 123 -t 4` has its end).
 *
 * stdout/stderr paths go on the qsub command line, shell-quoted, because SGE's `#$` directive
 * parser strips quote characters. (SGE still expands $HOME, $USER, $JOB_ID, $JOB_NAME, $HOSTNAME
 * and $TASK_ID in them, so remoteDir should not hold those literally.)
 */
import type { JobStatus } from '../launcher.js';
import { compileBatchOptions, BatchLauncher, type BatchLauncherOptions, type PreparedJob } from './batch-launcher.js';
import { SchedulerCommandError } from './errors.js';
import { assertSgeWord, type SchedulerDialect } from './job-script.js';
import { elementPath } from './job-array.js';
import { parseQacct, parseSgeErrorReason, parseSgeQstatXml, parseSgeSubmitted } from './parsers.js';
import { shellQuote } from './shell-quote.js';
import { boolean, line } from './validate.js';

export interface SgeLauncherOptions extends BatchLauncherOptions {
  /** Parallel environment for `resources.cpusPerTask` slots on one host (`qconf -spl` lists them). @default 'smp' */
  parallelEnvironment?: string;
  /** Resource that carries `resources.memory`, requested per slot. @default 'h_vmem' */
  memoryResource?: string;
  /** Consumable that carries `resources.gpus`. @default 'gpu' */
  gpuResource?: string;
  /**
   * `qsub -w e`: reject at submission a job that no queue could ever run (more slots than any host
   * has, an unknown queue), instead of leaving it waiting forever.
   * @default true
   */
  rejectImpossible?: boolean;
}

export class SgeLauncher extends BatchLauncher {
  readonly kind = 'sge';
  // qacct reports a qdel'd job as `failed 100` with exit 137, like any killed job
  protected readonly reportsCancellation = false;
  private readonly sge: { parallelEnvironment: string; memoryResource: string; gpuResource: string; rejectImpossible: boolean };

  constructor(options: SgeLauncherOptions) {
    super(compileBatchOptions(options, 'sge', ['parallelEnvironment', 'memoryResource', 'gpuResource', 'rejectImpossible']));
    this.sge = {
      parallelEnvironment: options.parallelEnvironment === undefined ? 'smp' : line(options.parallelEnvironment, 'parallelEnvironment'),
      memoryResource: options.memoryResource === undefined ? 'h_vmem' : line(options.memoryResource, 'memoryResource'),
      gpuResource: options.gpuResource === undefined ? 'gpu' : line(options.gpuResource, 'gpuResource'),
      rejectImpossible: boolean(options.rejectImpossible, 'rejectImpossible', true),
    };
    // fail at construction, not at the first launch, for values an #$ line cannot hold
    assertSgeWord(this.sge.parallelEnvironment, 'parallelEnvironment');
    assertSgeWord(this.sge.memoryResource, 'memoryResource');
    assertSgeWord(this.sge.gpuResource, 'gpuResource');
    if (this.options.resources.queue !== undefined) assertSgeWord(this.options.resources.queue, 'resources.queue');
    if (this.options.resources.account !== undefined) assertSgeWord(this.options.resources.account, 'resources.account');
  }

  protected dialect(): SchedulerDialect {
    const { parallelEnvironment, memoryResource, gpuResource } = this.sge;
    return { kind: 'sge', parallelEnvironment, memoryResource, gpuResource };
  }

  protected async submit(job: PreparedJob): Promise<string> {
    const verify = this.sge.rejectImpossible ? ' -w e' : '';
    // SGE expands $TASK_ID in these paths: each task of an array writes its own files.
    const file = (path: string): string => shellQuote(job.array ? elementPath(path, '$TASK_ID') : path);
    const command = `${this.command('qsub')} -terse${verify} -o ${file(job.stdoutPath)} -e ${file(job.stderrPath)}`;
    const result = await this.run(command, job.script);
    this.checkRan(command, result, 'qsub'); // not found is a set-up problem, not a rejection
    if (result.code !== 0) throw this.rejected(job, result, sgeHint(result.stderr, job));
    const id = parseSgeSubmitted(result.stdout);
    if (id === undefined) throw new SchedulerCommandError('qsub printed no job id', { command, stderr: result.stdout + result.stderr, exitCode: result.code });
    return id;
  }

  protected async cancelJobs(jobIds: readonly string[]): Promise<void> {
    const command = `${this.command('qdel')} ${jobIds.map(shellQuote).join(' ')}`;
    const result = await this.run(command);
    this.checkRan(command, result, 'qdel');
    const output = `${result.stdout}\n${result.stderr}`;
    // `denied: job "7" does not exist` for ids SGE no longer knows: fine
    const failures = output.split('\n').filter((l) => /denied|error/i.test(l) && !/does not exist/i.test(l));
    if (result.code !== 0 && failures.length > 0) {
      throw new SchedulerCommandError('qdel failed', { command, stderr: output, exitCode: result.code });
    }
  }

  protected async queryStatus(jobIds: readonly string[]): Promise<JobStatus[]> {
    const qstat = `${this.command('qstat')} -xml`;
    const listed = await this.run(qstat);
    if (listed.code !== 0) throw new SchedulerCommandError('qstat failed', { command: qstat, stderr: listed.stderr, exitCode: listed.code });
    const found = new Map<string, JobStatus>();
    for (const s of parseSgeQstatXml(listed.stdout)) if (jobIds.includes(s.jobId)) found.set(s.jobId, s);

    for (const s of found.values()) {
      if (s.state !== 'failed') continue;
      // Eqw: the reason is only in `qstat -j` (of the whole array, for a task); worth one more call since the pool will show it
      const why = parseSgeErrorReason((await this.run(`${this.command('qstat')} -j ${shellQuote(jobNumber(s.jobId))}`)).stdout);
      if (why) s.reason = `${s.reason ?? 'error state'}: ${why}`;
    }
    for (const id of jobIds.filter((j) => !found.has(j))) {
      // ended: accounting is written a moment after the job leaves qstat (flush_time), so a miss is not final
      const task = /\.(\d+)$/.exec(id)?.[1];
      const result = await this.run(`${this.command('qacct')} -j ${shellQuote(jobNumber(id))}${task === undefined ? '' : ` -t ${task}`}`);
      const status = result.code === 0 ? parseQacct(result.stdout, id) : undefined;
      found.set(id, status ?? { jobId: id, state: 'unknown', reason: 'not in qstat, not yet in qacct' });
    }
    return [...found.values()];
  }
}

/** `123` of a job `123` or an array task `123.4`. */
function jobNumber(id: string): string {
  return id.replace(/\.\d+$/, '');
}

export function sgeHint(stderr: string, job: PreparedJob): string {
  if (/no suitable queues/i.test(stderr)) {
    return 'no queue can ever run this job: lower resources.cpusPerTask (slots), memory or gpus, or check parallelEnvironment (`qconf -spl`, `qstat -f`)';
  }
  if (/unknown queue/i.test(stderr)) return 'set resources.queue to one `qconf -sql` lists, or leave it unset';
  if (/parallel environment/i.test(stderr)) return 'set parallelEnvironment to one `qconf -spl` lists';
  return `submit the script by hand to see what SGE says: qsub ${shellQuote(job.scriptPath)}`;
}
