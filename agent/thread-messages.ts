import type { RemoteErrorInfo } from '../protocol/common.js';
import type { CodeSource } from './task-code.js';

/**
 * Messages between the agent's main thread and its worker threads. Both ends are our own code in
 * one process, so these are plain types, not validated schemas.
 */
export interface RunInThread {
  type: 'run';
  id: string;
  hash: string;
  /** The code itself, the first time this thread sees the hash. */
  code: CodeSource | null;
  export: string | null;
  args: Uint8Array;
  chunk: boolean;
}
export type ToThread = RunInThread;

export type FromThread =
  | { type: 'done'; id: string; value: Uint8Array }
  | { type: 'failed'; id: string; error: RemoteErrorInfo }
  | { type: 'log'; id: string | null; stream: 'stdout' | 'stderr'; text: string };
