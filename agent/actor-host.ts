import type { Worker } from 'node:worker_threads';
import type { FailureKind, RemoteErrorInfo } from '../protocol/common.js';
import type { ActorReplyToThread, ActorRequestFromThread } from './actor-bridge.js';
import type { FromActorThread, ToActorThread } from './actor-thread.js';
import { toErrorInfo } from './errors-info.js';
import { failureKind } from './pack-result.js';
import type { CodeSource } from './task-code.js';
import { startWorker, type WorkerEntry } from './start-worker.js';
import { answerObjectRead, type ReadObject } from './objects/object-reads.js';
import { depsFor } from './thread-transfer.js';

export interface ActorHostEvents {
  ready(actorId: string): void;
  exited(actorId: string, constructorFailed: boolean, error: RemoteErrorInfo): void;
  /** `refs`: ids of the refs inside the result. */
  done(id: string, value: Uint8Array, runMs: number, refs: string[]): void;
  failed(id: string, kind: FailureKind, error: RemoteErrorInfo): void;
  log(id: string | null, stream: 'stdout' | 'stderr', text: string): void;
  actorRequest(request: ActorRequestFromThread, reply: (msg: ActorReplyToThread) => void): void;
  /** The actor reads a ref nested in its arguments (it awaits it). */
  readObject: ReadObject;
  /** The actor's state after `calls` calls (checkpoints). */
  checkpoint(actorId: string, calls: number, state: Uint8Array): void;
}

/** Checkpoints of one actor: how often, and the state a restart begins from. */
export interface Checkpointing {
  checkpointEvery: number | null;
  checkpointMs: number | null;
  restore: { state: Uint8Array; calls: number } | null;
}

const NO_CHECKPOINTS: Checkpointing = { checkpointEvery: null, checkpointMs: null, restore: null };

interface PendingCall {
  id: string;
  timeoutMs: number | null;
  timer: NodeJS.Timeout | null;
}

interface Hosted {
  actorId: string;
  worker: Worker;
  maxConcurrency: number;
  /** Calls sent to the thread and not answered, in order. */
  calls: PendingCall[];
  /** Calls not yet posted to the thread: everything that arrives in one tick goes in one message. */
  outbox: { id: string; method: string; args: Uint8Array; deps: ReadonlyMap<string, Uint8Array> }[];
  dead: boolean;
}

/**
 * The actors living on this agent, each on a thread of its own so a busy actor never blocks the
 * agent's tasks or other actors. A timed-out call on a strictly ordered actor kills that actor:
 * the call may have stopped halfway through changing its state.
 */
export class ActorHost {
  private readonly actors = new Map<string, Hosted>();

  constructor(
    private readonly entry: WorkerEntry,
    private readonly cacheDir: string,
    private readonly events: ActorHostEvents,
  ) {}

  get count(): number {
    return this.actors.size;
  }

  /** `deps`: the bytes of the objects its top-level ref arguments name. */
  create(actorId: string, code: CodeSource, exportName: string | null, args: Uint8Array, maxConcurrency: number, checkpoint: Checkpointing = NO_CHECKPOINTS, deps: ReadonlyMap<string, Uint8Array> = new Map()): void {
    this.kill(actorId);
    const worker = startWorker(this.entry, { cacheDir: this.cacheDir, mode: 'actor' });
    const actor: Hosted = { actorId, worker, maxConcurrency, calls: [], outbox: [], dead: false };
    this.actors.set(actorId, actor);
    worker.on('message', (msg: FromActorThread) => this.onMessage(actor, msg));
    worker.on('error', (err) => !actor.dead && this.die(actor, false, { ...toErrorInfo(err), message: `the actor's thread died: ${toErrorInfo(err).message}` }));
    worker.on('exit', (code) => this.die(actor, false, { name: 'ActorThreadExited', message: `the actor's thread exited with code ${code}` }));
    const transfer: ArrayBuffer[] = [];
    worker.postMessage({ type: 'create', actorId, code, export: exportName, args, deps: depsFor(deps, transfer), maxConcurrency, ...checkpoint } satisfies ToActorThread, transfer);
  }

  call(actorId: string, id: string, method: string, args: Uint8Array, timeoutMs: number | null, deps: ReadonlyMap<string, Uint8Array>): void {
    const actor = this.actors.get(actorId);
    if (!actor) {
      this.events.failed(id, 'actor-died', { name: 'ActorDiedError', message: `actor ${actorId} does not live on this agent (any more)` });
      return;
    }
    const call: PendingCall = { id, timeoutMs, timer: null };
    actor.calls.push(call);
    if (actor.outbox.length === 0) {
      queueMicrotask(() => {
        if (actor.dead || actor.outbox.length === 0) return;
        actor.worker.postMessage({ type: 'calls', calls: actor.outbox } satisfies ToActorThread);
        actor.outbox = [];
      });
    }
    actor.outbox.push({ id, method, args, deps });
    // In a strictly ordered actor a call starts when the one before it ends.
    if (actor.maxConcurrency > 1 || actor.calls.length === 1) this.arm(actor, call);
  }

  /** Ends an actor at the coordinator's request; nothing is reported (the coordinator knows). */
  kill(actorId: string): void {
    const actor = this.actors.get(actorId);
    if (!actor) return;
    actor.dead = true;
    this.actors.delete(actorId);
    for (const call of actor.calls) if (call.timer) clearTimeout(call.timer);
    // Its listeners check `actor.dead`, so they go quiet (removing them would break terminate()).
    actor.worker.on('error', () => undefined);
    void actor.worker.terminate();
  }

  killAll(): void {
    for (const id of [...this.actors.keys()]) this.kill(id);
  }

  private arm(actor: Hosted, call: PendingCall): void {
    if (call.timeoutMs === null || call.timer) return;
    const ms = call.timeoutMs;
    call.timer = setTimeout(() => {
      if (actor.dead) return;
      if (actor.maxConcurrency > 1) {
        // An async actor keeps serving: only this call's result is dropped.
        actor.calls = actor.calls.filter((c) => c !== call);
        this.events.failed(call.id, 'timeout', { name: 'TimeoutError', message: `actor call ran longer than ${ms} ms; its result will be ignored` });
        return;
      }
      this.events.failed(call.id, 'timeout', {
        name: 'TimeoutError',
        message: `actor call ran longer than ${ms} ms; the actor was killed because its state is undefined after an interrupted call`,
      });
      actor.calls = actor.calls.filter((c) => c !== call);
      this.die(actor, false, { name: 'ActorKilledError', message: `a call ran longer than its timeout (${ms} ms), so the actor was killed; its state was lost` });
    }, ms);
  }

  private onMessage(actor: Hosted, msg: FromActorThread): void {
    if (actor.dead) return;
    switch (msg.type) {
      case 'ready':
        this.events.ready(actor.actorId);
        return;
      case 'create-failed':
        this.die(actor, true, msg.error);
        return;
      case 'checkpoint':
        this.events.checkpoint(actor.actorId, msg.calls, msg.state);
        return;
      case 'log':
        this.events.log(msg.id, msg.stream, msg.text);
        return;
      case 'actor-request':
        this.events.actorRequest(msg, (reply) => {
          if (!actor.dead) actor.worker.postMessage(reply);
        });
        return;
      case 'object-read':
        answerObjectRead(msg, this.events.readObject, (reply, transfer) => {
          if (!actor.dead) actor.worker.postMessage(reply, transfer);
        });
        return;
      case 'results':
        for (const result of msg.results) {
          const i = actor.calls.findIndex((c) => c.id === result.id);
          if (i < 0) continue; // timed out already
          const [call] = actor.calls.splice(i, 1);
          if (call?.timer) clearTimeout(call.timer);
          if (result.type === 'done') this.events.done(result.id, result.value, result.runMs, result.refs);
          else this.events.failed(result.id, failureKind(result.error), result.error);
        }
        if (actor.maxConcurrency === 1 && actor.calls[0]) this.arm(actor, actor.calls[0]);
        return;
    }
  }

  private die(actor: Hosted, constructorFailed: boolean, error: RemoteErrorInfo): void {
    if (actor.dead) return;
    const calls = actor.calls;
    this.kill(actor.actorId);
    for (const call of calls) this.events.failed(call.id, 'actor-died', { name: 'ActorDiedError', message: error.message });
    this.events.exited(actor.actorId, constructorFailed, error);
  }
}
