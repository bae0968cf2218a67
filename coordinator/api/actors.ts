import type { ActorInfo } from '../../protocol/rows.js';
import type { ActorRef } from '../../protocol/values.js';
import type { ShippedCode } from '../engine/task.js';
import { ActorDiedError } from '../errors/errors.js';
import type { Transport } from '../transport/transport.js';
import { ActorHandle, type ActorBackend, type ActorState } from './actor-handle.js';
import type { ResolvedActorOptions } from './actor-options.js';
import type { Values } from './values.js';

interface Known {
  handle: ActorHandle;
  state: ActorState;
  restarts: number;
  restoredFrom: number | null;
}

/**
 * A cluster's actors, for either transport: handles are made here (one per actor), calls go
 * through the transport with packed arguments, and `state` / `restarts` follow the actor events
 * the transport delivers, so a handle reads the same in both modes.
 */
export class ClusterActors implements ActorBackend {
  private readonly known = new Map<string, Known>();
  private closed = false;

  constructor(
    private readonly transport: Transport,
    private readonly values: Values,
  ) {}

  async create(code: ShippedCode, exportName: string | null, options: ResolvedActorOptions): Promise<ActorHandle> {
    // Ref arguments resolve on the actor's agent before its constructor runs (at each restart too).
    const packed = this.values.packArgs(options.args, `the constructor of ${code.name}`);
    this.transport.ship(code);
    const { name, maxRestarts, maxConcurrency, agent, getIfExists, timeoutMs, resources, checkpointEvery, checkpointMs, pool } = options;
    const refs = packed.refs.length > 0 ? { refs: packed.refs, lazy: packed.lazy } : {};
    const info = await this.transport.call('actorCreate', { code: code.hash, export: exportName, args: packed.bytes, ...refs, maxConcurrency, name, maxRestarts, agent, getIfExists, timeoutMs, resources, checkpointEvery, checkpointMs, pool });
    return this.adopt(info);
  }

  async get(name: string): Promise<ActorHandle | undefined> {
    const info = await this.transport.call('actorGet', name);
    return info ? this.adopt(info) : undefined;
  }

  async list(): Promise<ActorInfo[]> {
    const rows = await this.transport.call('actorList');
    for (const row of rows) this.update(row);
    return rows;
  }

  async call(actorId: string, method: string, args: unknown[]): Promise<unknown> {
    // Answered here, not by the other end: a closed embedded engine and a detached connection
    // would answer differently (ACTOR_DIED vs CLUSTER_CLOSED), and the handle says 'dead' in both.
    if (this.closed) throw new ActorDiedError(`actor ${actorId} is dead: its cluster was closed`, actorId, { hint: 'create actors on an open cluster' });
    const packed = this.values.packArgs(args, `${method} on actor ${actorId}`);
    return this.values.unpack(await this.transport.call('actorCall', actorId, method, packed.bytes, packed.refs, packed.lazy), `the result of ${method} on actor ${actorId}`);
  }

  async kill(actorId: string): Promise<void> {
    await this.transport.call('actorKill', actorId);
    const k = this.known.get(actorId);
    if (k) k.state = 'dead';
  }

  restartsOf(actorId: string): number {
    return this.known.get(actorId)?.restarts ?? 0;
  }

  restoredFromOf(actorId: string): number | null {
    return this.known.get(actorId)?.restoredFrom ?? null;
  }

  stateOf(actorId: string): ActorState {
    return this.known.get(actorId)?.state ?? 'dead';
  }

  /** An actor changed (the transport's event). */
  update(info: ActorInfo): void {
    const k = this.known.get(info.id);
    if (!k || k.state === 'dead') return; // dead is final
    k.state = info.state;
    k.restarts = info.restarts;
    k.restoredFrom = info.restoredFrom;
  }

  /** A handle that came back inside a result: this cluster's handle of that actor. */
  revive(ref: ActorRef): ActorHandle {
    const k = this.known.get(ref.actorId);
    if (k) return k.handle;
    const handle = new ActorHandle(ref.actorId, ref.name, ref.name ?? 'actor', this);
    // Alive until an event or a call says otherwise: it was alive when it was packed.
    this.known.set(ref.actorId, { handle, state: 'alive', restarts: 0, restoredFrom: null });
    return handle;
  }

  /** This cluster was closed: its actors are dead to it, in either mode. */
  closeAll(): void {
    this.closed = true;
    this.lostAll();
  }

  /** The transport is gone: no actor can be reached through it any more. */
  lostAll(): void {
    for (const k of this.known.values()) k.state = 'dead';
  }

  private adopt(info: ActorInfo): ActorHandle {
    let k = this.known.get(info.id);
    if (!k) {
      k = { handle: new ActorHandle(info.id, info.name, info.className, this), state: info.state, restarts: info.restarts, restoredFrom: info.restoredFrom };
      this.known.set(info.id, k);
    } else {
      this.update(info);
    }
    return k.handle;
  }
}
