import { ObjectRefData, registerObjectRefClass, revivingRefs } from '../../protocol/object-ref.js';
import { unpackValue } from '../../protocol/values.js';

/** The bytes of the objects one task's arguments refer to, fetched by the agent before it started. */
export type DepBytes = ReadonlyMap<string, Uint8Array>;

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
    return unpackArgs(bytes, this.deps) as T;
  }
}

registerObjectRefClass(AgentObjectRef);

/** Unpacks bytes with the refs inside them as refs this task can await. */
export function unpackArgs(bytes: Uint8Array, deps: DepBytes): unknown {
  return revivingRefs((ref: ObjectRefData) => new AgentObjectRef(ref.objectId, deps), () => unpackValue(bytes));
}

/** A top-level ref argument arrives as its value; nested ones stay refs. */
export function resolveTopLevel(args: unknown[]): unknown[] {
  return args.map((a) => (a instanceof AgentObjectRef ? (a as AgentObjectRef).value() : a));
}
