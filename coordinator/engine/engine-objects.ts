import type { ObjectData, ObjectRequest } from '../../protocol/object-messages.js';
import { AgentLostError } from '../errors/errors.js';
import type { AgentLink } from './link.js';
import { ObjectDirectory, type ObjectAgents } from './object-directory.js';

/**
 * The engine's side of the values kept on agents: the object directory, over the agent links
 * (`object-get` answered by `object-data`, `object-free`), and the relay that serves an agent's
 * `object-request` when it could not fetch from a peer (tunnel mode, firewalls).
 */
export class EngineObjects implements ObjectAgents {
  readonly directory: ObjectDirectory;
  private readonly gets = new Map<string, { agentId: string; resolve(bytes: Uint8Array): void; reject(err: Error): void }>();
  private next = 0;

  constructor(private readonly links: () => ReadonlyMap<string, AgentLink>) {
    this.directory = new ObjectDirectory(this);
  }

  address(agentId: string): string | null {
    const link = this.links().get(agentId);
    return link && link.state !== 'closed' ? link.peerAddress : null;
  }

  get(agentId: string, objectId: string): Promise<Uint8Array> {
    const link = this.links().get(agentId);
    if (!link || link.state === 'closed') return Promise.reject(new AgentLostError(`agent ${agentId} is gone`, agentId));
    const id = `g${++this.next}`;
    return new Promise((resolve, reject) => {
      this.gets.set(id, { agentId, resolve, reject });
      link.send({ type: 'object-get', id, objectId });
    });
  }

  free(agentId: string, objectIds: string[]): void {
    this.links().get(agentId)?.send({ type: 'object-free', objectIds });
  }

  /** The answer to one of our `object-get`s. */
  onData(link: AgentLink, message: ObjectData): void {
    const waiting = this.gets.get(message.id);
    if (!waiting || waiting.agentId !== link.id) return;
    this.gets.delete(message.id);
    if (message.bytes) waiting.resolve(message.bytes);
    else waiting.reject(new Error(`agent ${link.id} could not send ${message.objectId}: ${message.error ?? 'no reason given'}`));
  }

  /** An agent could not fetch an object from its peers: relay it (waiting while lineage re-makes it). */
  onRequest(link: AgentLink, message: ObjectRequest): void {
    this.directory.bytesOf(message.objectId).then(
      (bytes) => link.send({ type: 'object-reply', id: message.id, objectId: message.objectId, bytes, error: null }),
      (err: unknown) => link.send({ type: 'object-reply', id: message.id, objectId: message.objectId, bytes: null, error: (err as Error).message.slice(0, 2000) }),
    );
  }

  /** The agent is gone: its reads fail, and its values are made again or lost. */
  linkLost(link: AgentLink, reason: string): void {
    for (const [id, waiting] of this.gets) {
      if (waiting.agentId !== link.id) continue;
      this.gets.delete(id);
      waiting.reject(new AgentLostError(`agent ${link.id} was lost: ${reason}`, link.id));
    }
    this.directory.agentLost(link.id, reason);
  }
}
