import { ClustrixError } from '../../errors/errors.js';

/** A command ran past its time limit and was killed (with its whole process group). */
export class CommandTimeoutError extends ClustrixError {
  readonly command: string;
  readonly timeoutMs: number;
  constructor(command: string, timeoutMs: number, where: string) {
    super('COMMAND_TIMEOUT', `command on ${where} did not finish within ${timeoutMs} ms: ${command}`, {
      hint: 'the login node or the scheduler is slow or stuck; raise commandTimeoutMs if it is only slow',
    });
    this.name = 'CommandTimeoutError';
    this.command = command;
    this.timeoutMs = timeoutMs;
  }
}
