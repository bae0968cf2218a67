/**
 * The part of the SLURM, PBS and SGE launchers that does not depend on the scheduler: options,
 * bootstrap, one job script per job (or per job array), all-or-nothing submission, job records for
 * logs and close(). Each scheduler file supplies its dialect and four commands (submit, cancel,
 * status; logs are files).
 *
 * A launch of several jobs is one job array (job-array.ts), or several when it holds more jobs
 * than `maxArraySize`; each element is reported as a job of its own (`123_4`, `123.5`,
 * `123[4].server`), so the pool cancels, drains and watches elements one by one.
 */
import { createHash } from 'node:crypto';
import { ClusterClosedError } from '../../../errors/errors.js';
import { showOnly } from '../../../util/show-only.js';
import type { JobLogs, JobState, JobStatus, LaunchedJob, Launcher, LaunchRequest } from '../launcher.js';
import type { ExecResult, RemoteShell } from '../remote-shell.js';
import { prepareJobDirectory, readJobLogs, resolveRemotePath, writeTokenFile, type JobDirectory } from './bootstrap.js';
import { JobRejectedError, SchedulerCommandError } from './errors.js';
import { elementJobIds, elementPath, firstTaskId } from './job-array.js';
import { renderJobScript, type SchedulerDialect } from './job-script.js';
import { checkShell, COMMON_KEYS, compileCommonOptions, compileMaxArraySize, safeName, type CommonLauncherOptions, type CompiledCommonOptions } from './options.js';
import { compileResources, type CompiledResources, type ResourceOptions, type SchedulerKind } from './resources.js';
import { shellQuote } from './shell-quote.js';
import { checkKnownKeys, isPlainObject, line, show } from './validate.js';

export interface BatchLauncherOptions extends CommonLauncherOptions {
  /** Where the scheduler's commands run: an SshShell to the login node, or a LocalShell on it. Not closed by the launcher. */
  shell: RemoteShell;
  /** What each job asks for. @default {} (the scheduler's defaults, one node) */
  resources?: ResourceOptions;
  /**
   * Directory holding the scheduler's commands when the login shell's PATH lacks them, e.g.
   * '/opt/slurm/bin' or '/opt/slurm-torque/usr/bin'. Empty: found on PATH.
   * @default ''
   */
  binDir?: string;
  /**
   * Most elements in one job array: a launch of more jobs is split into several arrays; 1 submits
   * one job per agent (no arrays).
   * @default SLURM: MaxArraySize of `scontrol show config` (0 there: 1); PBS and SGE: 1000
   */
  maxArraySize?: number;
}

export interface CompiledBatchOptions extends CompiledCommonOptions {
  shell: RemoteShell;
  resources: CompiledResources;
  binDir: string;
  /** undefined: the scheduler's, asked once (defaultMaxArraySize). */
  maxArraySize: number | undefined;
}

export function compileBatchOptions(options: BatchLauncherOptions, kind: SchedulerKind, extraKeys: readonly string[]): CompiledBatchOptions {
  if (!isPlainObject(options)) throw new TypeError(`options must be an object, got ${show(options)}`);
  checkKnownKeys(options, [...COMMON_KEYS, 'shell', 'resources', 'binDir', 'maxArraySize', ...extraKeys], '');
  return {
    ...compileCommonOptions(options),
    shell: checkShell(options.shell, 'shell'),
    resources: compileResources(options.resources, kind),
    binDir: options.binDir === undefined || options.binDir === '' ? '' : line(options.binDir, 'binDir').replace(/\/+$/, ''),
    maxArraySize: compileMaxArraySize(options.maxArraySize),
  };
}

/** What a scheduler file needs to submit one job, or one job array. */
export interface PreparedJob {
  name: string;
  agentIds: readonly string[];
  scriptPath: string;
  /** The job's files; an array element writes elementPath(path, its task id) instead. */
  stdoutPath: string;
  stderrPath: string;
  /** The script text (SGE pipes it to qsub). */
  script: string;
  jobDir: string;
  /** Set for a job array: submit() resolves to the array's id, elements follow from it. */
  array?: { count: number } | undefined;
}

interface JobRecord {
  stdoutPath: string;
  stderrPath: string;
  cancelRequested: boolean;
  ended: boolean;
}

const ENDED: ReadonlySet<JobState> = new Set(['completed', 'failed', 'cancelled']);

export abstract class BatchLauncher implements Launcher {
  static {
    // It keeps the token's digest (to notice a new token).
    showOnly(this.prototype, 'BatchLauncher', (l) => ({ kind: l.kind, jobs: l.jobs.size }));
  }

  abstract readonly kind: SchedulerKind;
  /**
   * Whether the scheduler itself says "cancelled" for a cancelled job. When it does not (PBS and
   * SGE report a killed job as ended or failed), a job this launcher cancelled is reported as
   * 'cancelled' once the scheduler says it ended.
   */
  protected abstract readonly reportsCancellation: boolean;
  protected readonly options: CompiledBatchOptions;
  private readonly jobs = new Map<string, JobRecord>();
  private readonly usedNames = new Set<string>();
  private directory: Promise<JobDirectory> | undefined;
  private tokenDigest: string | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private arrayLimit: Promise<number> | undefined;

  protected constructor(options: CompiledBatchOptions) {
    this.options = options;
  }

  protected abstract dialect(): SchedulerDialect;
  /** Submits the written script; resolves to the job id (an array's: `123`, `123[].server`) or throws JobRejectedError. */
  protected abstract submit(job: PreparedJob): Promise<string>;
  protected abstract cancelJobs(jobIds: readonly string[]): Promise<void>;
  /** Statuses of the jobs the scheduler still knows; missing ids are reported 'unknown'. */
  protected abstract queryStatus(jobIds: readonly string[]): Promise<JobStatus[]>;

  async launch(request: LaunchRequest): Promise<LaunchedJob[]> {
    if (this.closed) throw new ClusterClosedError(`the ${this.kind} launcher is closed`);
    checkLaunchRequest(request);
    const dir = await this.jobDirectory();
    await this.ensureToken(dir, request.connect.token);
    const perJob = this.options.resources.nodes;
    const groups: (readonly string[])[] = [];
    for (let i = 0; i < request.agentIds.length; i += perJob) groups.push(request.agentIds.slice(i, i + perJob));
    const limit = groups.length > 1 ? await this.maxArraySize() : 1;
    // One submission per batch: up to `limit` jobs of the same size (an array's elements are alike;
    // a short last job, e.g. 3 agents of 2-node jobs, goes alone).
    const batches: (readonly string[])[][] = [];
    for (const group of groups) {
      const last = batches[batches.length - 1];
      if (last && last.length < limit && last[0]?.length === group.length) last.push(group);
      else batches.push([group]);
    }
    const launched: LaunchedJob[] = [];
    try {
      for (const batch of batches) {
        const job = this.prepare(dir, batch, request);
        await this.options.shell.writeFile(job.scriptPath, job.script, 0o700);
        launched.push(...this.record(job, batch, await this.submit(job)));
      }
    } catch (error) {
      // All or nothing: the caller gets no ids for jobs submitted before the failure, so their
      // agents would connect to a pool that never asked for them.
      if (launched.length > 0) await this.cancel(launched.map((j) => j.jobId)).catch(() => undefined);
      throw error;
    }
    return launched;
  }

  async cancel(jobIds: readonly string[]): Promise<void> {
    if (jobIds.length === 0) return;
    await this.cancelJobs(jobIds);
    for (const id of jobIds) {
      const record = this.jobs.get(id);
      if (record) record.cancelRequested = true;
    }
  }

  async status(jobIds: readonly string[]): Promise<JobStatus[]> {
    if (jobIds.length === 0) return [];
    const found = new Map((await this.queryStatus(jobIds)).map((s) => [s.jobId, s]));
    return jobIds.map((id) => this.refine(found.get(id) ?? { jobId: id, state: 'unknown', reason: `${this.kind} does not know this job (any more)` }));
  }

  /** Reads the tail of the job's stdout and stderr files; empty for a job this launcher did not start. */
  async logs(jobId: string, lines: number): Promise<JobLogs> {
    const record = this.jobs.get(jobId);
    return readJobLogs(record && { shell: this.options.shell, stdoutPath: record.stdoutPath, stderrPath: record.stderrPath }, lines);
  }

  /** Cancels every job this launcher started that is not known to have ended. The shell stays open (the caller owns it). */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      const live = [...this.jobs.entries()].filter(([, r]) => !r.ended && !r.cancelRequested).map(([id]) => id);
      await this.cancel(live);
    })().catch((error: unknown) => {
      this.closing = undefined; // let a later close() try again
      throw error;
    });
    return this.closing;
  }

  /** The command `name`, from binDir when set, quoted as a shell word. */
  protected command(name: string): string {
    return shellQuote(this.options.binDir ? `${this.options.binDir}/${name}` : name);
  }

  protected run(command: string, stdin?: string): Promise<ExecResult> {
    return this.options.shell.exec(command, { stdin, timeoutMs: this.options.commandTimeoutMs });
  }

  protected rejected(job: PreparedJob, result: ExecResult, hint: string): JobRejectedError {
    const said = [result.stderr.trim(), result.stdout.trim()].filter(Boolean).join('\n');
    return new JobRejectedError({ scheduler: this.kind, stderr: said, exitCode: result.code, scriptPath: job.scriptPath, hint });
  }

  /** Throws when a command could not run at all (not found, not executable, killed). */
  protected checkRan(command: string, result: ExecResult, what: string): void {
    if (result.code === null || result.code === 126 || result.code === 127) {
      throw new SchedulerCommandError(`${what} could not run on ${this.options.shell.description}`, { command, stderr: result.stderr, exitCode: result.code });
    }
  }

  private refine(status: JobStatus): JobStatus {
    const record = this.jobs.get(status.jobId);
    let result = status;
    const ambiguous = status.state === 'unknown' || (!this.reportsCancellation && (status.state === 'completed' || status.state === 'failed'));
    if (record?.cancelRequested && ambiguous) {
      result = { ...status, state: 'cancelled', reason: `cancelled by clustrix${status.reason ? ` (${this.kind}: ${status.reason})` : ''}` };
    }
    if (record && ENDED.has(result.state)) record.ended = true;
    return result;
  }

  /** The largest job array this scheduler takes; the one in options, else asked once. */
  protected defaultMaxArraySize(): Promise<number> {
    return Promise.resolve(1000);
  }

  private maxArraySize(): Promise<number> {
    if (this.options.maxArraySize !== undefined) return Promise.resolve(this.options.maxArraySize);
    this.arrayLimit ??= this.defaultMaxArraySize().catch(() => 1000);
    return this.arrayLimit;
  }

  /** Job records and LaunchedJobs for what one submission started: a job, or each element of an array. */
  private record(job: PreparedJob, batch: readonly (readonly string[])[], submitted: string): LaunchedJob[] {
    const track = (jobId: string, stdoutPath: string, stderrPath: string, agentIds: readonly string[]): LaunchedJob => {
      this.jobs.set(jobId, { stdoutPath, stderrPath, cancelRequested: false, ended: false });
      return { jobId, agentIds };
    };
    if (!job.array) return [track(submitted, job.stdoutPath, job.stderrPath, batch[0] ?? [])];
    const first = firstTaskId(this.kind);
    const elements = elementJobIds(this.kind, submitted, batch.length);
    const files = (k: number): [string, string] => [elementPath(job.stdoutPath, first + k), elementPath(job.stderrPath, first + k)];
    // A scheduler that keeps no element ids (see elementJobIds): the array is one job of all its agents.
    if (elements.length !== batch.length) return [track(submitted, ...files(0), batch.flat())];
    return elements.map((id, k) => track(id, ...files(k), batch[k] ?? []));
  }

  private jobDirectory(): Promise<JobDirectory> {
    this.directory ??= prepareJobDirectory(this.options.shell, {
      remoteDir: this.options.remoteDir,
      clusterId: this.options.clusterId,
      ensureAgent: this.options.ensureAgent,
      timeoutMs: this.options.commandTimeoutMs,
    }).catch((error: unknown) => {
      this.directory = undefined; // a transient failure must not stick
      throw error;
    });
    return this.directory;
  }

  private async ensureToken(dir: JobDirectory, token: string): Promise<void> {
    // Only a digest is kept to notice a changed token; the token itself goes to the 0600 file only.
    const digest = createHash('sha256').update(token).digest('hex');
    if (digest === this.tokenDigest) return;
    await writeTokenFile(this.options.shell, dir.tokenFile, token);
    this.tokenDigest = digest;
  }

  /** One job script for `batch` (one id list per job): a plain job for one, a job array for several. */
  private prepare(dir: JobDirectory, batch: readonly (readonly string[])[], request: LaunchRequest): PreparedJob {
    const agentIds = batch.flat();
    const array = batch.length > 1 ? { count: batch.length } : undefined;
    const name = this.uniqueName(agentIds[0] ?? 'agent');
    const base = `${dir.jobDir}/${name}`;
    const job = { name, agentIds, scriptPath: `${base}.sh`, stdoutPath: `${base}.out`, stderrPath: `${base}.err`, jobDir: dir.jobDir, array };
    const script = renderJobScript({
      scheduler: this.dialect(),
      resources: { ...this.options.resources, nodes: batch[0]?.length ?? 1 },
      jobName: name,
      stdoutPath: job.stdoutPath,
      stderrPath: job.stderrPath,
      workDir: this.options.workDir === undefined ? dir.jobDir : resolveRemotePath(this.options.workDir, dir.home),
      setup: this.options.setup,
      node: this.options.node,
      agentPath: dir.agentPath,
      tokenFile: dir.tokenFile,
      url: request.connect.url,
      certFingerprint: request.connect.certFingerprint,
      agentIds,
      array,
      slots: request.slots,
    });
    return { ...job, script };
  }

  /** `<jobName>-<first agent id>`, made file-name safe and unique within this launcher. */
  private uniqueName(firstAgentId: string): string {
    const base = `${this.options.jobName}-${safeName(firstAgentId)}`;
    let name = base;
    for (let n = 2; this.usedNames.has(name); n++) name = `${base}-${n}`;
    this.usedNames.add(name);
    return name;
  }
}

export function checkLaunchRequest(request: LaunchRequest): void {
  if (!isPlainObject(request) || !isPlainObject(request.connect)) throw new TypeError(`request must be { connect, agentIds, slots? }, got ${show(request)}`);
  line(request.connect.url, 'request.connect.url');
  if (!/^wss?:\/\//.test(request.connect.url)) throw new TypeError(`request.connect.url must be a ws:// or wss:// address, got ${show(request.connect.url)}`);
  if (typeof request.connect.token !== 'string' || request.connect.token.trim() === '') {
    throw new TypeError('request.connect.token must be a non-empty string');
  }
  if (/[\0\n\r]/.test(request.connect.token)) throw new TypeError('request.connect.token must be a single line');
  if (!Array.isArray(request.agentIds) || request.agentIds.length === 0) {
    throw new TypeError(`request.agentIds must be a non-empty array of strings, got ${show(request.agentIds)}`);
  }
  request.agentIds.forEach((id, i) => line(id, `request.agentIds[${i}]`));
  if (new Set(request.agentIds).size !== request.agentIds.length) throw new TypeError('request.agentIds must not repeat an id');
  if (request.slots !== undefined && (!Number.isSafeInteger(request.slots) || request.slots < 1)) {
    throw new TypeError(`request.slots must be a positive integer, got ${show(request.slots)}`);
  }
}
