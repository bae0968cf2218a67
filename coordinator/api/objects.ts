import { collectingRefs } from '../../protocol/object-ref.js';
import type { ObjectStats } from '../../protocol/rows.js';
import { MAX_TIMER_MS } from '../../protocol/durations.js';
import { checkSize } from '../engine/pack.js';
import { ClustrixError, ConfigError } from '../errors/errors.js';
import { packValue } from '../../protocol/values.js';
import type { Transport } from '../transport/transport.js';
import { ClusterRefs, newObjectId, ObjectRef, type RefTransport } from './object-refs.js';

/** Options of `cluster.wait`. */
export interface WaitOptions {
  /** Settle once this many refs are done (made or failed). @default all of them */
  count?: number;
  /** Settle after this long even when fewer are done, ms. @default no limit */
  timeoutMs?: number;
}

/** What `cluster.wait` settles with: the refs done (made or failed) and the rest, each in input order. */
export interface WaitResult<R extends ObjectRef = ObjectRef> {
  ready: R[];
  pending: R[];
}

/**
 * A cluster's object refs, either transport: `put` values, waiting for the first k of n, and the
 * live refs (ClusterRefs) that fetch values on `await` and release their handles when freed or
 * collected.
 */
export class ClusterObjects {
  readonly refs: ClusterRefs;

  constructor(
    private readonly transport: Transport,
    unpack: RefTransport['unpack'],
    private readonly isClosed: () => boolean,
  ) {
    this.refs = new ClusterRefs({
      get: (id) => transport.call('objectGet', id),
      // A closed cluster has released everything already.
      free: async (ids) => {
        if (ids.length === 0 || this.isClosed()) return;
        await transport.call('objectFree', ids);
      },
      unpack,
    });
  }

  put<T>(value: T): ObjectRef<T> {
    let packed: { value: Uint8Array; refs: string[] };
    try {
      packed = collectingRefs(() => packValue(value));
    } catch (cause) {
      throw new ClustrixError('ARGS_NOT_SERIALIZABLE', `the value given to cluster.put cannot be serialized: ${(cause as Error).message}`, {
        cause,
        hint: 'put data (objects, arrays, Map, Set, Date, typed arrays, BigInt), not functions or sockets',
      });
    }
    checkSize(packed.value.byteLength, this.transport.info.maxFrameBytes, 'the value given to cluster.put', 'arguments');
    const id = newObjectId();
    const made = this.transport.call('put', id, packed.value, packed.refs);
    return this.refs.create(ObjectRef, id, made) as ObjectRef<T>;
  }

  async wait<R extends ObjectRef>(refs: readonly R[], options: WaitOptions = {}): Promise<WaitResult<R>> {
    if (!Array.isArray(refs) || refs.some((r) => !(r instanceof ObjectRef))) throw new ConfigError('cluster.wait needs an array of refs (from cluster.submit or cluster.put)');
    const count = options.count ?? refs.length;
    if (!Number.isInteger(count) || count < 1) throw new ConfigError(`wait: options.count must be a positive integer, got ${String(options.count)}`);
    const timeoutMs = options.timeoutMs ?? null;
    if (timeoutMs !== null && (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_TIMER_MS)) {
      throw new ConfigError(`wait: options.timeoutMs must be an integer from 0 to ${MAX_TIMER_MS} ms, got ${String(timeoutMs)}`);
    }
    if (refs.length === 0) return { ready: [], pending: [] };
    const done = new Set(await this.transport.call('objectWait', refs.map((r) => r.objectId), Math.min(count, refs.length), timeoutMs));
    const ready: R[] = [];
    const pending: R[] = [];
    for (const r of refs) (done.has(r.objectId) ? ready : pending).push(r);
    return { ready, pending };
  }

  /**
   * Yields each ref as it is done (made or failed), in completion order. Not an async generator:
   * `yield` there awaits a thenable, and a ref must arrive as itself.
   */
  asCompleted<R extends ObjectRef>(refs: readonly R[]): AsyncIterableIterator<R> {
    let pending = [...refs];
    let ready: R[] = [];
    const next = async (): Promise<IteratorResult<R>> => {
      while (ready.length === 0 && pending.length > 0) {
        const round = await this.wait(pending, { count: 1 });
        ready = round.ready;
        pending = round.pending;
      }
      const value = ready.shift();
      return value === undefined ? { done: true, value: undefined } : { done: false, value };
    };
    return {
      next,
      return: async () => {
        pending = [];
        ready = [];
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  stats(): Promise<ObjectStats> {
    return this.transport.call('objectStats');
  }
}
