import { collectingRefs, nestedOnlyRefs, revivingRefs, type ObjectRefReviver } from '../../protocol/object-ref.js';
import { primitiveList, unpackOwnedValue, unpackValue, type ActorRefReviver } from '../../protocol/values.js';
import { nameOf, packArguments, packPrimitiveArguments, type Named } from '../engine/pack.js';
import { ResultDecodeError } from '../errors/errors.js';

/** Packed arguments and the ids of the refs inside them (the engine resolves them before the task runs). */
export interface PackedArgs {
  bytes: Uint8Array;
  refs: string[];
  /** Those of `refs` only nested inside an argument: fetched on the agent only if the task awaits them. */
  lazy: string[];
}

/**
 * How one cluster packs what it sends and unpacks what comes back: arguments checked against the
 * other end's frame limit, actor handles and object refs inside results revived as this cluster's.
 */
export class Values {
  constructor(
    private readonly maxFrameBytes: number,
    private readonly revive: ActorRefReviver,
    private readonly reviveRef: ObjectRefReviver,
  ) {}

  /** `chunk`: `args` is a list of argument lists (a chunk task's calls). */
  packArgs(args: unknown[], what: Named, chunk = false): PackedArgs {
    if (!chunk && primitiveList(args)) return { bytes: packPrimitiveArguments(args, this.maxFrameBytes, what), refs: [], lazy: [] };
    const name = nameOf(what);
    const { value, refs } = collectingRefs(() => packArguments(args, this.maxFrameBytes, name));
    return { bytes: value, refs, lazy: nestedOnlyRefs(args, refs, chunk) };
  }

  /**
   * `own`: these bytes were delivered for this call alone and nothing keeps them (a task's result
   * that is not a kept object), so large typed arrays in the value view them instead of copying.
   */
  unpack(bytes: Uint8Array, what: string, own = false): unknown {
    return this.decode(bytes, what, own);
  }

  /** {@link unpack} of the result of `task` (named "the result of ..." if it cannot be decoded). */
  unpackResult(bytes: Uint8Array, task: Named, own = false): unknown {
    return this.decode(bytes, task, own, 'the result of ');
  }

  private decode(bytes: Uint8Array, what: Named, own: boolean, prefix = ''): unknown {
    const unpack = own ? unpackOwnedValue : unpackValue;
    try {
      return revivingRefs(this.reviveRef, () => unpack(bytes, this.revive));
    } catch (cause) {
      throw new ResultDecodeError(`${prefix}${nameOf(what)} could not be decoded: ${(cause as Error).message}`, { cause });
    }
  }
}
