import { nanoid } from 'nanoid';
import type { ActorRequest } from '../../protocol/actor-messages.js';
import type { Done, Failed } from '../../protocol/agent-messages.js';
import type { RemoteErrorInfo } from '../../protocol/common.js';
import { ActorDiedError, RemoteError, TimeoutError, valueError, type ClustrixError } from '../errors/errors.js';
import { label, type ActorRecord, type ActorResult, type Call } from './actor-record.js';
import type { AgentLink } from './link.js';
import { depsOf, type ObjectDirectory } from './object-directory.js';
import { checkSize } from './pack.js';

/**
 * The calls of actors, from programs and from tasks holding handles: each waits for its ref
 * arguments (in call order), goes to the actor's agent once it is alive, and is answered from
 * that agent's `done`/`failed` only. Arguments and results stay packed.
 */
export class ActorCalls {
  /** Call id → actor, to route `done`/`failed`. */
  private readonly calls = new Map<string, ActorRecord>();

  constructor(
    private readonly actors: ReadonlyMap<string, ActorRecord>,
    private readonly objects: ObjectDirectory,
    private readonly maxFrameBytes: number,
  ) {}

  /**
   * Calls a method with packed arguments; resolves with the packed result. `sent` hears the
   * call's id at once (its output carries it).
   */
  call(actorId: string, method: string, args: Uint8Array, sent?: (callId: string) => void, refs: readonly string[] = [], lazy: readonly string[] = []): Promise<ActorResult> {
    const record = this.actors.get(actorId);
    if (!record || record.state === 'dead') {
      const who = record ? label(record) : actorId;
      return Promise.reject(new ActorDiedError(`actor ${who} is dead${record?.lastCause ? `: ${record.lastCause}` : ''}`, actorId));
    }
    try {
      checkSize(args.byteLength, this.maxFrameBytes, `the arguments of ${record.code.name}.${method}`, 'arguments');
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      const call: Call = { id: nanoid(12), method, args, refs, lazy, deps: [], resolve, reject };
      sent?.(call.id);
      if (refs.length === 0 && record.gated.length === 0) {
        this.dispatch(record, call);
        return;
      }
      for (const ref of refs) this.objects.pin(ref);
      const unpin = (): void => {
        for (const ref of refs) this.objects.unpin(ref);
      };
      call.resolve = (v) => (unpin(), resolve(v));
      call.reject = (e) => (unpin(), reject(e));
      record.gated.push(call);
      if (record.gated.length === 1) this.ungate(record);
    });
  }

  private dispatch(record: ActorRecord, call: Call): void {
    if (record.state === 'alive' && record.link) this.send(record, call);
    else record.backlog.push(call);
  }

  /** The first gated call goes once its refs exist (or fails if one cannot), then the next. */
  private ungate(record: ActorRecord): void {
    const head = record.gated[0];
    if (!head) return;
    this.objects.ready(head.refs).then(
      () => {
        if (record.gated[0] !== head) return; // buried meanwhile
        record.gated.shift();
        head.deps = depsOf(this.objects, head.refs, head.lazy);
        this.dispatch(record, head);
        this.ungate(record);
      },
      (err: unknown) => {
        if (record.gated[0] !== head) return;
        record.gated.shift();
        head.reject(err);
        this.ungate(record);
      },
    );
  }

  /** Returns false when the id is not an actor call of this agent's (it is a task's). */
  onDone(link: AgentLink, msg: Done): boolean {
    const found = this.takeCall(link, msg.id);
    if (!found) return false;
    const { record, call } = found;
    record.callsServed++;
    const refs = msg.refs ?? [];
    for (const ref of refs) this.objects.pin(ref);
    call.resolve({ value: msg.value, refs });
    return true;
  }

  onFailed(link: AgentLink, msg: Failed): boolean {
    const found = this.takeCall(link, msg.id);
    if (!found) return false;
    const { record, call } = found;
    const what = `${record.code.name}.${call.method} on actor ${record.id}`;
    switch (msg.kind) {
      case 'exception':
        record.callsServed++;
        call.reject(new RemoteError(msg.error, { taskId: what, agentId: link.id }));
        return true;
      case 'timeout':
        call.reject(new TimeoutError(`${what}: ${msg.error.message}`, record.spec.timeoutMs ?? 0));
        return true;
      case 'value':
        record.callsServed++;
        call.reject(valueError(msg.error, what));
        return true;
      default:
        call.reject(new ActorDiedError(`${what} did not complete: ${msg.error.message}`, record.id));
        return true;
    }
  }

  /**
   * Forgets a call once it is answered; undefined when the id is not an actor call sent to this
   * agent (a result for another agent's call is forged or stale, and is not believed).
   */
  private takeCall(link: AgentLink, id: string): { record: ActorRecord; call: Call } | undefined {
    // Every task's result asks here first: without actor calls, no lookup.
    if (this.calls.size === 0) return undefined;
    const record = this.calls.get(id);
    const call = record?.inflight.get(id);
    if (!record || !call || record.link !== link) return undefined;
    this.calls.delete(id);
    record.inflight.delete(id);
    return { record, call };
  }

  /** A task on `link` calls an actor through a handle: run it and answer that agent. */
  onRequest(link: AgentLink, msg: ActorRequest): void {
    const reply = (value: Uint8Array | null, error: RemoteErrorInfo | null): void => link.send({ type: 'actor-reply', id: msg.id, value, error });
    // The refs a task passes are its to give: they count like the caller's while the call waits.
    this.call(msg.actorId, msg.method, msg.args, undefined, msg.refs ?? [], msg.lazy ?? []).then(
      (result) => {
        // A task holds no handles: what it is given lives while its own arguments or result do.
        for (const ref of result.refs) this.objects.unpin(ref);
        reply(result.value, null);
      },
      (err: unknown) => {
        const e = err as ClustrixError & { remoteName?: string; remoteMessage?: string; remoteStack?: string };
        reply(null, e.remoteName ? { name: e.remoteName, message: e.remoteMessage ?? e.message, stack: e.remoteStack } : { name: e.name, message: e.message, code: e.code });
      },
    );
  }

  /** Sends every call made while the actor (re)started. */
  flush(record: ActorRecord): void {
    for (const call of record.backlog.splice(0)) this.send(record, call);
  }

  /** The actor's in-flight calls fail with `error(method)` (its incarnation ended). */
  failInflight(record: ActorRecord, error: (call: Call) => Error): void {
    for (const call of record.inflight.values()) {
      this.calls.delete(call.id);
      call.reject(error(call));
    }
    record.inflight.clear();
  }

  private send(record: ActorRecord, call: Call): void {
    const link = record.link!;
    record.inflight.set(call.id, call);
    this.calls.set(call.id, record);
    link.send({ type: 'actor-call', id: call.id, actorId: record.id, method: call.method, args: call.args, timeoutMs: record.spec.timeoutMs, deps: call.deps });
  }
}
