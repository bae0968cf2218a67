import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { withoutSecrets } from '../../../protocol/secret-env.js';
import { JobStartError } from '../../errors/errors.js';
import type { JobLogs, JobStatus, Launcher, LaunchedJob, LaunchRequest } from './launcher.js';

export interface LocalLauncherOptions {
  /** The agent entry file (dist/bundle/agent.cjs). */
  agentEntry: string;
  /** Node binary. @default process.execPath */
  nodePath?: string;
  /** Extra environment for the agents. */
  env?: Record<string, string>;
  /** Grace after SIGTERM before SIGKILL, ms. @default 2000 */
  killGraceMs?: number;
  /** Where agents' own output goes (task output travels over the socket instead). */
  output?: (stream: 'stdout' | 'stderr', text: string) => void;
}

interface Child {
  proc: ChildProcess;
  agentIds: readonly string[];
  tail: { stdout: string[]; stderr: string[] };
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  cancelled: boolean;
  exited: Promise<void>;
}

const TAIL_LINES = 200;

/** The agent's descriptor the token arrives on (CLUSTRIX_TOKEN_FD): the first after stdio. */
const TOKEN_FD = 3;

/**
 * Agents as child processes of this program: the embedded default. Each child keeps a pipe on its
 * stdin; when this process dies (even by SIGKILL) the pipe closes and the agent exits at once.
 * The token goes through a pipe of its own, never the environment: a process's initial
 * environment stays readable in /proc/<pid>/environ (by its tasks too) whatever it deletes later.
 */
export class LocalLauncher implements Launcher {
  readonly kind = 'local';
  private readonly children = new Map<string, Child>();
  private readonly nodePath: string;
  private readonly killGraceMs: number;

  constructor(private readonly options: LocalLauncherOptions) {
    this.nodePath = options.nodePath ?? process.execPath;
    this.killGraceMs = options.killGraceMs ?? 2_000;
    process.once('exit', this.killAllNow);
  }

  async launch(request: LaunchRequest): Promise<LaunchedJob[]> {
    const started = request.agentIds.map((agentId) => {
      const env: NodeJS.ProcessEnv = {
        // This program's own secrets (an SSH passphrase, a service credential) are not the agents' business.
        ...withoutSecrets(process.env),
        ...this.options.env,
        CLUSTRIX_URL: request.connect.url,
        CLUSTRIX_TOKEN_FD: String(TOKEN_FD),
        CLUSTRIX_AGENT_ID: agentId,
        CLUSTRIX_EXIT_WITH_STDIN: '1',
      };
      if (request.slots !== undefined) env.CLUSTRIX_SLOTS = String(request.slots);
      if (request.connect.certFingerprint) env.CLUSTRIX_CERT_FINGERPRINT = request.connect.certFingerprint;
      const proc = spawn(this.nodePath, [this.options.agentEntry], { env, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
      const tokenPipe = proc.stdio[TOKEN_FD] as Writable | null;
      tokenPipe?.on('error', () => undefined); // an agent that failed to start; its exit says why
      tokenPipe?.end(request.connect.token);
      const child: Child = { proc, agentIds: [agentId], tail: { stdout: [], stderr: [] }, exit: null, cancelled: false, exited: Promise.resolve() };
      child.exited = new Promise((resolve) => {
        proc.once('exit', (code, signal) => {
          child.exit = { code, signal };
          resolve();
        });
        proc.once('error', (err) => {
          child.tail.stderr.push(`failed to start ${this.nodePath}: ${err.message}`);
          child.exit = { code: 127, signal: null };
          resolve();
        });
      });
      proc.stdin?.on('error', () => undefined);
      for (const stream of ['stdout', 'stderr'] as const) {
        proc[stream]?.setEncoding('utf8');
        proc[stream]?.on('data', (text: string) => {
          const lines = child.tail[stream];
          lines.push(...text.split('\n').filter((l) => l.length > 0));
          if (lines.length > TAIL_LINES) lines.splice(0, lines.length - TAIL_LINES);
          if (this.options.output) this.options.output(stream, text);
          else process[stream].write(text);
        });
      }
      const jobId = `pid-${proc.pid ?? 'failed'}-${agentId}`;
      this.children.set(jobId, child);
      // A process that cannot start at all (ENOENT, EACCES, EMFILE) reports it before 'spawn'.
      const spawned = new Promise<Error | null>((resolve) => {
        proc.once('spawn', () => resolve(null));
        proc.once('error', (err) => resolve(err));
      });
      return { job: { jobId, agentIds: [agentId] }, spawned };
    });
    const errors = await Promise.all(started.map((s) => s.spawned));
    const failed = errors.findIndex((e) => e !== null);
    if (failed < 0) return started.map((s) => s.job);
    // The pool learns of no job of a launch that threw: stop the ones that did start.
    await this.cancel(started.map((s) => s.job.jobId));
    for (const s of started) this.children.delete(s.job.jobId);
    const job = started[failed]!.job;
    throw new JobStartError(`could not start agent ${job.agentIds.join(', ')}: ${this.nodePath}: ${errors[failed]!.message}`, {
      jobId: job.jobId,
      state: 'not started',
      output: '',
      hint: 'check the node option (the node binary agents run with) and this machine\'s process and file limits',
    });
  }

  async cancel(jobIds: readonly string[]): Promise<void> {
    await Promise.all(jobIds.map((id) => this.stopChild(id)));
  }

  async status(jobIds: readonly string[]): Promise<JobStatus[]> {
    return jobIds.map((jobId) => {
      const child = this.children.get(jobId);
      if (!child) return { jobId, state: 'unknown' };
      if (!child.exit) return { jobId, state: 'running' };
      if (child.cancelled) return { jobId, state: 'cancelled' };
      const { code, signal } = child.exit;
      return code === 0
        ? { jobId, state: 'completed', exitCode: 0 }
        : { jobId, state: 'failed', exitCode: code ?? undefined, reason: signal ? `killed by ${signal}` : `exit code ${code}` };
    });
  }

  async logs(jobId: string, lines: number): Promise<JobLogs> {
    const child = this.children.get(jobId);
    if (!child) return { stdout: '', stderr: '' };
    return { stdout: child.tail.stdout.slice(-lines).join('\n'), stderr: child.tail.stderr.slice(-lines).join('\n') };
  }

  async close(): Promise<void> {
    await this.cancel([...this.children.keys()]);
    process.off('exit', this.killAllNow);
  }

  private async stopChild(jobId: string): Promise<void> {
    const child = this.children.get(jobId);
    if (!child || child.exit) return;
    child.cancelled = true;
    child.proc.kill('SIGTERM');
    const timer = setTimeout(() => child.proc.kill('SIGKILL'), this.killGraceMs);
    await child.exited;
    clearTimeout(timer);
  }

  private readonly killAllNow = (): void => {
    for (const child of this.children.values()) if (!child.exit) child.proc.kill('SIGKILL');
  };
}
