import { join } from 'node:path';
import type { AgentMessage } from '../../protocol/agent-messages.js';
import type { Dep, ObjectReply } from '../../protocol/object-messages.js';
import { ObjectStore } from './object-store.js';
// The agent-to-agent links load at first use (the server once connected, the client at a first
// fetch): their schemas are not built before an agent has said hello (issue 16).
import type { PeerClient } from './peer-client.js';
import type { PeerServer } from './peer-server.js';
import { takeSpare } from '../../protocol/segments.js';
import { copyInSlices, forOneTask, TRANSFER_MIN_BYTES } from '../thread-transfer.js';

/** A value this agent has: the bytes its store keeps, and a spare copy a fetch made as it arrived (for one task). */
interface Held {
  bytes: Uint8Array;
  spare: Uint8Array | null;
}

/** Results at most this large travel to the coordinator with `kept` too, so awaiting them needs no fetch. */
export const INLINE_RESULT_BYTES = 64 * 1024;

export interface AgentObjectsConfig {
  token: string;
  maxFrameBytes: number;
  /** This agent's spill directory (its own, removed on exit). */
  spillDir: string;
  send(message: AgentMessage): void;
  /** Worker threads free to start a task now (copies for them are made ahead only for these). */
  idleThreads(): number;
  /** An object is in the store now (kept, put or fetched): tasks parked for it may start. */
  stored?(objectId: string): void;
}

/**
 * This agent's share of the cluster's values: its object store, the PeerServer that hands them to
 * other agents, and the fetching of what a task needs (from its store, from a peer directly, or
 * relayed by the coordinator when no peer answers: tunnel mode, firewalls).
 */
export class AgentObjects {
  private store: ObjectStore | null = null;
  private server: PeerServer | null = null;
  private client: PeerClient | null = null;
  /** Fetches under way, shared by tasks needing the same object. */
  private readonly fetching = new Map<string, Promise<Held>>();
  /** Relay requests to the coordinator, by request id. */
  private readonly relayed = new Map<string, { resolve(bytes: Uint8Array): void; reject(err: Error): void }>();
  private next = 0;
  /** Copies in slices under way (see resolve). */
  private copying = 0;

  constructor(private readonly config: AgentObjectsConfig) {}

  /** Connected (again): a fresh store with the coordinator's budget, served where the coordinator sees this agent. */
  async connected(budget: { objectStoreBytes: number; objectSpillBytes: number }, localAddress: string | null): Promise<void> {
    this.reset();
    this.store = new ObjectStore({ memoryBytes: budget.objectStoreBytes, spillBytes: budget.objectSpillBytes, spillDir: this.config.spillDir });
    if (localAddress === null) return;
    try {
      const { PeerServer } = await import('./peer-server.js');
      this.server ??= await PeerServer.listen(localAddress, this.config.token, (id) => this.store?.get(id), this.config.maxFrameBytes);
      this.config.send({ type: 'object-peer', address: this.server.address });
    } catch (err) {
      // Peers then reach this agent's values through the coordinator.
      process.stderr.write(`clustrix agent: cannot serve objects to peers on ${localAddress}: ${(err as Error).message}\n`);
    }
  }

  /**
   * The coordinator is gone: it counts this agent's values as lost (it re-makes or fails them),
   * so copies here would only diverge.
   */
  reset(): void {
    this.store?.clear();
    this.store = null;
    this.fetching.clear();
    for (const r of this.relayed.values()) r.reject(new Error('the agent lost its coordinator'));
    this.relayed.clear();
  }

  close(): void {
    this.reset();
    this.server?.close();
    this.client?.closeAll();
  }

  /** Bytes of frames this agent received from and sent to other agents (both directions of fetches). */
  peerBytes(): { in: number; out: number } {
    const a = this.client?.bytes.total() ?? { in: 0, out: 0 };
    const b = this.server?.bytes.total() ?? { in: 0, out: 0 };
    return { in: a.in + b.in, out: a.out + b.out };
  }

  /** Keeps a task's result; throws ObjectStoreFullError. */
  keep(objectId: string, bytes: Uint8Array): void {
    this.storeOrThrow().put(objectId, bytes);
    this.config.stored?.(objectId);
  }

  put(objectId: string, bytes: Uint8Array): void {
    try {
      this.storeOrThrow().put(objectId, bytes);
      this.config.stored?.(objectId);
    } catch (err) {
      // A copy the coordinator offered; tasks needing it fetch it again.
      process.stderr.write(`clustrix agent: ${(err as Error).message}\n`);
    }
  }

  get(objectId: string): Uint8Array | undefined {
    return this.store?.get(objectId);
  }

  has(objectId: string): boolean {
    return this.store?.has(objectId) ?? false;
  }

  /** The bytes of every dep when this agent holds them all (no fetch, no wait); null otherwise. */
  held(deps: readonly Dep[]): Map<string, Uint8Array> | null {
    const out = new Map<string, Uint8Array>();
    for (const dep of deps) {
      const bytes = this.store?.get(dep.objectId);
      if (!bytes) return null;
      out.set(dep.objectId, bytes);
    }
    return out;
  }

  free(objectIds: readonly string[]): void {
    for (const id of objectIds) this.store?.delete(id);
  }

  get size(): { objects: number; memoryBytes: number; spilledBytes: number } {
    return this.store?.size ?? { objects: 0, memoryBytes: 0, spilledBytes: 0 };
  }

  /**
   * The bytes of every dep, from the store or fetched (and then kept here for later tasks).
   * `forThread`: for a worker thread's task, which needs a large value as a copy of its own
   * (marked {@link forOneTask}, so it is moved into the thread as it is): a fetched value comes as
   * the spare copy the fetch made while it arrived; a held one is copied now, in slices, while a
   * thread is idle to take it (otherwise the pool copies it when it hands the task to a thread, so
   * queued tasks do not each hold a copy).
   */
  async resolve(deps: readonly Dep[], forThread = false): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>();
    await Promise.all(
      deps.map(async (dep) => {
        const held = await this.bytesOf(dep);
        out.set(dep.objectId, forThread ? await this.forThread(held) : held.bytes);
      }),
    );
    return out;
  }

  private async forThread(held: Held): Promise<Uint8Array> {
    const { spare } = held;
    if (spare) {
      held.spare = null;
      return forOneTask(spare);
    }
    if (held.bytes.byteLength < TRANSFER_MIN_BYTES || this.copying >= this.config.idleThreads()) return held.bytes;
    this.copying++;
    try {
      return forOneTask(await copyInSlices(held.bytes));
    } finally {
      this.copying--;
    }
  }

  /** The coordinator's answer to a relay request. */
  replied(message: ObjectReply): void {
    const waiting = this.relayed.get(message.id);
    if (!waiting) return;
    this.relayed.delete(message.id);
    if (message.bytes) waiting.resolve(message.bytes);
    else waiting.reject(Object.assign(new Error(message.error ?? `object ${message.objectId} could not be read`), { code: 'OBJECT_LOST' }));
  }

  private bytesOf(dep: Dep): Promise<Held> {
    const bytes = this.store?.get(dep.objectId);
    if (bytes) return Promise.resolve({ bytes, spare: null });
    let fetching = this.fetching.get(dep.objectId);
    if (!fetching) {
      fetching = this.fetch(dep).finally(() => this.fetching.delete(dep.objectId));
      this.fetching.set(dep.objectId, fetching);
    }
    return fetching;
  }

  private async fetch(dep: Dep): Promise<Held> {
    let bytes: Uint8Array | null = null;
    for (const address of dep.from) {
      if (address === this.server?.address) continue;
      try {
        bytes = await (await this.peerClient()).fetch(address, dep.objectId);
        break;
      } catch {
        // the next holder, then the coordinator
      }
    }
    bytes ??= await this.relay(dep.objectId);
    try {
      this.store?.put(dep.objectId, bytes);
      this.config.send({ type: 'object-copied', objectId: dep.objectId });
      this.config.stored?.(dep.objectId);
    } catch {
      // No room for a copy: this task still gets the bytes.
    }
    return { bytes, spare: takeSpare(bytes) };
  }

  private async peerClient(): Promise<PeerClient> {
    const { PeerClient } = await import('./peer-client.js');
    return (this.client ??= new PeerClient(this.config.token, this.config.maxFrameBytes));
  }

  private relay(objectId: string): Promise<Uint8Array> {
    const id = `r${++this.next}`;
    return new Promise((resolve, reject) => {
      this.relayed.set(id, { resolve, reject });
      this.config.send({ type: 'object-request', id, objectId });
    });
  }

  private storeOrThrow(): ObjectStore {
    if (!this.store) throw new Error('the agent is not connected to a coordinator');
    return this.store;
  }
}

/** The spill directory of one agent process. */
export function spillDirOf(cacheDir: string): string {
  return join(cacheDir, '..', 'objects', `${process.pid}`);
}
