import type { StatusReply } from '../../protocol/client-messages.js';
import type { ActorHandle, ActorInfo, ActorOptions } from '../actors/index.js';
import type { Logger } from '../util/logger.js';
import type { Submission, SubmitExtra } from '../engine/submit.js';
import type { ResolvedTaskOptions } from '../api/task-options.js';
import type { ShippedCode } from '../engine/task.js';
import type { ClientSession } from './client-session.js';

/** What a client session needs from the service that holds the pool. */
export interface ServiceHost {
  readonly credential: string;
  readonly maxFrameBytes: number;
  readonly log: Logger;
  register(session: ClientSession): string;
  unregister(session: ClientSession, cancelledTasks: number): void;
  describe(): { serviceId: string; profile: string; backend: string; retries: number };
  /** Submits a client's task: arguments and result stay packed. */
  submit(session: ClientSession, code: ShippedCode, exportName: string | null, args: Uint8Array, options: ResolvedTaskOptions, extra: SubmitExtra): Submission;
  readyAgents(): string[];
  /** Constructs an actor of a client's shipped class on the pool. */
  createActor(code: ShippedCode, exportName: string | null, options: ActorOptions): Promise<ActorHandle>;
  getActor(name: string): ActorHandle | undefined;
  actors(): ActorInfo[];
  status(): Omit<StatusReply, 'type' | 'id'>;
  scale(agents: number): Promise<void>;
  stop(reason: string): Promise<void>;
}
