import { ObjectRefData, registerObjectRefClass, revivingRefs } from '../../protocol/object-ref.js';
import { unpackOwnedValue, unpackValue } from '../../protocol/values.js';

/** The bytes of the objects one task's arguments refer to, fetched by the agent before it started. */
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
 * A ref as a task sees it: nested inside an argument, it is a thenable that gives the value (its
 * bytes were fetched before the task started); returned or passed on, it packs as the same ref.
 */
export class AgentObjectRef<T = unknown> implements PromiseLike<T> {
  constructor(
    readonly objectId: string,
    private readonly deps: DepBytes,
  ) {}

  then<A = T, B = never>(onValue?: ((value: T) => A | PromiseLike<A>) | null, onError?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return new Promise<T>((resolve) => resolve(this.value())).then(onValue, onError);
  }

  /** The value, decoded now (refs inside it revive against the same bytes). */
  value(): T {
    const bytes = this.deps.get(this.objectId);
    if (!bytes) throw Object.assign(new Error(`object ${this.objectId} was not fetched for this task (only refs inside its arguments are)`), { code: 'OBJECT_LOST' });
    return unpackArgs(bytes, this.deps, owned.delete(bytes)) as T;
  }
}

registerObjectRefClass(AgentObjectRef);

/**
 * Unpacks bytes with the refs inside them as refs this task can await. `own`: the bytes are this
 * call's alone (arguments sent for it), so large typed arrays view them instead of copying.
 */
export function unpackArgs(bytes: Uint8Array, deps: DepBytes, own = false): unknown {
  const unpack = own ? unpackOwnedValue : unpackValue;
  return revivingRefs((ref: ObjectRefData) => new AgentObjectRef(ref.objectId, deps), () => unpack(bytes));
}

/** A top-level ref argument arrives as its value; nested ones stay refs. */
export function resolveTopLevel(args: unknown[]): unknown[] {
  return args.map((a) => (a instanceof AgentObjectRef ? (a as AgentObjectRef).value() : a));
}
