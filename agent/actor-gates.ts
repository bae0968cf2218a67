import type { ActorCall } from '../protocol/actor-messages.js';
import type { Dep } from '../protocol/object-messages.js';

const NO_DEPS: ReadonlyMap<string, Uint8Array> = new Map();

/**
 * A call goes to its actor once its arguments' values are here; calls of one actor stay in
 * order, so one waiting for a fetch holds back those after it.
 */
export class ActorGates {
  /** Per actor: the end of its calls waiting for their arguments' values. */
  private readonly gates = new Map<string, Promise<void>>();

  constructor(
    private readonly resolve: (deps: readonly Dep[]) => Promise<Map<string, Uint8Array>>,
    private readonly deliver: (call: ActorCall, deps: ReadonlyMap<string, Uint8Array>) => void,
    private readonly lost: (call: ActorCall, err: Error) => void,
  ) {}

  /** `eager`: the call's top-level ref arguments, fetched before it is delivered. */
  call(call: ActorCall, eager: readonly Dep[]): void {
    const gate = this.gates.get(call.actorId);
    if (eager.length === 0 && !gate) {
      this.deliver(call, NO_DEPS);
      return;
    }
    const next = (gate ?? Promise.resolve()).then(async () => {
      let deps: Map<string, Uint8Array>;
      try {
        deps = await this.resolve(eager);
      } catch (err) {
        this.lost(call, err as Error);
        return;
      }
      this.deliver(call, deps);
    });
    this.gates.set(call.actorId, next);
    void next.then(() => {
      if (this.gates.get(call.actorId) === next) this.gates.delete(call.actorId);
    });
  }
}
