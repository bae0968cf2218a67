/**
 * Test doubles for the scheduler's engine tests: a fake agent connection (FakeSocket, which
 * records what the coordinator sends and answers only when the test says so) under a real
 * AgentLink, and task records with their outcome as a promise.
 */
import type { AgentMessage, Hello } from '../../protocol/agent-messages.js';
import type { CoordinatorMessage, Task } from '../../protocol/coordinator-messages.js';
import type { FramedSocketHandlers } from '../../protocol/framed-socket.js';
import { AgentLink, type LinkSocket } from '../../coordinator/engine/link.js';
import { Scheduler } from '../../coordinator/engine/scheduler.js';
import type { ShippedCode, TaskOutcome, TaskRecord } from '../../coordinator/engine/task.js';

/** A fake agent's connection: keeps every message sent to it. */
export class FakeSocket implements LinkSocket {
  readonly sent: CoordinatorMessage[] = [];
  /** The messages sent urgently (ahead of the batch), in order. */
  readonly urgent: CoordinatorMessage[] = [];
  lastHeard = Date.now();
  private handlers: FramedSocketHandlers<AgentMessage, CoordinatorMessage> | null = null;

  setHandlers(handlers: FramedSocketHandlers<AgentMessage, CoordinatorMessage>): void {
    this.handlers = handlers;
  }

  setDeferFlush(): void {}

  send(message: CoordinatorMessage, urgent = false): boolean {
    this.sent.push(message);
    if (urgent) this.urgent.push(message);
    return true;
  }

  close(code: number, reason: string): void {
    this.handlers?.closed({ code, reason, local: true });
  }

  terminate(reason: string): void {
    this.close(1006, reason);
  }
}

export function hello(slots: number, inlineConcurrency = 4, resources?: Record<string, number>): Hello {
  return { type: 'hello', protocol: 1, token: 't', agentId: null, jobId: null, host: 'fake', pid: 1, cpus: slots, memoryBytes: 0, node: 'v20', slots, inlineConcurrency, walltimeLeftMs: null, resources };
}

/** One fake agent: its link, and the tasks it was sent, in order. */
export class FakeAgent {
  readonly socket = new FakeSocket();
  readonly link: AgentLink;

  constructor(
    readonly id: string,
    slots: number,
    private readonly scheduler: Scheduler,
    inlineConcurrency = 4,
    resources?: Record<string, number>,
    pool?: string,
  ) {
    this.link = new AgentLink(id, hello(slots, inlineConcurrency, resources), this.socket, 3_600_000, {
      message: () => undefined,
      closed: (l, reason) => scheduler.removeLink(l, reason),
    });
    if (pool) this.link.pool = pool;
    scheduler.addLink(this.link);
  }

  /** Ids of the tasks sent to this agent, in order. */
  get taskIds(): string[] {
    return this.socket.sent.filter((m): m is Task => m.type === 'task').map((m) => m.id);
  }

  /** Tasks sent and not answered yet. */
  get running(): string[] {
    return [...this.link.inflight.keys()];
  }

  done(id: string, runMs = 1): void {
    this.scheduler.onDone(this.link, { type: 'done', id, value: new Uint8Array([id.length]), runMs });
  }

  fail(id: string, kind: 'exception' | 'cancelled'): void {
    this.scheduler.onFailed(this.link, { type: 'failed', id, kind, error: { name: 'Error', message: 'boom' } });
  }

  /** The connection drops: the scheduler hears it from the link. */
  lose(): void {
    this.link.close(1006, 'lost in a test');
  }
}

export function scheduler(maxPipelinePerSlot = 0, pools?: { names: string[]; growable?: (pool: string) => boolean }): Scheduler {
  const s = new Scheduler({ maxPipelinePerSlot, warn: () => undefined, ...(pools?.growable ? { growable: pools.growable } : {}) });
  if (pools) s.setPools(pools.names);
  return s;
}

export interface TestTask {
  record: TaskRecord;
  outcome: Promise<TaskOutcome>;
}

let next = 0;

/** A task record of share-holder `share`; its outcome resolves (never rejects) when it settles. */
export function task(share: string, options: { priority?: number; weight?: number; inline?: boolean; retries?: number; id?: string; resources?: Record<string, number>; pool?: string; code?: ShippedCode | string } = {}): TestTask {
  let deliver!: (o: TaskOutcome) => void;
  const outcome = new Promise<TaskOutcome>((resolve) => (deliver = resolve));
  const record: TaskRecord = {
    id: options.id ?? `${share}-${++next}`,
    code: typeof options.code === 'string' ? { hash: options.code, kind: 'function', source: '() => 1', name: 'f' } : (options.code ?? { hash: 'h', kind: 'function', source: '() => 1', name: 'f' }),
    export: null,
    keep: null,
    deps: [],
    args: new Uint8Array(),
    inline: options.inline ?? false,
    chunk: false,
    timeoutMs: null,
    priority: options.priority ?? 0,
    share,
    weight: options.weight ?? 1,
    resources: options.resources ?? null,
    pool: options.pool ?? null,
    lossRetriesLeft: options.retries ?? 0,
    exceptionRetriesLeft: 0,
    pinned: null,
    link: null,
    settled: false,
    deliver,
  };
  return { record, outcome };
}

/** Lets queued dispatches run (the scheduler dispatches in a microtask). */
export async function settle(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}
