import os from 'node:os';
import type { FailureKind, RemoteErrorInfo } from '../protocol/common.js';
import type { AgentMessage, Hello } from '../protocol/agent-messages.js';
import type { CoordinatorMessage, Task } from '../protocol/coordinator-messages.js';
import { longTimeout } from '../protocol/durations.js';
import { PROTOCOL_VERSION, valueLimit } from '../protocol/version.js';
import type { AgentConfig } from './config.js';
import { CoordinatorConnection } from './connection.js';
import { ActorHost } from './actor-host.js';
import { installActorBridge, onActorReply, type ActorReplyToThread } from './actor-bridge.js';
import { InlineRunner } from './inline-runner.js';
import type { CodeSource } from './task-code.js';
import { WorkerPool, type PoolEvents, type WorkerEntry } from './worker-pool.js';

/** Time before the walltime ends at which the agent asks to be drained and replaced. */
const DRAIN_MARGIN_MS = 120_000;

/** The agent process: one connection to the coordinator, a worker-thread pool and an inline runner. */
export class Agent {
  private readonly codes = new Map<string, CodeSource>();
  /** Where each accepted task runs, until it is reported. */
  private readonly tasks = new Map<string, 'pool' | 'inline'>();
  private readonly pool: WorkerPool;
  private readonly inline: InlineRunner;
  private readonly actors: ActorHost;
  /** Actor calls made by this agent's tasks, awaiting the coordinator's reply. */
  private readonly requests = new Map<string, (msg: ActorReplyToThread) => void>();
  private readonly connection: CoordinatorConnection;
  private agentId: string | null;
  private exiting = false;
  private cancelDrain: (() => void) | null = null;

  constructor(
    private readonly config: AgentConfig,
    workerEntry: WorkerEntry,
    private readonly onExit: (code: number, reason: string) => void,
  ) {
    this.agentId = config.agentId;
    const events: PoolEvents = {
      done: (id, value, runMs) => this.report(id, () => this.sendResult(id, value, runMs)),
      failed: (id, kind, error) => this.report(id, () => this.connection.send({ type: 'failed', id, kind, error })),
      log: (id, stream, text) => this.connection.send({ type: 'log', id, stream, text }),
      actorRequest: (req, reply) => {
        this.requests.set(req.id, reply);
        this.connection.send({ type: 'actor-request', id: req.id, actorId: req.actorId, method: req.method, args: req.args });
      },
    };
    // Inline tasks run on this thread: their actor handles route through the same table.
    installActorBridge((req) => events.actorRequest(req, onActorReply));
    this.pool = new WorkerPool(config.slots, workerEntry, config.cacheDir, events, config.gpuDevices);
    this.inline = new InlineRunner(config.inlineConcurrency, config.cacheDir, events);
    // Actor calls are not tracked in `tasks`: the actor host reports each exactly once itself.
    this.actors = new ActorHost(workerEntry, config.cacheDir, {
      ...events,
      done: (id, value, runMs) => this.sendResult(id, value, runMs),
      failed: (id, kind, error) => this.connection.send({ type: 'failed', id, kind, error }),
      ready: (actorId) => this.connection.send({ type: 'actor-ready', actorId }),
      exited: (actorId, constructorFailed, error) => this.connection.send({ type: 'actor-exited', actorId, constructorFailed, error }),
    });
    this.connection = new CoordinatorConnection(config, {
      hello: () => this.hello(),
      busy: () => this.pool.queued > 0,
      oversize: (message, bytes) => this.oversize(message, bytes),
      connected: (welcome) => {
        this.agentId = welcome.agentId;
      },
      messages: (messages) => {
        for (const m of messages) this.handle(m);
      },
      disconnected: () => {
        this.tasks.clear();
        this.pool.abandonAll();
        this.inline.abandonAll();
        // The coordinator restarts these elsewhere; copies here would only diverge.
        this.actors.killAll();
        for (const [id, reply] of this.requests) reply({ type: 'actor-reply', id, value: null, error: { name: 'ActorDiedError', message: 'the agent lost its coordinator' } });
        this.requests.clear();
      },
      exit: (code, reason) => void this.exit(code, reason),
    });
  }

  start(): void {
    this.connection.start();
    if (this.config.walltimeEnd !== null) {
      const at = this.config.walltimeEnd - DRAIN_MARGIN_MS - Date.now();
      // A walltime of weeks is longer than one Node timer holds.
      this.cancelDrain = longTimeout(() => this.connection.send({ type: 'draining', reason: 'walltime ends soon' }), at);
    }
  }

  async exit(code: number, reason: string): Promise<void> {
    if (this.exiting) return;
    this.exiting = true;
    this.cancelDrain?.();
    this.connection.stop();
    await this.pool.close();
    this.onExit(code, reason);
  }

  private handle(message: CoordinatorMessage): void {
    switch (message.type) {
      case 'welcome':
        return; // only valid as the first message; the connection consumed it
      case 'code':
        this.codes.set(message.hash, { hash: message.hash, kind: message.kind, source: message.source });
        return;
      case 'task':
        this.accept(message);
        return;
      case 'cancel':
        this.cancel(message.id, 'cancelled', { name: 'CancelledError', message: 'cancelled by the coordinator' });
        return;
      case 'ping':
        this.connection.send({
          type: 'pong',
          t: message.t,
          rssBytes: process.memoryUsage.rss(),
          running: this.pool.running + this.inline.running,
        });
        return;
      case 'shutdown':
        void this.exit(0, `shutdown: ${message.reason}`);
        return;
      case 'actor-create': {
        const code = this.codes.get(message.code);
        if (!code) {
          this.connection.send({
            type: 'actor-exited',
            actorId: message.actorId,
            constructorFailed: true,
            error: { name: 'CodeMissingError', message: `code ${message.code} was not sent before actor ${message.actorId}` },
          });
          return;
        }
        this.actors.create(message.actorId, code, message.export, message.args, message.maxConcurrency);
        return;
      }
      case 'actor-call':
        this.actors.call(message.actorId, message.id, message.method, message.args, message.timeoutMs);
        return;
      case 'actor-kill':
        this.actors.kill(message.actorId);
        return;
      case 'actor-reply': {
        const reply = this.requests.get(message.id);
        if (!reply) return;
        this.requests.delete(message.id);
        reply({ type: 'actor-reply', id: message.id, value: message.value, error: message.error });
        return;
      }
      default: {
        const unreachable: never = message;
        throw new Error(`unhandled message ${JSON.stringify(unreachable)}`);
      }
    }
  }

  private accept(task: Task): void {
    const code = this.codes.get(task.code);
    if (!code) {
      this.connection.send({
        type: 'failed',
        id: task.id,
        kind: 'setup',
        error: { name: 'CodeMissingError', message: `code ${task.code} was not sent before task ${task.id}` },
      });
      return;
    }
    const job = { id: task.id, code, export: task.export, args: task.args, chunk: task.chunk, timeoutMs: task.timeoutMs, express: task.express, gpus: task.gpus };
    if (task.inline) {
      this.tasks.set(task.id, 'inline');
      this.inline.submit(job);
    } else {
      this.tasks.set(task.id, 'pool');
      this.pool.submit(job);
    }
  }

  /** A result goes back unless it cannot fit a frame: then the call fails, and the link stays. */
  private sendResult(id: string, value: Uint8Array, runMs: number): void {
    if (value.byteLength > valueLimit(this.config.maxFrameBytes)) {
      this.connection.send({ type: 'failed', id, kind: 'value', error: tooLarge(`the result is ${value.byteLength} bytes`, valueLimit(this.config.maxFrameBytes)) });
      return;
    }
    this.connection.send({ type: 'done', id, value, runMs });
  }

  // Results are checked before they are sent (sendResult); this is the net under every other message.
  private oversize(message: AgentMessage, bytes: number): void {
    if (message.type === 'actor-request') {
      const reply = this.requests.get(message.id);
      this.requests.delete(message.id);
      reply?.({ type: 'actor-reply', id: message.id, value: null, error: tooLarge(`the arguments of ${message.method} are ${bytes} bytes`, valueLimit(this.config.maxFrameBytes)) });
      return;
    }
    if (message.type === 'done') {
      this.connection.send({ type: 'failed', id: message.id, kind: 'value', error: tooLarge(`the result is ${bytes} bytes`, valueLimit(this.config.maxFrameBytes)) });
      return;
    }
    process.stderr.write(`clustrix agent: dropped a '${message.type}' message of ${bytes} bytes, larger than a frame may be\n`);
  }

  private cancel(id: string, kind: FailureKind, error: RemoteErrorInfo): void {
    const where = this.tasks.get(id);
    if (where === 'pool') this.pool.cancel(id, kind, error);
    else if (where === 'inline') this.inline.cancel(id, kind, error);
  }

  private report(id: string, send: () => void): void {
    if (!this.tasks.delete(id)) return;
    send();
  }

  private hello(): Hello {
    return {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      token: this.config.token,
      agentId: this.agentId,
      jobId: this.config.jobId,
      host: os.hostname(),
      pid: process.pid,
      cpus: os.availableParallelism(),
      memoryBytes: os.totalmem(),
      node: process.version,
      slots: this.config.slots,
      inlineConcurrency: this.config.inlineConcurrency,
      walltimeLeftMs: this.config.walltimeEnd === null ? null : this.config.walltimeEnd - Date.now(),
      resources: this.config.resources,
    };
  }
}

/** The wire form of a value too large to travel: the size, the limit, and what to do. */
export function tooLarge(what: string, limit: number): RemoteErrorInfo {
  return {
    name: 'ValueTooLargeError',
    code: 'VALUE_TOO_LARGE',
    message: `${what}, more than the ${limit} bytes one message may carry (maxFrameBytes less room for the envelope); return less (write large data to shared storage and return its path), or raise maxFrameBytes`,
  };
}
