import { ClusterClosedError, ConfigError, type ClustrixError } from '../errors/errors.js';
import { show } from '../config/issues.js';
import { jobOutput } from './job-output.js';
import type { AgentConnectInfo, Launcher } from '../backends/launchers/launcher.js';
import type { AgentLink } from './link.js';
import type { Logger } from '../util/logger.js';
import { Launches, type LaunchOptions } from './pool-launches.js';
import { Recovery } from './pool-recovery.js';
import { StallWatch, type PoolWork } from './pool-stall.js';
import { CloseCode } from '../../protocol/version.js';

export interface PoolOptions extends LaunchOptions {
  replaceLostAgents: boolean;
  /** How long waiting work waits for a pool with no agent to get one back, ms. */
  recoveryTimeoutMs: number;
}

/**
 * Keeps the number of agents at the wanted size: launches through the launcher (pool-launches.ts
 * waits for agents to connect back and notices jobs that die first), replaces agents that are lost (retrying failed replacements with backoff), fails waiting work
 * when it has no agent for `recoveryTimeoutMs`, and drains agents it removes so no task is cut off.
 */
export class AgentPool {
  readonly links = new Map<string, AgentLink>();
  private readonly launches: Launches;
  private target = 0;
  private closing = false;
  private readonly recovery = new Recovery();
  /** The next replacement attempt, when it waits for a backoff. */
  private retryTimer: NodeJS.Timeout | null = null;
  private replacing = false;
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
    connect: AgentConnectInfo,
    private readonly options: PoolOptions,
    private readonly log: Logger,
    private readonly onRemove: (link: AgentLink) => void,
    work: PoolWork,
  ) {
    this.launches = new Launches(launcher, connect, options, log, {
      connected: (id) => this.links.has(id),
      jobDied: (jobId, state) => {
        this.recovery.jobDied(jobId, state);
        this.replenish();
      },
    });
    this.stall = new StallWatch(options.recoveryTimeoutMs, { ready: () => this.readyCount(), wanted: () => this.target }, work, () => this.unavailable(), log);
  }

  get size(): number {
    return this.target;
  }

  jobIdOf(agentId: string): string | undefined {
    return this.launches.jobIdOf(agentId);
  }

  /** Agents connected and taking work. */
  readyLinks(): AgentLink[] {
    return [...this.links.values()].filter((l) => l.state === 'ready');
  }

  /** How many agents were launched and have not connected yet. */
  get pendingCount(): number {
    return this.launches.pendingCount;
  }

  /** Agents launched whose job is queued or starting: they have not connected yet. */
  pendingAgents(): { agentId: string; jobId: string }[] {
    return this.launches.pendingAgents();
  }

  /** Grows or shrinks the pool; growing resolves once every new agent has connected. */
  async scale(n: number): Promise<void> {
    if (!Number.isInteger(n) || n < 0) throw new ConfigError(`scale(n): expected a non-negative integer, got ${show(n)}`);
    this.target = n;
    const live = [...this.links.values()].filter((l) => l.state === 'ready');
    const have = live.length + this.launches.coming;
    if (n > have) {
      const ids = await this.launches.launch(n - have);
      await this.launches.waitFor(ids);
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
    const old = this.links.get(link.id);
    if (old && old !== link) old.terminate('replaced by a new connection of the same agent');
    this.links.set(link.id, link);
    if (this.unreplaced.length > 0) this.unreplaced = this.unreplaced.filter((id) => id !== link.id);
    this.recovery.connected();
    this.stall.reset();
    if (this.readyCount() >= this.target) this.recovery.recovered();
    this.launches.arrived(link.id, link.hello.jobId);
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
    this.recovery.agentLost(this.launches.jobIdOf(link.id), reason);
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
      this.launches.launch(this.missing()).catch((err: unknown) => {
        this.log.error(`could not replace agent ${link.id}: ${(err as Error).message}`);
        this.recovery.launchFailed(err);
        this.replenish();
      });
    }
    while (link.inflight.size > 0 && link.state !== 'closed') await new Promise((r) => setTimeout(r, 100));
    if (link.state === 'closed') return;
    link.send({ type: 'shutdown', reason });
    link.close(CloseCode.shutdown, reason);
    const job = this.launches.jobIdOf(link.id);
    if (job) await this.launcher.cancel([job]).catch(() => undefined);
  }

  /** Shuts every agent down and cancels every job. */
  async close(): Promise<void> {
    this.closing = true;
    this.target = 0;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stall.stop();
    this.launches.close(new ClusterClosedError('the cluster was closed while agents were starting'));
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
    return this.target - this.readyCount() - this.launches.coming;
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
    this.launches.launch(count).then(
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
    const pendingJobs = this.launches.pendingJobs();
    return this.recovery.error(
      { wanted: this.target, timeoutMs: this.options.recoveryTimeoutMs, replacing: this.options.replaceLostAgents, pendingJobs },
      (jobId) => jobOutput(this.launcher, jobId, 20),
    );
  }

  private async shrink(count: number, live: AgentLink[]): Promise<void> {
    const cancelJobs = this.launches.dropPending(count);
    count -= cancelJobs.length;
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
        const job = this.launches.jobIdOf(link.id);
        if (job) cancelJobs.push(job);
      }),
    );
    // A job may run several agents (a Kubernetes Job of N pods): cancel only jobs that keep none.
    // A removed agent of a job that goes on was told to shut down, and exits 0 by itself.
    const keep = new Set<string | undefined>([...this.links.values()].filter((l) => l.state === 'ready').map((l) => this.launches.jobIdOf(l.id)));
    for (const job of this.launches.pendingJobs()) keep.add(job);
    const cancel = [...new Set(cancelJobs)].filter((j) => !keep.has(j));
    if (cancel.length) await this.launcher.cancel(cancel);
  }
}
