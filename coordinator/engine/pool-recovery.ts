import { PoolUnavailableError, type FailedJob } from '../errors/errors.js';

/** Replacements allowed at once per minute per wanted agent; more wait for a backoff. */
export const REPLACEMENTS_PER_MINUTE = 3;
const WINDOW_MS = 60_000;
const BACKOFF_INITIAL_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;

/**
 * What the pool remembers while it is short of agents: when it may launch the next replacement
 * (at once while the per-minute cap has room and launches work, else after an exponential
 * backoff, so a crash loop neither fork-bombs nor stops for good), and what went wrong, for the
 * error that fails waiting work when the pool cannot come back.
 */
export class Recovery {
  /** When replacements were launched in the last minute. */
  private window: number[] = [];
  /** Backoff steps taken since launches last ran freely. */
  private streak = 0;
  /** Launches that failed (threw, or whose job died before connecting) since an agent connected. */
  private failures = 0;
  /** Since the pool was last at its size. */
  private lost = 0;
  private tried = 0;
  private lastLaunchError: string | null = null;
  private lastFailed: { jobId: string; state: string } | null = null;

  constructor(private readonly random: () => number = Math.random) {}

  /** Milliseconds to wait before the next replacement; 0: now. */
  delay(now: number, wanted: number): number {
    this.window = this.window.filter((t) => now - t < WINDOW_MS);
    if (this.failures === 0 && this.window.length < REPLACEMENTS_PER_MINUTE * Math.max(1, wanted)) {
      this.streak = 0;
      return 0;
    }
    const step = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** this.streak);
    this.streak++;
    // Jitter, so many pools (or many coordinators) recovering together do not launch in step.
    return step * (0.5 + this.random() / 2);
  }

  agentLost(jobId: string | undefined, reason: string): void {
    this.lost++;
    if (jobId) this.lastFailed = { jobId, state: `agent lost: ${reason}` };
  }

  launching(now: number, count: number): void {
    this.window.push(now);
    this.tried += count;
  }

  launchFailed(err: unknown): void {
    this.failures++;
    this.lastLaunchError = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
  }

  jobDied(jobId: string, state: string): void {
    this.failures++;
    this.lastFailed = { jobId, state: `ended before its agent connected: ${state}` };
  }

  /** An agent connected: the launcher works. */
  connected(): void {
    this.failures = 0;
  }

  /** The pool is at its size again: a later loss starts a new account. */
  recovered(): void {
    this.lost = 0;
    this.tried = 0;
    this.lastLaunchError = null;
    this.lastFailed = null;
  }

  /** The error for waiting work; `output` reads the last lines of a job's output. */
  async error(pool: StalledPool, output: (jobId: string) => Promise<string>): Promise<PoolUnavailableError> {
    let lastFailedJob: FailedJob | null = null;
    if (this.lastFailed) lastFailedJob = { ...this.lastFailed, output: await output(this.lastFailed.jobId) };
    const { lost, tried } = this;
    const headline =
      `the pool has no agent (${pool.wanted} wanted) and could not get one back within ${pool.timeoutMs} ms: ` +
      `${lost} agent${lost === 1 ? '' : 's'} lost, ${tried} replacement${tried === 1 ? '' : 's'} tried` +
      (pool.replacing ? '' : ' (replaceLostAgents is false)') +
      (pool.pendingJobs.length ? `; launched and not connected: job ${pool.pendingJobs.join(', ')}` : '');
    return new PoolUnavailableError(headline, { agentsLost: lost, replacementsTried: tried, lastLaunchError: this.lastLaunchError, lastFailedJob });
  }
}

/** What the error says of the pool itself. */
export interface StalledPool {
  wanted: number;
  timeoutMs: number;
  /** replaceLostAgents. */
  replacing: boolean;
  /** Jobs launched whose agents have not connected. */
  pendingJobs: readonly string[];
}
