import { collectingRefs, revivingRefs, type ObjectRefReviver } from '../../protocol/object-ref.js';
import { unpackValue, type ActorRefReviver } from '../../protocol/values.js';
import { packArguments } from '../engine/pack.js';
import { ResultDecodeError } from '../errors/errors.js';

/** Packed arguments and the ids of the refs inside them (the engine resolves them before the task runs). */
export interface PackedArgs {
  bytes: Uint8Array;
  refs: string[];
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

  packArgs(args: unknown[], what: string): PackedArgs {
    const { value, refs } = collectingRefs(() => packArguments(args, this.maxFrameBytes, what));
    return { bytes: value, refs };
  }

  unpack(bytes: Uint8Array, what: string): unknown {
    try {
      return revivingRefs(this.reviveRef, () => unpackValue(bytes, this.revive));
    } catch (cause) {
      throw new ResultDecodeError(`${what} could not be decoded: ${(cause as Error).message}`, { cause });
    }
  }
}
