import { nanoid } from 'nanoid';
import type { ActorRow, ActorsReply, ActorUpdate, TaskDone } from '../../protocol/client-messages.js';
import { unpackValue } from '../../protocol/values.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../../protocol/version.js';
import { packArguments } from '../engine/pack.js';
import { ActorHandle, type ActorBackend, type ActorState } from '../api/actor-handle.js';
import type { ActorInfo, ResolvedActorOptions } from '../engine/actor-manager.js';
import { ClustrixError } from '../errors/errors.js';
import type { ShippedCode } from '../engine/task.js';
import type { ServiceConnection } from './connection.js';

interface Known {
  handle: ActorHandle;
  state: ActorState;
  restarts: number;
}

/**
 * The actors of a connected client: an {@link ActorBackend} over the service connection, so the
 * handles are the same {@link ActorHandle} class an embedded cluster hands out. Calls, kills and
 * lookups go to the service; `state` and `restarts` are kept here from the service's pushes.
 */
export class ClientActors implements ActorBackend {
  /** Handles this client holds, by actor id: one handle per actor. */
  private readonly known = new Map<string, Known>();

  constructor(private readonly conn: ServiceConnection) {}

  async create(code: ShippedCode, exportName: string | null, options: ResolvedActorOptions): Promise<ActorHandle> {
    const { args, ...wire } = options;
    const packed = packArguments(args, DEFAULT_MAX_FRAME_BYTES, `the constructor of ${code.name}`);
    const reply = (await this.conn.request({ type: 'actor-create', id: nanoid(12), code: code.hash, export: exportName, args: packed, options: wire }, code)) as ActorsReply;
    const row = reply.actors[0];
    if (!row) throw new ClustrixError('PROTOCOL_ERROR', 'the service answered actor-create without the actor');
    return this.adopt(row);
  }

  async get(name: string): Promise<ActorHandle | undefined> {
    const reply = (await this.conn.request({ type: 'actor-get', id: nanoid(12), name })) as ActorsReply;
    const row = reply.actors[0];
    return row ? this.adopt(row) : undefined;
  }

  async list(): Promise<ActorInfo[]> {
    const reply = (await this.conn.request({ type: 'actor-list', id: nanoid(12) })) as ActorsReply;
    for (const row of reply.actors) this.update(row.id, row.state, row.restarts);
    return reply.actors.map((r) => ({ ...r }));
  }

  call(actorId: string, method: string, args: unknown[]): Promise<unknown> {
    let packed: Uint8Array;
    try {
      packed = packArguments(args, DEFAULT_MAX_FRAME_BYTES, `${method} on actor ${actorId}`);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.conn.request({ type: 'actor-call', id: nanoid(12), actorId, method, args: packed }).then(
      (m) => {
        try {
          return unpackValue((m as TaskDone).value);
        } catch (cause) {
          throw new ClustrixError('RESULT_DECODE_FAILED', `the result of ${method} on actor ${actorId} could not be decoded`, { cause });
        }
      },
    );
  }

  async kill(actorId: string): Promise<void> {
    this.update(actorId, 'dead', undefined);
    await this.conn.request({ type: 'actor-kill', id: nanoid(12), actorId });
  }

  restartsOf(actorId: string): number {
    return this.known.get(actorId)?.restarts ?? 0;
  }

  stateOf(actorId: string): ActorState {
    return this.known.get(actorId)?.state ?? 'dead';
  }

  /** The service pushed a change of an actor this client holds. */
  onUpdate(m: ActorUpdate): void {
    this.update(m.actorId, m.state, m.restarts);
  }

  /** The connection is gone: no actor can be reached through it any more. */
  onClosed(): void {
    for (const k of this.known.values()) k.state = 'dead';
  }

  private adopt(row: ActorRow): ActorHandle {
    let k = this.known.get(row.id);
    if (!k) {
      k = { handle: new ActorHandle(row.id, row.name, row.className, this), state: row.state, restarts: row.restarts };
      this.known.set(row.id, k);
    } else {
      this.update(row.id, row.state, row.restarts);
    }
    return k.handle;
  }

  private update(actorId: string, state: ActorState, restarts: number | undefined): void {
    const k = this.known.get(actorId);
    if (!k || k.state === 'dead') return; // dead is final
    k.state = state;
    if (restarts !== undefined) k.restarts = restarts;
  }
}
