import { JobStartError } from '../errors/errors.js';
import { jobOutput } from './job-output.js';
import type { AgentConnectInfo, Launcher } from '../backends/launchers/launcher.js';
import type { Logger } from '../util/logger.js';

export interface LaunchOptions {
  startTimeoutMs: number;
  /** Slots for the n-th agent ever launched; undefined lets the agent use its node's cores. */
  slotsFor: (ordinal: number) => number | undefined;
  /** Prefix of agent ids, e.g. the cluster id. */
  idPrefix: string;
}

/** What the launches ask of their pool. */
export interface LaunchHost {
  /** Whether the agent is connected now. */
  connected(agentId: string): boolean;
  /** A job died before its agents connected and no scale() call waited for them. */
  jobDied(jobId: string, state: string): void;
}

interface Pending {
  jobId: string;
  ordinal: number;
}

interface Waiter {
  ids: Set<string>;
  resolve: () => void;
  reject: (err: Error) => void;
}

const STATUS_POLL_MS = 500;

/**
 * Agents on their way: launched through the launcher and not connected yet. Waits for them to dial
 * in (failing the wait with the job's logs after `startTimeoutMs`), and polls the backend for jobs
 * that die before their agent ever connects (bad node path, rejected by the node, OOM): only the
 * backend's status can tell. Remembers which job started each agent, to cancel it later.
 */
export class Launches {
  private readonly pending = new Map<string, Pending>();
  /** Which job started each agent (kept after it connects, to cancel the job later). */
  private readonly jobOf = new Map<string, string>();
  private readonly waiters = new Set<Waiter>();
  private ordinal = 0;
  private poller: NodeJS.Timeout | null = null;
  private closed = false;
  /**
   * Agents of launches still under way (sbatch over SSH takes a while): not pending yet, but
   * counted as coming, or an agent lost meanwhile would be replaced twice.
   */
  private launchingCount = 0;

  constructor(
    private readonly launcher: Launcher,
    private readonly connect: AgentConnectInfo,
    private readonly options: LaunchOptions,
    private readonly log: Logger,
    private readonly host: LaunchHost,
  ) {}

  /** Agents launched or being launched that have not connected yet. */
  get coming(): number {
    return this.pending.size + this.launchingCount;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  jobIdOf(agentId: string): string | undefined {
    return this.jobOf.get(agentId);
  }

  /** Agents launched whose job is queued or starting. */
  pendingAgents(): { agentId: string; jobId: string }[] {
    return [...this.pending].map(([agentId, p]) => ({ agentId, jobId: p.jobId }));
  }

  /** The jobs of agents not connected yet. */
  pendingJobs(): string[] {
    return [...new Set([...this.pending.values()].map((p) => p.jobId))];
  }

  /** An agent connected (its hello may name its job): no longer pending; scale() calls waiting for it resolve. */
  arrived(agentId: string, jobId: string | null | undefined): void {
    this.pending.delete(agentId);
    if (jobId && !this.jobOf.has(agentId)) this.jobOf.set(agentId, jobId);
    for (const w of this.waiters) {
      w.ids.delete(agentId);
      if (w.ids.size === 0) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  /** Forgets up to `count` agents not connected yet (scaling down); returns their jobs, to cancel. */
  dropPending(count: number): string[] {
    const jobs: string[] = [];
    for (const [id, p] of [...this.pending.entries()].slice(0, count)) {
      this.pending.delete(id);
      jobs.push(p.jobId);
    }
    return jobs;
  }

  /** Fails every wait (the cluster is closing) and stops polling. */
  close(error: Error): void {
    this.closed = true;
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
    for (const w of this.waiters) w.reject(error);
    this.waiters.clear();
  }

  /** Launches `count` agents (one launch per slot count: one batch job on a scheduler); returns their ids. */
  async launch(count: number): Promise<string[]> {
    const byOrdinal = new Map<string, number>();
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const ordinal = this.ordinal++;
      const id = `${this.options.idPrefix}-${ordinal}`;
      ids.push(id);
      byOrdinal.set(id, ordinal);
    }
    const groups = new Map<number | undefined, string[]>();
    for (const id of ids) {
      const slots = this.options.slotsFor(byOrdinal.get(id)!);
      const group = groups.get(slots) ?? [];
      group.push(id);
      groups.set(slots, group);
    }
    this.launchingCount += count;
    try {
      for (const [slots, agentIds] of groups) {
        const jobs = await this.launcher.launch({ connect: this.connect, agentIds, slots });
        for (const job of jobs) {
          for (const id of job.agentIds) {
            // An agent may dial in before its launch call returns: it is here, not pending.
            if (!this.host.connected(id)) this.pending.set(id, { jobId: job.jobId, ordinal: byOrdinal.get(id)! });
            this.jobOf.set(id, job.jobId);
          }
        }
        this.launchingCount -= agentIds.length;
        count -= agentIds.length;
      }
    } finally {
      this.launchingCount -= count;
    }
    this.ensurePolling();
    return ids;
  }

  /** Resolves once every one of `ids` connected; rejects with the job's story if one does not in time. */
  waitFor(ids: readonly string[]): Promise<void> {
    const missing = new Set(ids.filter((id) => !this.host.connected(id)));
    if (missing.size === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        void this.failStart([...waiter.ids], `agents did not connect within ${this.options.startTimeoutMs} ms`, 'not connected', reject);
      }, this.options.startTimeoutMs);
      const waiter: Waiter = {
        ids: missing,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.waiters.add(waiter);
    });
  }

  private ensurePolling(): void {
    if (this.poller || this.closed) return;
    this.poller = setInterval(() => void this.poll(), STATUS_POLL_MS);
    this.poller.unref();
  }

  private async poll(): Promise<void> {
    if (this.pending.size === 0) {
      if (this.poller) clearInterval(this.poller);
      this.poller = null;
      return;
    }
    let statuses;
    try {
      statuses = await this.launcher.status(this.pendingJobs());
    } catch (err) {
      this.log.debug(`job status poll failed: ${(err as Error).message}`);
      return;
    }
    for (const status of statuses) {
      if (status.state === 'pending' || status.state === 'running' || status.state === 'unknown') continue;
      const dead = [...this.pending.entries()].filter(([, p]) => p.jobId === status.jobId).map(([id]) => id);
      if (dead.length === 0) continue;
      for (const id of dead) this.pending.delete(id);
      const state = status.reason ? `${status.state} (${status.reason})` : status.state;
      let rejected = false;
      for (const w of this.waiters) {
        if (dead.some((id) => w.ids.has(id))) {
          this.waiters.delete(w);
          rejected = true;
          await this.failStart(dead, `the job of agent ${dead.join(', ')} ended before the agent connected`, state, w.reject, status.jobId);
        }
      }
      if (!rejected) {
        this.log.warn(`job ${status.jobId} ended (${state}) before its agent connected`);
        this.host.jobDied(status.jobId, state);
      }
    }
  }

  private async failStart(ids: string[], message: string, state: string, reject: (err: Error) => void, jobId?: string): Promise<void> {
    const job = jobId ?? this.jobOf.get(ids[0] ?? '') ?? '?';
    if (!jobId) {
      // Timed out: what the scheduler says of the job (pending for lack of resources, a down
      // queue, ...) is the most useful thing to show.
      const status = await this.launcher.status([job]).catch(() => []);
      const s = status[0];
      if (s && s.state !== 'unknown') state = `${s.state}${s.reason ? ` (${s.reason})` : ''}, ${state}`;
    }
    // The backend's own explanation, when it has one (Kubernetes: the reason, events and pod logs).
    const explained = this.launcher.startError ? await this.launcher.startError(job, 30).catch(() => null) : null;
    const output = explained ? '' : await jobOutput(this.launcher, job, 30);
    for (const id of ids) this.pending.delete(id);
    await this.launcher.cancel([job]).catch(() => undefined);
    // On a timeout the job has not failed (yet): the pool's words, with the backend's details.
    if (explained && !jobId && explained instanceof JobStartError) {
      reject(new JobStartError(message, { jobId: job, state, output: explained.output, hint: explained.hint }));
    } else {
      reject(explained ?? new JobStartError(message, { jobId: job, state, output }));
    }
  }
}
