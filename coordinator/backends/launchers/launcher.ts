/**
 * The seam between the pool and wherever agents run. One implementation per backend (local, ssh,
 * slurm, pbs, sge, kubernetes); the pool calls nothing else.
 */
import { showOnly } from '../../util/show-only.js';

/** What every launched agent needs to connect back. The token must never reach argv or a script. */
export interface AgentConnectInfo {
  /** ws:// or wss:// address the agents dial. */
  url: string;
  /** The per-cluster secret. Deliver it via a pipe, a 0600 file, or (Kubernetes) a Secret's env var only. */
  token: string;
  /** For wss: the SHA-256 fingerprint of the certificate agents pin. */
  certFingerprint?: string | undefined;
}

/** Connect info that prints as its url only (the pool and every launch request hold it). */
export function agentConnectInfo(info: AgentConnectInfo): AgentConnectInfo {
  return showOnly({ ...info }, 'AgentConnectInfo', (c) => ({ url: c.url }));
}

export interface LaunchRequest {
  connect: AgentConnectInfo;
  /** One id per agent to start; each agent sends its id back in its hello (CLUSTRIX_AGENT_ID). */
  agentIds: readonly string[];
  /** Worker-thread slots per agent; undefined: the agent uses its node's available parallelism. */
  slots?: number | undefined;
}

/** One unit the backend tracks: a child process, a batch job, a Kubernetes Job. */
export interface LaunchedJob {
  /** Backend id: pid, SLURM job id, SGE job number, Kubernetes Job name. */
  jobId: string;
  /** The agents this job starts. */
  agentIds: readonly string[];
}

export type JobState = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled' | 'unknown';

export interface JobStatus {
  jobId: string;
  state: JobState;
  /** Scheduler's words for why, e.g. `Resources`, `OUT_OF_MEMORY`, `ImagePullBackOff`. */
  reason?: string | undefined;
  exitCode?: number | undefined;
}

export interface JobLogs {
  stdout: string;
  stderr: string;
}

export interface Launcher {
  /** `local`, `ssh`, `slurm`, `pbs`, `sge`, `kubernetes`. */
  readonly kind: string;
  /** Submits jobs for the agents; resolves once submitted (not once connected). */
  launch(request: LaunchRequest): Promise<LaunchedJob[]>;
  /** Cancels jobs; resolves once the backend accepted the cancellation. Unknown ids are ignored. */
  cancel(jobIds: readonly string[]): Promise<void>;
  /** Current state of jobs, for noticing jobs that died before or after their agent connected. */
  status(jobIds: readonly string[]): Promise<JobStatus[]>;
  /** The last `lines` lines of a job's stdout and stderr. */
  logs(jobId: string, lines: number): Promise<JobLogs>;
  /**
   * Optional: the error explaining why a job's agents did not come up, in the backend's words
   * (e.g. Kubernetes' ImagePullBackOff or Unschedulable, with the events and the last `lines` log
   * lines of its pods). When present, the pool raises it instead of its generic JobStartError
   * built from status() and logs(). Called before the job is cancelled.
   */
  startError?(jobId: string, lines: number): Promise<Error>;
  /** Cancels everything still running and releases connections. Idempotent. */
  close(): Promise<void>;
}
