import type { Failed } from '../../protocol/agent-messages.js';
import { CancelledError, ClustrixError, RemoteError, TimeoutError, valueError } from '../errors/errors.js';
import type { TaskRecord } from './task.js';

/** The error a caller sees for a task its agent reported failed (after its exception retries). */
export function failureError(task: TaskRecord, agentId: string, msg: Failed): ClustrixError {
  switch (msg.kind) {
    case 'exception':
      return new RemoteError(msg.error, { taskId: task.id, agentId });
    case 'timeout':
      return new TimeoutError(`task ${task.id} (${task.code.name}) on agent ${agentId}: ${msg.error.message}`, task.timeoutMs ?? 0);
    case 'cancelled':
      return new CancelledError(`task ${task.id} was cancelled on agent ${agentId}`);
    case 'setup':
    case 'actor-died':
      return new ClustrixError('TASK_SETUP_FAILED', `task ${task.id} could not start on agent ${agentId}: ${msg.error.message}`);
    case 'value':
      return valueError(msg.error, `task ${task.id} (${task.code.name}) on agent ${agentId}`);
    default: {
      const unreachable: never = msg.kind;
      throw new Error(`unhandled failure kind ${String(unreachable)}`);
    }
  }
}
