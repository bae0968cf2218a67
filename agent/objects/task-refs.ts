import { ObjectRefData, registerObjectRefClass, revivingRefs } from '../../protocol/object-ref.js';
import { unpackOwnedValue, unpackValue } from '../../protocol/values.js';
import { readObject } from './object-reads.js';

/** The bytes of the objects one task's top-level ref arguments name, fetched by the agent before it started. */
export type DepBytes = ReadonlyMap<string, Uint8Array>;

/** Dep bytes made for this thread alone (see ownDeps). */
const owned = new WeakSet<Uint8Array>();

/**
 * Marks `deps` as copies this thread owns: the first read of each then views its bytes in place
 * instead of copying them out; a later read of the same object (a ref awaited twice, the items of a
 * chunk) copies, so no two reads share memory.
 */
export function ownDeps(deps: DepBytes): void {
  for (const bytes of deps.values()) owned.add(bytes);
}

/**
 * A ref as a task sees it: nested inside an argument, it is a thenable that gives the value, read
 * only when awaited (from the agent's store, a peer, or the coordinator); returned or passed on,
 * it packs as the same ref. `context`: the task (or actor call) it came with.
 */
export class AgentObjectRef<T = unknown> implements PromiseLike<T> {
  constructor(
    readonly objectId: string,
    private readonly deps: DepBytes,
    private readonly context: string,
  ) {}

  then<A = T, B = never>(onValue?: ((value: T) => A | PromiseLike<A>) | null, onError?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    const bytes = this.deps.get(this.objectId);
    const value = bytes
      ? new Promise<T>((resolve) => resolve(this.value()))
      : readObject(this.objectId, this.context).then((read) => unpackArgs(read, this.deps, true, this.context) as T);
    return value.then(onValue, onError);
  }

  /** The value of a top-level ref argument (its bytes came with the task), decoded now. */
  value(): T {
    const bytes = this.deps.get(this.objectId);
    if (!bytes) throw Object.assign(new Error(`object ${this.objectId} was not fetched for this task (only its top-level ref arguments are)`), { code: 'OBJECT_LOST' });
    return unpackArgs(bytes, this.deps, owned.delete(bytes), this.context) as T;
  }
}

registerObjectRefClass(AgentObjectRef);

/**
 * Unpacks bytes with the refs inside them as refs this task can await. `own`: the bytes are this
 * call's alone (arguments sent for it), so large typed arrays view them instead of copying.
 */
export function unpackArgs(bytes: Uint8Array, deps: DepBytes, own: boolean, context: string): unknown {
  const unpack = own ? unpackOwnedValue : unpackValue;
  return revivingRefs((ref: ObjectRefData) => new AgentObjectRef(ref.objectId, deps, context), () => unpack(bytes));
}

/** A top-level ref argument arrives as its value; nested ones stay refs. */
export function resolveTopLevel(args: unknown[]): unknown[] {
  return args.map((a) => (a instanceof AgentObjectRef ? (a as AgentObjectRef).value() : a));
}
