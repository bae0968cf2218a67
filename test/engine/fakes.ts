/**
 * Test doubles for engine tests, named so: a launcher that starts nothing (the test says when its
 * agents "connect" and "die"), an agent socket that sends nothing (it records what the coordinator
 * sends), and a pool wired to both the way engine.ts wires the real ones.
 */
import type { Hello } from '../../protocol/agent-messages.js';
import type { CoordinatorMessage } from '../../protocol/coordinator-messages.js';
import type { CloseInfo, FramedSocketHandlers } from '../../protocol/framed-socket.js';
import type { AgentMessage } from '../../protocol/agent-messages.js';
import type { JobLogs, JobStatus, LaunchedJob, LaunchRequest, Launcher } from '../../coordinator/backends/launchers/launcher.js';
import type { AgentSocket } from '../../coordinator/engine/agent-server.js';
import { AgentLink } from '../../coordinator/engine/link.js';
import { AgentPool, type PoolOptions } from '../../coordinator/engine/pool.js';
import type { ClustrixError } from '../../coordinator/errors/errors.js';
import type { Logger } from '../../coordinator/util/logger.js';

/** A launcher whose jobs are records: `onLaunch` hears each launch; `failWith` makes launches throw. */
export class FakeLauncher implements Launcher {
  readonly kind = 'fake';
  readonly launches: LaunchRequest[] = [];
  readonly launchTimes: number[] = [];
  readonly cancelled: string[] = [];
  /** While set, launch() throws it (and records the attempt). */
  failWith: Error | null = null;
  /** While set, launch() waits for it before it returns (an sbatch over SSH that takes a while). */
  gate: Promise<void> | null = null;
  onLaunch: (jobs: LaunchedJob[]) => void = () => undefined;
  private nextJob = 0;

  async launch(request: LaunchRequest): Promise<LaunchedJob[]> {
    this.launches.push(request);
    this.launchTimes.push(Date.now());
    if (this.failWith) throw this.failWith;
    if (this.gate) await this.gate;
    const jobs = [{ jobId: `job-${this.nextJob++}`, agentIds: [...request.agentIds] }];
    // Agents connect after the launch has returned (the pool records them as pending first).
    setImmediate(() => this.onLaunch(jobs));
    return jobs;
  }

  async cancel(jobIds: readonly string[]): Promise<void> {
    this.cancelled.push(...jobIds);
  }

  async status(jobIds: readonly string[]): Promise<JobStatus[]> {
    return jobIds.map((jobId) => ({ jobId, state: 'running' }));
  }

  async logs(jobId: string): Promise<JobLogs> {
    return { stdout: '', stderr: `fake output of ${jobId}` };
  }

  async close(): Promise<void> {}

  /** Agent ids of every launch, flat. */
  get launchedIds(): string[] {
    return this.launches.flatMap((r) => [...r.agentIds]);
  }
}

/** An agent socket that goes nowhere: records what is sent; the test closes it from either side. */
export class FakeAgentSocket {
  readonly sent: CoordinatorMessage[] = [];
  closedWith: CloseInfo | null = null;
  readonly lastHeard = Date.now();
  private handlers: FramedSocketHandlers<AgentMessage, CoordinatorMessage> | null = null;

  setHandlers(handlers: FramedSocketHandlers<AgentMessage, CoordinatorMessage>): void {
    this.handlers = handlers;
  }

  setDeferFlush(): void {}

  send(message: CoordinatorMessage): boolean {
    if (this.closedWith) return false;
    this.sent.push(message);
    return true;
  }

  close(code: number, reason: string): void {
    this.report({ code, reason, local: true });
  }

  terminate(reason: string): void {
    this.report({ code: 1006, reason, local: true });
  }

  /** The agent went away (kill -9, a broken network): the far side closed. */
  drop(): void {
    this.report({ code: 1006, reason: '', local: false });
  }

  private report(info: CloseInfo): void {
    if (this.closedWith) return;
    this.closedWith = info;
    this.handlers?.closed(info);
  }
}

export function fakeHello(agentId: string, jobId: string | null, slots = 1): Hello {
  return {
    type: 'hello', protocol: 1, token: 'fake', agentId, jobId, host: 'fake-host', pid: 0, cpus: slots, memoryBytes: 0, node: 'v20', slots, inlineConcurrency: 16, walltimeLeftMs: null,
  };
}

export const silentLog: Logger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined, enabled: () => false };

/** Work the pool watches (engine.ts: the scheduler's queue and waiting actor calls). */
export class FakeWork {
  waitingCount = 0;
  readonly failures: ClustrixError[] = [];
  waiting = (): number => this.waitingCount;
  fail = (error: ClustrixError): void => {
    this.failures.push(error);
    this.waitingCount = 0;
  };
}

/**
 * A real AgentPool over a FakeLauncher. Launched agents connect at once unless `autoConnect` is
 * false; `lose(id)` drops an agent the way a kill -9 does.
 */
export class PoolHarness {
  readonly launcher = new FakeLauncher();
  readonly work = new FakeWork();
  readonly sockets = new Map<string, FakeAgentSocket>();
  readonly removed: string[] = [];
  readonly pool: AgentPool;
  autoConnect = true;

  constructor(options: Partial<PoolOptions> = {}) {
    this.pool = new AgentPool(
      this.launcher,
      { url: 'ws://fake', token: 'fake' },
      { startTimeoutMs: 5_000, slotsFor: () => 1, replaceLostAgents: true, recoveryTimeoutMs: 3_000, idPrefix: 'p', ...options },
      silentLog,
      (link) => {
        // What engine.ts does here: the scheduler drains it (no new work), the list changes.
        if (link.state === 'ready') link.state = 'draining';
        this.removed.push(link.id);
      },
      this.work,
    );
    this.launcher.onLaunch = (jobs) => {
      if (!this.autoConnect) return;
      for (const job of jobs) for (const id of job.agentIds) this.connect(id, job.jobId);
    };
  }

  /** The agent `id` of `jobId` connects and says hello. */
  connect(id: string, jobId: string): AgentLink {
    const socket = new FakeAgentSocket();
    this.sockets.set(id, socket);
    const link = new AgentLink(id, fakeHello(id, jobId), socket as unknown as AgentSocket, 60_000, {
      message: () => undefined,
      closed: (l, reason) => this.pool.detach(l, reason),
    });
    if (!this.pool.attach(link)) link.close(4000, 'not wanted');
    return link;
  }

  lose(id: string): void {
    const socket = this.sockets.get(id);
    if (!socket) throw new Error(`no agent ${id}`);
    socket.drop();
  }

  get ready(): string[] {
    return [...this.pool.links.values()].filter((l) => l.state === 'ready').map((l) => l.id);
  }
}

/** A real AgentLink over a FakeAgentSocket; its close only reports to the socket's handlers. */
export function fakeLink(id: string, slots = 1): { link: AgentLink; socket: FakeAgentSocket } {
  const socket = new FakeAgentSocket();
  const link = new AgentLink(id, fakeHello(id, `job-of-${id}`, slots), socket as unknown as AgentSocket, 60_000, {
    message: () => undefined,
    closed: () => undefined,
  });
  return { link, socket };
}
