import { unpackValue, type ActorRefReviver } from '../../protocol/values.js';
import { packArguments } from '../engine/pack.js';
import { ResultDecodeError } from '../errors/errors.js';

/**
 * How one cluster packs what it sends and unpacks what comes back: arguments checked against the
 * other end's frame limit, actor handles inside results revived as this cluster's handles.
 */
export class Values {
  constructor(
    private readonly maxFrameBytes: number,
    private readonly revive: ActorRefReviver,
  ) {}

  packArgs(args: unknown[], what: string): Uint8Array {
    return packArguments(args, this.maxFrameBytes, what);
  }

  unpack(bytes: Uint8Array, what: string): unknown {
    try {
      return unpackValue(bytes, this.revive);
    } catch (cause) {
      throw new ResultDecodeError(`${what} could not be decoded: ${(cause as Error).message}`, { cause });
    }
  }
}
