import { ClusterClosedError, ConfigError, JobStartError, type ClustrixError } from '../errors/errors.js';
import { show } from '../config/issues.js';
import { jobOutput } from './job-output.js';
import type { AgentConnectInfo, Launcher } from '../backends/launchers/launcher.js';
import type { AgentLink } from './link.js';
import type { Logger } from '../util/logger.js';
import { Recovery } from './pool-recovery.js';
import { StallWatch, type PoolWork } from './pool-stall.js';
import { CloseCode } from '../../protocol/version.js';

export interface PoolOptions {
  startTimeoutMs: number;
  /** Slots for the n-th agent ever launched; undefined lets the agent use its node's cores. */
  slotsFor: (ordinal: number) => number | undefined;
  replaceLostAgents: boolean;
  /** How long waiting work waits for a pool with no agent to get one back, ms. */
  recoveryTimeoutMs: number;
  /** Prefix of agent ids, e.g. the cluster id. */
  idPrefix: string;
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
 * Keeps the number of agents at the wanted size: launches through the launcher, waits for agents
 * to connect back, notices jobs that die before connecting (failing start/scale with their logs),
 * replaces agents that are lost (retrying failed replacements with backoff), fails waiting work
 * when it has no agent for `recoveryTimeoutMs`, and drains agents it removes so no task is cut off.
 */
export class AgentPool {
  readonly links = new Map<string, AgentLink>();
  private readonly pending = new Map<string, Pending>();
  /** Which job started each agent (kept after it connects, to cancel the job later). */
  private readonly jobOf = new Map<string, string>();
  private readonly waiters = new Set<Waiter>();
  private target = 0;
  private ordinal = 0;
  private closing = false;
  private poller: NodeJS.Timeout | null = null;
  private readonly recovery = new Recovery();
  /** The next replacement attempt, when it waits for a backoff. */
  private retryTimer: NodeJS.Timeout | null = null;
  private replacing = false;
  /**
   * Agents of launches still under way (sbatch over SSH takes a while): not pending yet, but
   * counted as coming, or an agent lost meanwhile would be replaced twice.
   */
  private launching = 0;
  private readonly stall: StallWatch;
  /** Lost agents no replacement was launched for yet. */
  private unreplaced: string[] = [];
  /**
   * Lost agents the pool launched a replacement for. Their job may bring them back by itself
   * (Kubernetes restarts a crashed container in place and recreates a deleted pod of an Indexed
   * Job, under the same agent id); by then they are surplus and are turned away, and exit.
   */
  private readonly replaced = new Set<string>();

  constructor(
    private readonly launcher: Launcher,
    private readonly connect: AgentConnectInfo,
    private readonly options: PoolOptions,
    private readonly log: Logger,
    private readonly onRemove: (link: AgentLink) => void,
    work: PoolWork,
  ) {
    this.stall = new StallWatch(options.recoveryTimeoutMs, { ready: () => this.readyCount(), wanted: () => this.target }, work, () => this.unavailable(), log);
  }

  get size(): number {
    return this.target;
  }

  jobIdOf(agentId: string): string | undefined {
    return this.jobOf.get(agentId);
  }

  /** Agents connected and taking work. */
  readyLinks(): AgentLink[] {
    return [...this.links.values()].filter((l) => l.state === 'ready');
  }

  /** How many agents were launched and have not connected yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Agents launched whose job is queued or starting: they have not connected yet. */
  pendingAgents(): { agentId: string; jobId: string }[] {
    return [...this.pending].map(([agentId, p]) => ({ agentId, jobId: p.jobId }));
  }

  /** Grows or shrinks the pool; growing resolves once every new agent has connected. */
  async scale(n: number): Promise<void> {
    if (!Number.isInteger(n) || n < 0) throw new ConfigError(`scale(n): expected a non-negative integer, got ${show(n)}`);
    this.target = n;
    const live = [...this.links.values()].filter((l) => l.state === 'ready');
    const have = live.length + this.pending.size + this.launching;
    if (n > have) {
      const ids = await this.launch(n - have);
      await this.waitFor(ids);
    } else if (n < have) {
      await this.shrink(have - n, live);
    }
  }

  /**
   * Stops these agents (adaptive scaling chose them, idle): the wanted size drops by as many,
   * each finishes what it has, then its job is cancelled.
   */
  async remove(links: readonly AgentLink[]): Promise<void> {
    const mine = links.filter((l) => this.links.get(l.id) === l && l.state === 'ready');
    if (mine.length === 0) return;
    this.target = Math.max(0, this.target - mine.length);
    await this.stop(mine, []);
  }

  /** An agent authenticated; returns false when the pool does not want it. */
  attach(link: AgentLink): boolean {
    if (this.closing) return false;
    if (this.replaced.has(link.id)) {
      this.log.info(`agent ${link.id} came back after it was replaced; sending it away`);
      return false;
    }
    this.pending.delete(link.id);
    const old = this.links.get(link.id);
    if (old && old !== link) old.terminate('replaced by a new connection of the same agent');
    this.links.set(link.id, link);
    if (link.hello.jobId && !this.jobOf.has(link.id)) this.jobOf.set(link.id, link.hello.jobId);
    this.unreplaced = this.unreplaced.filter((id) => id !== link.id);
    this.recovery.connected();
    this.stall.reset();
    if (this.readyCount() >= this.target) this.recovery.recovered();
    for (const w of this.waiters) {
      w.ids.delete(link.id);
      if (w.ids.size === 0) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
    return true;
  }

  /** An agent's link closed. */
  detach(link: AgentLink, reason: string): void {
    if (this.links.get(link.id) !== link) return;
    this.links.delete(link.id);
    if (this.closing) return;
    // A link that was draining (retired or scaled down) left on purpose.
    if (this.missing() <= 0) return;
    this.log.warn(`agent ${link.id} on ${link.hello.host} was lost: ${reason}`);
    this.recovery.agentLost(this.jobOf.get(link.id), reason);
    this.unreplaced.push(link.id);
    this.replenish();
  }

  /**
   * The agent asked to leave (its job's walltime ends soon): start its replacement now, let it
   * finish the tasks it has, then shut it down and cancel its job, so no task is cut off.
   */
  async retire(link: AgentLink, reason: string): Promise<void> {
    this.onRemove(link);
    if (!this.closing && this.missing() > 0) {
      this.log.info(`agent ${link.id} is leaving (${reason}); starting its replacement`);
      this.launch(this.missing()).catch((err: unknown) => {
        this.log.error(`could not replace agent ${link.id}: ${(err as Error).message}`);
        this.recovery.launchFailed(err);
        this.replenish();
      });
    }
    while (link.inflight.size > 0 && link.state !== 'closed') await new Promise((r) => setTimeout(r, 100));
    if (link.state === 'closed') return;
    link.send({ type: 'shutdown', reason });
    link.close(CloseCode.shutdown, reason);
    const job = this.jobOf.get(link.id);
    if (job) await this.launcher.cancel([job]).catch(() => undefined);
  }

  /** Shuts every agent down and cancels every job. */
  async close(): Promise<void> {
    this.closing = true;
    this.target = 0;
    if (this.poller) clearInterval(this.poller);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stall.stop();
    for (const w of this.waiters) w.reject(new ClusterClosedError('the cluster was closed while agents were starting'));
    this.waiters.clear();
    for (const link of this.links.values()) {
      link.send({ type: 'shutdown', reason: 'cluster closed' });
      link.close(CloseCode.shutdown, 'cluster closed');
    }
    await this.launcher.close();
  }

  private readyCount(): number {
    let n = 0;
    for (const link of this.links.values()) if (link.state === 'ready') n++;
    return n;
  }

  /** Agents the pool wants and neither has nor has launched. */
  private missing(): number {
    return this.target - this.readyCount() - this.pending.size - this.launching;
  }

  /**
   * The one place replacements start: at once while the per-minute cap has room and launches
   * work, else after a backoff (the cap limits the rate; it never stops the pool for good). One
   * attempt at a time; a failed one schedules the next.
   */
  private replenish(): void {
    if (this.closing) return;
    this.stall.start();
    if (!this.options.replaceLostAgents || this.replacing || this.retryTimer || this.missing() <= 0) return;
    const delay = this.recovery.delay(Date.now(), this.target);
    if (delay === 0) {
      this.replace();
      return;
    }
    this.log.info(`replacing ${this.missing()} agent(s) in ${Math.round(delay)} ms`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.replace();
    }, delay);
    this.retryTimer.unref();
  }

  private replace(): void {
    const count = this.missing();
    if (this.closing || count <= 0) return;
    this.replacing = true;
    this.recovery.launching(Date.now(), count);
    this.launch(count).then(
      (ids) => {
        this.replacing = false;
        const lost = this.unreplaced.splice(0, ids.length);
        // If they come back by themselves (Kubernetes restarts pods in place), they are surplus.
        for (const id of lost) this.replaced.add(id);
        this.log.info(`replacing lost agent${lost.length === 1 ? '' : 's'} ${lost.join(', ') || '?'} with ${ids.join(', ')}`);
        this.replenish();
      },
      (err: unknown) => {
        this.replacing = false;
        this.log.error(`could not launch a replacement agent: ${(err as Error).message}`);
        this.recovery.launchFailed(err);
        this.replenish();
      },
    );
  }

  private unavailable(): Promise<ClustrixError> {
    const pendingJobs = [...new Set([...this.pending.values()].map((p) => p.jobId))];
    return this.recovery.error(
      { wanted: this.target, timeoutMs: this.options.recoveryTimeoutMs, replacing: this.options.replaceLostAgents, pendingJobs },
      (jobId) => jobOutput(this.launcher, jobId, 20),
    );
  }

  private async launch(count: number): Promise<string[]> {
    const byOrdinal = new Map<string, number>();
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const ordinal = this.ordinal++;
      const id = `${this.options.idPrefix}-${ordinal}`;
      ids.push(id);
      byOrdinal.set(id, ordinal);
    }
    // Agents with the same slot count share one launch (one batch job on a scheduler).
    const groups = new Map<number | undefined, string[]>();
    for (const id of ids) {
      const slots = this.options.slotsFor(byOrdinal.get(id)!);
      const group = groups.get(slots) ?? [];
      group.push(id);
      groups.set(slots, group);
    }
    this.launching += count;
    try {
      for (const [slots, agentIds] of groups) {
        const jobs = await this.launcher.launch({ connect: this.connect, agentIds, slots });
        for (const job of jobs) {
          for (const id of job.agentIds) {
            // An agent may dial in before its launch call returns: it is here, not pending.
            if (!this.links.has(id)) this.pending.set(id, { jobId: job.jobId, ordinal: byOrdinal.get(id)! });
            this.jobOf.set(id, job.jobId);
          }
        }
        this.launching -= agentIds.length;
        count -= agentIds.length;
      }
    } finally {
      this.launching -= count;
    }
    this.ensurePolling();
    return ids;
  }

  private waitFor(ids: readonly string[]): Promise<void> {
    const missing = new Set(ids.filter((id) => !this.links.has(id)));
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
    if (this.poller || this.closing) return;
    this.poller = setInterval(() => void this.poll(), STATUS_POLL_MS);
    this.poller.unref();
  }

  // A job can die before its agent ever connects (bad node path, rejected by the node, OOM):
  // only the backend's status can tell.
  private async poll(): Promise<void> {
    if (this.pending.size === 0) {
      if (this.poller) clearInterval(this.poller);
      this.poller = null;
      return;
    }
    const jobIds = [...new Set([...this.pending.values()].map((p) => p.jobId))];
    let statuses;
    try {
      statuses = await this.launcher.status(jobIds);
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
        this.recovery.jobDied(status.jobId, state);
        this.replenish();
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

  private async shrink(count: number, live: AgentLink[]): Promise<void> {
    const cancelJobs: string[] = [];
    for (const [id, p] of [...this.pending.entries()].slice(0, count)) {
      this.pending.delete(id);
      cancelJobs.push(p.jobId);
      count--;
    }
    const victims = live.sort((a, b) => a.inflight.size - b.inflight.size).slice(0, count);
    await this.stop(victims, cancelJobs);
  }

  /** Drains `victims`, shuts them down, and cancels their jobs (and `cancelJobs`) that keep no agent. */
  private async stop(victims: readonly AgentLink[], cancelJobs: string[]): Promise<void> {
    await Promise.all(
      victims.map(async (link) => {
        this.onRemove(link);
        while (link.inflight.size > 0 && link.state !== 'closed') await new Promise((r) => setTimeout(r, 20));
        link.send({ type: 'shutdown', reason: 'pool scaled down' });
        link.close(CloseCode.shutdown, 'pool scaled down');
        const job = this.jobOf.get(link.id);
        if (job) cancelJobs.push(job);
      }),
    );
    // A job may run several agents (a Kubernetes Job of N pods): cancel only jobs that keep none.
    // A removed agent of a job that goes on was told to shut down, and exits 0 by itself.
    const keep = new Set<string | undefined>([...this.links.values()].filter((l) => l.state === 'ready').map((l) => this.jobOf.get(l.id)));
    for (const p of this.pending.values()) keep.add(p.jobId);
    const cancel = [...new Set(cancelJobs)].filter((j) => !keep.has(j));
    if (cancel.length) await this.launcher.cancel(cancel);
  }
}
