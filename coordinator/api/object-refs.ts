import { nanoid } from 'nanoid';
import { ObjectRefData, registerObjectRefClass } from '../../protocol/object-ref.js';
import { showOnly } from '../util/show-only.js';

/** What a ref needs of its cluster: its value, and its release. */
interface RefOwner {
  value(ref: ObjectRef): Promise<unknown>;
  free(ref: ObjectRef): Promise<void>;
}

const owners = new WeakMap<ObjectRef, RefOwner>();

/**
 * A value kept on the cluster (`cluster.put`, or a task's result): `await ref` gives the value,
 * fetched only then (once per ref); passed as an argument of a task it is resolved on the agent,
 * not through this program. Freed by `free()`, or when this program drops its last ref to it (GC).
 */
export class ObjectRef<T = unknown> implements PromiseLike<T> {
  static {
    showOnly(this.prototype, 'ObjectRef', (r) => ({ objectId: r.objectId }));
  }

  /** @internal */
  constructor(
    readonly objectId: string,
    owner: RefOwner,
  ) {
    owners.set(this, owner);
  }

  then<A = T, B = never>(onValue?: ((value: T) => A | PromiseLike<A>) | null, onError?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return (owners.get(this)!.value(this) as Promise<T>).then(onValue, onError);
  }

  /** Releases this program's hold; the value is freed everywhere once nothing else needs it. Idempotent. */
  free(): Promise<void> {
    return owners.get(this)!.free(this);
  }
}

/** The result of `cluster.submit`: the task runs now; `await ref` gives its result. */
export class TaskRef<T = unknown> extends ObjectRef<T> {
  static {
    showOnly(this.prototype, 'TaskRef', (r) => ({ objectId: r.objectId }));
  }
}

registerObjectRefClass(ObjectRef);
registerObjectRefClass(TaskRef);

/** The ids of a caller's objects: unguessable (whoever holds one may read the value). */
export function newObjectId(): string {
  return nanoid(21);
}

export interface RefTransport {
  get(objectId: string): Promise<Uint8Array>;
  /** Releases handles (batched). */
  free(objectIds: string[]): Promise<void>;
  unpack(bytes: Uint8Array, what: string): unknown;
}

/**
 * One cluster's live refs: one object per id (a ref revived from a result is the one this program
 * already has), values fetched once per ref, and the handles released when a ref is freed or
 * garbage-collected (FinalizationRegistry), in batches.
 */
export class ClusterRefs implements RefOwner {
  private readonly live = new Map<string, WeakRef<ObjectRef>>();
  /** Per ref: what must succeed before its value exists (its submit or put), and its value once asked. */
  private readonly state = new WeakMap<ObjectRef, { made: Promise<unknown>; value: Promise<unknown> | null }>();
  private readonly registry = new FinalizationRegistry<string>((id) => this.collected(id));
  private toFree = new Set<string>();
  private flushQueued = false;

  constructor(private readonly transport: RefTransport) {}

  /** A ref for a new object this program made; `made` settles when the cluster has taken it. */
  create<R extends ObjectRef>(Kind: new (id: string, owner: RefOwner) => R, objectId: string, made: Promise<unknown>): R {
    made.catch(() => undefined);
    const ref = new Kind(objectId, this);
    this.track(ref, made);
    return ref;
  }

  /** A ref met inside a result: the live one for its id, or a new one (the cluster holds it for this program). */
  revive(data: ObjectRefData): ObjectRef {
    const known = this.live.get(data.objectId)?.deref();
    if (known) return known;
    const ref = new ObjectRef(data.objectId, this);
    this.track(ref, Promise.resolve());
    return ref;
  }

  value(ref: ObjectRef): Promise<unknown> {
    const s = this.state.get(ref);
    if (!s) return Promise.reject(new Error('unreachable: a ref without state'));
    s.value ??= s.made.then(() => this.transport.get(ref.objectId)).then((bytes) => this.transport.unpack(bytes, `the value of ref ${ref.objectId}`));
    return s.value;
  }

  async free(ref: ObjectRef): Promise<void> {
    if (this.live.get(ref.objectId)?.deref() !== ref) return;
    this.live.delete(ref.objectId);
    this.registry.unregister(ref);
    await this.transport.free([ref.objectId]);
  }

  /** Ids of the live refs (for a cluster that closes). */
  get size(): number {
    return this.live.size;
  }

  private track(ref: ObjectRef, made: Promise<unknown>): void {
    this.live.set(ref.objectId, new WeakRef(ref));
    this.state.set(ref, { made, value: null });
    this.registry.register(ref, ref.objectId, ref);
  }

  private collected(objectId: string): void {
    if (this.live.get(objectId)?.deref()) return; // a newer ref of the same id lives
    this.live.delete(objectId);
    this.toFree.add(objectId);
    if (this.flushQueued) return;
    this.flushQueued = true;
    setTimeout(() => {
      this.flushQueued = false;
      const ids = [...this.toFree];
      this.toFree = new Set();
      this.transport.free(ids).catch(() => undefined);
    }, 0).unref();
  }
}

export { ObjectRefData };

/** Arguments as a call takes them: each one a value, or a ref to one (resolved on the agent). */
export type RefArgs<A extends unknown[]> = { [K in keyof A]: A[K] | ObjectRef<A[K]> };
