import { nanoid } from 'nanoid';
import type { ActorCheckpoint, ActorExited, ActorRequest } from '../../protocol/actor-messages.js';
import type { Done, Failed } from '../../protocol/agent-messages.js';
import type { ActorSpec } from '../../protocol/core-methods.js';
import type { ActorInfo } from '../../protocol/rows.js';
import { ActorDiedError, ActorNameTakenError, ClusterClosedError, RemoteError, type ClustrixError } from '../errors/errors.js';
import type { Logger } from '../util/logger.js';
import { ActorCalls } from './actor-calls.js';
import { placeActor } from './actor-placement.js';
import { actorInfo, cpusOf, label, type ActorRecord, type ActorResult } from './actor-record.js';
import type { AgentLink } from './link.js';
import { depsOf, type ObjectDirectory } from './object-directory.js';
import { checkSize } from './pack.js';
import type { ShippedCode } from './task.js';

/**
 * The lives of actors: places them on agents (once their constructor's refs exist), constructs an
 * actor again on another agent when its agent is lost, while its restart budget lasts (from its
 * last checkpoint), and buries it. Its calls are ActorCalls' (actor-calls.ts). Arguments and
 * results stay packed: the manager never decodes a user's value.
 */
export class ActorManager {
  private readonly actors = new Map<string, ActorRecord>();
  private readonly byName = new Map<string, ActorRecord>();
  private readonly calls: ActorCalls;
  private closed = false;

  constructor(
    private readonly links: () => Iterable<AgentLink>,
    private readonly log: Logger,
    private readonly maxFrameBytes: number,
    /** Told of every change of an actor's state, restarts or agent. */
    private readonly changed: (info: ActorInfo) => void,
    /** Told when the slots actors hold on a link changed (the scheduler's room for tasks). */
    private readonly slotsChanged: (link: AgentLink) => void = () => undefined,
    private readonly objects: ObjectDirectory,
    /**
     * Whether an actor asking for `cpus` could be placed in `pool` (null: any) once a pool grows:
     * no agent connected has that many, and yet it waits (as demand for adaptive scaling) instead
     * of failing. Absent: only the agents connected count.
     */
    private readonly couldGrowFor: (cpus: number, pool: string | null) => boolean = () => false,
  ) {
    this.calls = new ActorCalls(this.actors, objects, maxFrameBytes);
  }

  /**
   * Calls a method with packed arguments; resolves with the packed result and the refs inside it.
   * `sent` hears the call's id at once (its output carries it).
   */
  call(actorId: string, method: string, args: Uint8Array, sent?: (callId: string) => void, refs: readonly string[] = [], lazy: readonly string[] = []): Promise<ActorResult> {
    return this.calls.call(actorId, method, args, sent, refs, lazy);
  }

  /** Returns false when the id is not an actor call of this agent's (it is a task's). */
  onDone(link: AgentLink, msg: Done): boolean {
    return this.calls.onDone(link, msg);
  }

  onFailed(link: AgentLink, msg: Failed): boolean {
    return this.calls.onFailed(link, msg);
  }

  /** A task on `link` calls an actor through a handle: run it and answer that agent. */
  onRequest(link: AgentLink, msg: ActorRequest): void {
    this.calls.onRequest(link, msg);
  }

  /** Constructs an actor; resolves with its row once the constructor has run on an agent. */
  create(code: ShippedCode, spec: ActorSpec): Promise<ActorInfo> {
    if (this.closed) return Promise.reject(new ClusterClosedError('the cluster is closed'));
    if (spec.name !== null) {
      const existing = this.byName.get(spec.name);
      if (existing && existing.state !== 'dead') {
        if (spec.getIfExists) return Promise.resolve(actorInfo(existing));
        return Promise.reject(new ActorNameTakenError(spec.name));
      }
    }
    try {
      checkSize(spec.args.byteLength, this.maxFrameBytes, `the constructor arguments of ${code.name}`, 'arguments');
    } catch (err) {
      return Promise.reject(err);
    }
    const id = `actor-${nanoid(10)}`;
    const record: ActorRecord = {
      id,
      code,
      spec,
      link: null,
      state: 'starting',
      restarts: 0,
      callsServed: 0,
      inflight: new Map(),
      backlog: [],
      gated: [],
      created: null,
      lastCause: '',
      checkpoint: null,
      restoredFrom: null,
      argsReady: (spec.refs ?? []).length === 0,
    };
    this.actors.set(id, record);
    if (spec.name !== null) this.byName.set(spec.name, record);
    const created = new Promise<ActorInfo>((resolve, reject) => (record.created = { resolve, reject }));
    this.changed(actorInfo(record));
    if (record.argsReady) this.place(record);
    else this.afterArgs(record);
    return created;
  }

  /** Places the actor once its constructor's refs exist; they are pinned until it dies (each restart reads them again). */
  private afterArgs(record: ActorRecord): void {
    const refs = record.spec.refs ?? [];
    for (const ref of refs) this.objects.pin(ref);
    this.objects.ready(refs).then(
      () => {
        if (record.state === 'dead') return;
        record.argsReady = true;
        this.place(record);
      },
      (err: unknown) => {
        if (record.state === 'dead') return;
        record.created?.reject(err);
        record.created = null;
        this.bury(record, `a constructor argument's value cannot be had: ${(err as Error).message}`);
      },
    );
  }

  /** The live actor registered under `name`, if any. */
  get(name: string): ActorInfo | null {
    const record = this.byName.get(name);
    return record && record.state !== 'dead' ? actorInfo(record) : null;
  }

  /** Every actor, live or dead. */
  list(): ActorInfo[] {
    return [...this.actors.values()].map((r) => actorInfo(r));
  }

  async kill(actorId: string): Promise<void> {
    const record = this.actors.get(actorId);
    if (!record || record.state === 'dead') return;
    record.link?.send({ type: 'actor-kill', actorId });
    this.bury(record, 'it was killed');
  }

  /** Whether the actor is alive (or coming back). */
  isLive(actorId: string): boolean {
    const state = this.actors.get(actorId)?.state;
    return state !== undefined && state !== 'dead';
  }

  /** Kills every actor (the cluster is closing). */
  closeAll(): void {
    this.closed = true;
    for (const record of this.actors.values()) {
      if (record.state === 'dead') continue;
      record.link?.send({ type: 'actor-kill', actorId: record.id });
      this.bury(record, 'the cluster was closed');
    }
  }

  onReady(link: AgentLink, actorId: string): void {
    const record = this.actors.get(actorId);
    if (!record || record.link !== link || record.state === 'dead') return;
    record.state = 'alive';
    record.created?.resolve(actorInfo(record));
    record.created = null;
    this.changed(actorInfo(record));
    this.calls.flush(record);
  }

  /** The actor's state after some calls: the newest is what a restart resumes from. */
  onCheckpoint(link: AgentLink, msg: ActorCheckpoint): void {
    const record = this.actors.get(msg.actorId);
    if (!record || record.link !== link || record.state === 'dead' || (record.spec.checkpointEvery === null && record.spec.checkpointMs === null)) return;
    if (record.checkpoint && record.checkpoint.calls > msg.calls) return;
    record.checkpoint = { state: msg.state, calls: msg.calls };
  }

  onExited(link: AgentLink, msg: ActorExited): void {
    const record = this.actors.get(msg.actorId);
    if (!record || record.link !== link || record.state === 'dead') return;
    if (msg.constructorFailed) {
      const error = new RemoteError(msg.error, { taskId: `${record.id} constructor`, agentId: link.id });
      record.created?.reject(error);
      record.created = null;
      this.bury(record, `its constructor threw ${msg.error.name}: ${msg.error.message}`);
      return;
    }
    this.lost(record, `${msg.error.name}: ${msg.error.message}`);
  }

  onLinkLost(link: AgentLink, reason: string): void {
    for (const record of this.actors.values()) {
      if (record.link === link && record.state !== 'dead') this.lost(record, `its agent ${link.id} was lost: ${reason}`);
    }
  }

  /**
   * Actors waiting for an agent to be constructed on, and calls waiting for such actors: all, or
   * those that asked for `pool` (null: those that asked for none), and of those only the ones
   * whose cpus `fits` (an agent of some pool could hold them).
   */
  waiting(pool?: string | null, fits?: (cpus: number) => boolean): number {
    let n = 0;
    for (const record of this.unplaced()) {
      if (pool !== undefined && (record.spec.pool ?? null) !== pool) continue;
      if (fits && !fits(cpusOf(record))) continue;
      n += (record.created ? 1 : 0) + record.backlog.length;
    }
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
    return [...this.actors.values()].filter((r) => (r.state === 'starting' || r.state === 'restarting') && r.link === null && r.argsReady);
  }

  /** An agent joined: actors waiting for a place can start on it. */
  onLinkAdded(): void {
    for (const record of this.actors.values()) {
      if ((record.state === 'starting' || record.state === 'restarting') && record.link === null) this.place(record);
    }
  }

  private lost(record: ActorRecord, cause: string): void {
    record.lastCause = cause;
    const name = label(record);
    this.calls.failInflight(record, (call) => new ActorDiedError(`actor ${name} died during ${record.code.name}.${call.method}: ${cause}`, record.id));
    this.unplace(record);
    if (record.restarts >= record.spec.maxRestarts || this.closed) {
      this.bury(record, cause);
      return;
    }
    record.restarts++;
    record.state = 'restarting';
    const from = record.checkpoint ? `restoring its checkpoint of call ${record.checkpoint.calls}; calls since then are lost` : 'its state since the last construction is lost';
    this.log.warn(`actor ${name} died (${cause}); constructing it again (restart ${record.restarts} of ${record.spec.maxRestarts}); ${from}`);
    this.changed(actorInfo(record));
    this.place(record);
  }

  private bury(record: ActorRecord, cause: string): void {
    if (record.state !== 'dead' && record.spec.refs && record.spec.refs.length > 0) {
      for (const ref of record.spec.refs) this.objects.unpin(ref);
    }
    record.state = 'dead';
    record.lastCause = cause;
    this.unplace(record);
    if (record.spec.name !== null && this.byName.get(record.spec.name) === record) this.byName.delete(record.spec.name);
    const name = label(record);
    const err = (method: string) => new ActorDiedError(`actor ${name} is dead, so ${record.code.name}.${method} cannot run: ${cause}`, record.id);
    this.calls.failInflight(record, (call) => err(call.method));
    for (const call of [...record.backlog.splice(0), ...record.gated.splice(0)]) call.reject(err(call.method));
    record.created?.reject(new ActorDiedError(`actor ${name} could not be created: ${cause}`, record.id));
    record.created = null;
    this.changed(actorInfo(record));
  }

  private place(record: ActorRecord): void {
    if (!record.argsReady) return; // afterArgs places it
    const link = this.choose(record);
    if (!link) return; // waits for onLinkAdded or onRoomFreed
    record.link = link;
    const cpus = cpusOf(record);
    if (cpus > 0) {
      link.actorSlots += cpus;
      this.slotsChanged(link);
    }
    const code = link.ensureCode(record.code);
    const { export: exportName, args, maxConcurrency, checkpointEvery, checkpointMs } = record.spec;
    record.restoredFrom = record.checkpoint?.calls ?? null;
    const refs = record.spec.refs ?? [];
    const deps = refs.length > 0 ? { deps: depsOf(this.objects, refs, record.spec.lazy ?? []) } : {};
    link.send({ type: 'actor-create', actorId: record.id, code, export: exportName, args, ...deps, maxConcurrency, checkpointEvery, checkpointMs, restore: record.checkpoint });
  }

  /** The actor no longer holds a slot of its agent. */
  private unplace(record: ActorRecord): void {
    const link = record.link;
    record.link = null;
    const cpus = cpusOf(record);
    if (!link || cpus === 0) return;
    link.actorSlots = Math.max(0, link.actorSlots - cpus);
    this.slotsChanged(link);
    // Slots came free: an actor waiting for them may fit now.
    if (!this.closed) queueMicrotask(() => this.onLinkAdded());
  }

  private choose(record: ActorRecord): AgentLink | null {
    const pool = record.spec.pool ?? null;
    const ready = [...this.links()].filter((l) => l.state === 'ready' && (pool === null || l.pool === pool));
    const cpus = cpusOf(record);
    const placed = placeActor(ready, { agent: record.spec.agent, cpus, what: `${label(record)} (${record.code.name})` });
    if ('link' in placed) return placed.link;
    if ('error' in placed) {
      // A named agent that is not there yet only fails a creation; a restart waits for it.
      if (record.spec.agent !== null && record.state !== 'starting') return null;
      // No agent has that many cpus, but a pool may get one that has: wait for it (adapt grows for it).
      if (record.spec.agent === null && this.couldGrowFor(cpus, pool)) return null;
      record.created?.reject(placed.error);
      record.created = null;
      this.bury(record, record.spec.agent !== null ? `agent ${record.spec.agent} is not connected` : placed.error.message);
      return null;
    }
    if (ready.length > 0 && !record.warnedWaiting) {
      record.warnedWaiting = true;
      this.log.warn(`actor ${label(record)} waits in state '${record.state}': it asks for ${cpus} cpus and other actors hold the slots of every agent that has that many (kill one, or add agents)`);
    }
    return null;
  }
}
