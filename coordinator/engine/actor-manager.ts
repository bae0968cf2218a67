import { nanoid } from 'nanoid';
import type { ActorExited, ActorRequest } from '../../protocol/actor-messages.js';
import type { Done, Failed } from '../../protocol/agent-messages.js';
import type { RemoteErrorInfo } from '../../protocol/common.js';
import { packValue, setActorRefReviver, unpackValue } from '../../protocol/values.js';
import { checkSize, packArguments } from './pack.js';
import { ActorDiedError, ClustrixError, ConfigError, RemoteError, TimeoutError, valueError } from '../errors/errors.js';
import type { AgentLink } from './link.js';
import type { Logger } from '../util/logger.js';
import type { ShippedCode } from './task.js';
import { ActorHandle, type ActorBackend, type ActorState } from '../api/actor-handle.js';

export interface ResolvedActorOptions {
  args: unknown[];
  name: string | null;
  maxRestarts: number;
  maxConcurrency: number;
  agent: string | null;
  getIfExists: boolean;
  timeoutMs: number | null;
}

/** One row of `cluster.actors()`. */
export interface ActorInfo {
  id: string;
  name: string | null;
  className: string;
  agentId: string | null;
  state: ActorState;
  callsServed: number;
  restarts: number;
}

interface Call {
  id: string;
  method: string;
  args: Uint8Array;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

interface ActorRecord {
  handle: ActorHandle;
  code: ShippedCode;
  exportName: string | null;
  args: Uint8Array;
  options: ResolvedActorOptions;
  link: AgentLink | null;
  state: ActorState;
  restarts: number;
  callsServed: number;
  /** Sent to the agent, not answered. */
  inflight: Map<string, Call>;
  /** Made while (re)starting: sent, in order, once the actor is ready. */
  backlog: Call[];
  /** Settles the first construction. */
  created: { resolve: (h: ActorHandle) => void; reject: (e: unknown) => void } | null;
  /** Why the last incarnation ended, for messages. */
  lastCause: string;
}

/** Every live handle of this process by actor id, so refs coming back in results become handles. */
const liveHandles = new Map<string, ActorHandle>();
setActorRefReviver((ref) => liveHandles.get(ref.actorId) ?? ref);

/**
 * Places actors on agents, routes calls (from the program and from tasks holding handles), and
 * constructs an actor again on another agent when its agent is lost, while its restart budget lasts.
 */
export class ActorManager implements ActorBackend {
  private readonly actors = new Map<string, ActorRecord>();
  private readonly byName = new Map<string, ActorRecord>();
  /** Call id → actor, to route `done`/`failed`. */
  private readonly calls = new Map<string, ActorRecord>();
  private closed = false;

  constructor(
    private readonly links: () => Iterable<AgentLink>,
    private readonly log: Logger,
    private readonly maxFrameBytes: number,
  ) {}

  async create(code: ShippedCode, exportName: string | null, options: ResolvedActorOptions): Promise<ActorHandle> {
    if (this.closed) throw new ClustrixError('CLUSTER_CLOSED', 'the cluster is closed');
    if (options.name !== null) {
      const existing = this.byName.get(options.name);
      if (existing && existing.state !== 'dead') {
        if (options.getIfExists) return existing.handle;
        throw new ConfigError(`an actor named '${options.name}' already exists`, { hint: 'use cluster.getActor(name), or pass getIfExists: true' });
      }
    }
    const id = `actor-${nanoid(10)}`;
    const handle = new ActorHandle(id, options.name, code.name, this);
    const record: ActorRecord = {
      handle,
      code,
      exportName,
      args: packArguments(options.args, this.maxFrameBytes, `the constructor of ${code.name}`),
      options,
      link: null,
      state: 'starting',
      restarts: 0,
      callsServed: 0,
      inflight: new Map(),
      backlog: [],
      created: null,
      lastCause: '',
    };
    this.actors.set(id, record);
    if (options.name !== null) this.byName.set(options.name, record);
    liveHandles.set(id, handle);
    const created = new Promise<ActorHandle>((resolve, reject) => (record.created = { resolve, reject }));
    this.place(record);
    return created;
  }

  get(name: string): ActorHandle | undefined {
    const record = this.byName.get(name);
    return record && record.state !== 'dead' ? record.handle : undefined;
  }

  list(): ActorInfo[] {
    return [...this.actors.values()].map((r) => ({
      id: r.handle.id,
      name: r.options.name,
      className: r.code.name,
      agentId: r.link?.id ?? null,
      state: r.state,
      callsServed: r.callsServed,
      restarts: r.restarts,
    }));
  }

  restartsOf(actorId: string): number {
    return this.actors.get(actorId)?.restarts ?? 0;
  }

  stateOf(actorId: string): ActorState {
    return this.actors.get(actorId)?.state ?? 'dead';
  }

  call(actorId: string, method: string, args: unknown[]): Promise<unknown> {
    const record = this.actors.get(actorId);
    if (!record || record.state === 'dead') {
      const who = record ? label(record) : actorId;
      return Promise.reject(new ActorDiedError(`actor ${who} is dead${record?.lastCause ? `: ${record.lastCause}` : ''}`, actorId));
    }
    let packed: Uint8Array;
    try {
      packed = packArguments(args, this.maxFrameBytes, `${record.code.name}.${method}`);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      const call: Call = { id: nanoid(12), method, args: packed, resolve, reject };
      if (record.state === 'alive' && record.link) this.send(record, call);
      else record.backlog.push(call);
    });
  }

  async kill(actorId: string): Promise<void> {
    const record = this.actors.get(actorId);
    if (!record || record.state === 'dead') return;
    record.link?.send({ type: 'actor-kill', actorId });
    this.bury(record, 'it was killed');
  }

  /** Kills every actor (the cluster is closing). */
  closeAll(): void {
    this.closed = true;
    for (const record of this.actors.values()) {
      if (record.state === 'dead') continue;
      record.link?.send({ type: 'actor-kill', actorId: record.handle.id });
      this.bury(record, 'the cluster was closed');
    }
  }

  onReady(link: AgentLink, actorId: string): void {
    const record = this.actors.get(actorId);
    if (!record || record.link !== link || record.state === 'dead') return;
    record.state = 'alive';
    record.created?.resolve(record.handle);
    record.created = null;
    for (const call of record.backlog.splice(0)) this.send(record, call);
  }

  onExited(link: AgentLink, msg: ActorExited): void {
    const record = this.actors.get(msg.actorId);
    if (!record || record.link !== link || record.state === 'dead') return;
    if (msg.constructorFailed) {
      const error = new RemoteError(msg.error, { taskId: `${record.handle.id} constructor`, agentId: link.id });
      record.created?.reject(error);
      record.created = null;
      this.bury(record, `its constructor threw ${msg.error.name}: ${msg.error.message}`);
      return;
    }
    this.lost(record, `${msg.error.name}: ${msg.error.message}`);
  }

  /** Returns false when the id is not an actor call (it is a task's). */
  onDone(_link: AgentLink, msg: Done): boolean {
    const found = this.takeCall(msg.id);
    if (!found) return false;
    const { record, call } = found;
    if (!call) return true;
    record.callsServed++;
    try {
      call.resolve(unpackValue(msg.value));
    } catch (cause) {
      call.reject(new ClustrixError('RESULT_DECODE_FAILED', `the result of ${record.code.name}.${call.method} could not be decoded`, { cause }));
    }
    return true;
  }

  onFailed(link: AgentLink, msg: Failed): boolean {
    const found = this.takeCall(msg.id);
    if (!found) return false;
    const { record, call } = found;
    if (!call) return true;
    const what = `${record.code.name}.${call.method} on actor ${record.handle.id}`;
    switch (msg.kind) {
      case 'exception':
        record.callsServed++;
        call.reject(new RemoteError(msg.error, { taskId: what, agentId: link.id }));
        return true;
      case 'timeout':
        call.reject(new TimeoutError(`${what}: ${msg.error.message}`, record.options.timeoutMs ?? 0));
        return true;
      case 'value':
        record.callsServed++;
        call.reject(valueError(msg.error, what));
        return true;
      default:
        call.reject(new ActorDiedError(`${what} did not complete: ${msg.error.message}`, record.handle.id));
        return true;
    }
  }

  /** Forgets a call once it is answered; undefined when the id is not an actor call. */
  private takeCall(id: string): { record: ActorRecord; call: Call | undefined } | undefined {
    const record = this.calls.get(id);
    if (!record) return undefined;
    const call = record.inflight.get(id);
    this.calls.delete(id);
    record.inflight.delete(id);
    return { record, call };
  }

  /** A task on `link` calls an actor through a handle: run it and answer that agent. */
  onRequest(link: AgentLink, msg: ActorRequest): void {
    const reply = (value: Uint8Array | null, error: RemoteErrorInfo | null): void => link.send({ type: 'actor-reply', id: msg.id, value, error });
    let args: unknown[];
    try {
      args = unpackValue(msg.args) as unknown[];
    } catch (err) {
      reply(null, { name: 'TypeError', message: `could not decode the arguments: ${(err as Error).message}` });
      return;
    }
    this.call(msg.actorId, msg.method, args).then(
      (value) => {
        let packed: Uint8Array;
        try {
          packed = packValue(value);
          checkSize(packed.byteLength, this.maxFrameBytes, `the result of ${msg.method}`, 'result');
        } catch (err) {
          const e = err as ClustrixError;
          reply(null, { name: e.name, message: e.message, code: e.code });
          return;
        }
        reply(packed, null);
      },
      (err: unknown) => {
        const e = err as ClustrixError & { remoteName?: string; remoteMessage?: string; remoteStack?: string };
        reply(null, e.remoteName ? { name: e.remoteName, message: e.remoteMessage ?? e.message, stack: e.remoteStack } : { name: e.name, message: e.message, code: e.code });
      },
    );
  }

  /** The agent is gone: its actors' in-flight calls fail; actors with budget start again elsewhere. */
  onLinkLost(link: AgentLink, reason: string): void {
    for (const record of this.actors.values()) {
      if (record.link === link && record.state !== 'dead') this.lost(record, `its agent ${link.id} was lost: ${reason}`);
    }
  }

  /** Actors waiting for an agent to be constructed on, and calls waiting for such actors. */
  waiting(): number {
    let n = 0;
    for (const record of this.unplaced()) n += (record.created ? 1 : 0) + record.backlog.length;
    return n;
  }

  /**
   * No agent came back: what waits for one fails with `error`. An actor never constructed dies
   * (nobody holds its handle); one restarting stays so, and is constructed once an agent connects.
   */
  failUnplaced(error: ClustrixError): void {
    for (const record of this.unplaced()) {
      for (const call of record.backlog.splice(0)) call.reject(error);
      if (record.created) {
        record.created.reject(error);
        record.created = null;
        this.bury(record, error.message.split('\n')[0] ?? error.message);
      }
    }
  }

  private unplaced(): ActorRecord[] {
    return [...this.actors.values()].filter((r) => (r.state === 'starting' || r.state === 'restarting') && r.link === null);
  }

  /** An agent joined: actors waiting for a place can start on it. */
  onLinkAdded(): void {
    for (const record of this.actors.values()) {
      if ((record.state === 'starting' || record.state === 'restarting') && record.link === null) this.place(record);
    }
  }

  private send(record: ActorRecord, call: Call): void {
    const link = record.link!;
    record.inflight.set(call.id, call);
    this.calls.set(call.id, record);
    link.send({ type: 'actor-call', id: call.id, actorId: record.handle.id, method: call.method, args: call.args, timeoutMs: record.options.timeoutMs });
  }

  private lost(record: ActorRecord, cause: string): void {
    record.lastCause = cause;
    const name = label(record);
    for (const call of record.inflight.values()) {
      this.calls.delete(call.id);
      call.reject(new ActorDiedError(`actor ${name} died during ${record.code.name}.${call.method}: ${cause}`, record.handle.id));
    }
    record.inflight.clear();
    this.unplace(record);
    if (record.restarts >= record.options.maxRestarts || this.closed) {
      this.bury(record, cause);
      return;
    }
    record.restarts++;
    record.state = 'restarting';
    this.log.warn(`actor ${name} died (${cause}); constructing it again (restart ${record.restarts} of ${record.options.maxRestarts}); its state since the last construction is lost`);
    this.place(record);
  }

  private bury(record: ActorRecord, cause: string): void {
    record.state = 'dead';
    record.lastCause = cause;
    this.unplace(record);
    liveHandles.delete(record.handle.id);
    if (record.options.name !== null && this.byName.get(record.options.name) === record) this.byName.delete(record.options.name);
    const name = label(record);
    const err = (method: string) => new ActorDiedError(`actor ${name} is dead, so ${record.code.name}.${method} cannot run: ${cause}`, record.handle.id);
    for (const call of record.inflight.values()) {
      this.calls.delete(call.id);
      call.reject(err(call.method));
    }
    record.inflight.clear();
    for (const call of record.backlog.splice(0)) call.reject(err(call.method));
    record.created?.reject(new ActorDiedError(`actor ${name} could not be created: ${cause}`, record.handle.id));
    record.created = null;
  }

  private place(record: ActorRecord): void {
    const link = this.choose(record);
    if (!link) return; // waits for onLinkAdded
    record.link = link;
    link.actorSlots++;
    if (!link.sentCode.has(record.code.hash)) {
      link.sentCode.add(record.code.hash);
      link.send({ type: 'code', hash: record.code.hash, kind: record.code.kind, source: record.code.source });
    }
    link.send({ type: 'actor-create', actorId: record.handle.id, code: record.code.hash, export: record.exportName, args: record.args, maxConcurrency: record.options.maxConcurrency });
  }

  /** The actor no longer holds a slot of its agent. */
  private unplace(record: ActorRecord): void {
    if (record.link) record.link.actorSlots = Math.max(0, record.link.actorSlots - 1);
    record.link = null;
  }

  private choose(record: ActorRecord): AgentLink | null {
    const ready = [...this.links()].filter((l) => l.state === 'ready');
    if (record.options.agent !== null) {
      const chosen = ready.find((l) => l.id === record.options.agent);
      if (!chosen && record.state === 'starting') {
        record.created?.reject(new ConfigError(`agent '${record.options.agent}' is not connected (agents: ${ready.map((l) => l.id).join(', ') || 'none'})`));
        record.created = null;
        this.bury(record, `agent ${record.options.agent} is not connected`);
      }
      return chosen ?? null;
    }
    // Least loaded: most slots free of actors and running tasks.
    let best: AgentLink | null = null;
    let bestFree = -Infinity;
    for (const link of ready) {
      const free = link.slots - link.actorSlots - link.inflight.size;
      if (free > bestFree) {
        best = link;
        bestFree = free;
      }
    }
    return best;
  }
}

/** How messages name an actor: its name when it has one, and always its id. */
function label(record: ActorRecord): string {
  return record.options.name ? `'${record.options.name}' (${record.handle.id})` : record.handle.id;
}
