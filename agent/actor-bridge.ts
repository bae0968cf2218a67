import { threadId } from 'node:worker_threads';
import type { RemoteErrorInfo } from '../protocol/common.js';
import { collectingRefs, nestedOnlyRefs } from '../protocol/object-ref.js';
import { findUnsendable } from '../protocol/sendable.js';
import { ActorRef, packValue, registerActorHandleClass, setActorRefReviver, unpackValue } from '../protocol/values.js';

/** A task's request to call an actor through a handle it was given (thread → agent main thread). */
export interface ActorRequestFromThread {
  type: 'actor-request';
  id: string;
  actorId: string;
  method: string;
  args: Uint8Array;
  /** Ids of the object refs inside `args`, and those of them only nested. */
  refs: string[];
  lazy: string[];
}

/** The answer (agent main thread → thread). */
export interface ActorReplyToThread {
  type: 'actor-reply';
  id: string;
  value: Uint8Array | null;
  error: RemoteErrorInfo | null;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: unknown) => void };

let post: ((msg: ActorRequestFromThread) => void) | null = null;
const pending = new Map<string, Pending>();
let counter = 0;

/**
 * An actor handle inside a task or another actor: calls travel to the agent's main thread, then to
 * the coordinator, which routes them to the actor wherever it lives (and across its restarts).
 */
export class RemoteActorHandle {
  readonly actorRef: ActorRef;
  readonly proxy: Record<string, (...args: unknown[]) => Promise<unknown>>;

  constructor(ref: ActorRef) {
    this.actorRef = ref;
    this.proxy = new Proxy({} as Record<string, (...args: unknown[]) => Promise<unknown>>, {
      get: (_, method) => (typeof method === 'string' && method !== 'then' && method !== 'toJSON' ? (...args: unknown[]) => this.call(method, ...args) : undefined),
    });
  }

  get id(): string {
    return this.actorRef.actorId;
  }

  get name(): string | null {
    return this.actorRef.name;
  }

  call(method: string, ...args: unknown[]): Promise<unknown> {
    if (!post) return Promise.reject(new Error('actor handles can be called only inside tasks and actors'));
    const bad = findUnsendable(args, 'args');
    if (bad) {
      const err = Object.assign(new Error(`the arguments of ${method} cannot travel: ${bad.path} is ${bad.what}; ${bad.hint}`), { code: 'ARGS_NOT_SERIALIZABLE', path: bad.path });
      err.name = 'ArgsNotSerializableError';
      return Promise.reject(err);
    }
    const id = `r${threadId}-${++counter}`;
    const send = post;
    let packed: { value: Uint8Array; refs: string[] };
    try {
      // Refs among them (the task's own arguments, passed on) resolve on the actor's agent.
      packed = collectingRefs(() => packValue(args));
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      send({ type: 'actor-request', id, actorId: this.actorRef.actorId, method, args: packed.value, refs: packed.refs, lazy: nestedOnlyRefs(args, packed.refs) });
    });
  }
}

/** Wires handles in this thread to the agent's main thread. Call once per thread. */
export function installActorBridge(send: (msg: ActorRequestFromThread) => void): void {
  post = send;
  registerActorHandleClass(RemoteActorHandle);
  setActorRefReviver((ref) => new RemoteActorHandle(ref));
}

export function onActorReply(msg: ActorReplyToThread): void {
  const p = pending.get(msg.id);
  if (!p) return;
  pending.delete(msg.id);
  if (msg.error) {
    const err = new Error(msg.error.message);
    err.name = msg.error.name;
    if (msg.error.stack) err.stack = msg.error.stack;
    if (msg.error.code) Object.assign(err, { code: msg.error.code });
    p.reject(err);
  } else {
    try {
      p.resolve(msg.value ? unpackValue(msg.value) : undefined);
    } catch (err) {
      p.reject(err);
    }
  }
}
