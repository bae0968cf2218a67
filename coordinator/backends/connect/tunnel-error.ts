import { ClustrixError } from '../../../protocol/errors.js';

/** The tunnel could not be set up: the relay did not start, or exited, or never listened. */
export class TunnelError extends ClustrixError {
  /** The tail of the relay's log, when there is one. */
  readonly output: string;
  constructor(message: string, details: { output?: string; hint: string; cause?: unknown }) {
    const output = details.output?.trim() ?? '';
    super('TUNNEL_FAILED', `${message}${output ? `\n  relay output:\n${output.split('\n').map((l) => `    ${l}`).join('\n')}` : ''}`, {
      hint: details.hint,
      cause: details.cause,
    });
    this.name = 'TunnelError';
    this.output = output;
  }
}
