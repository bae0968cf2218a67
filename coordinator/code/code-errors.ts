/**
 * Failures of code capture. They live here rather than in coordinator/errors.ts only because that
 * file belongs to another change in flight; both extend the same ClustrixError base.
 */
import { ClustrixError } from '../errors/errors.js';

/** A function or class whose source cannot be shipped: native, bound, a getter, unparsable. */
export class FunctionNotShippableError extends ClustrixError {
  /** The function's `name`, or `''` when it has none. */
  readonly functionName: string;

  constructor(functionName: string, reason: string, options?: { cause?: unknown; hint?: string; kind?: 'function' | 'class' }) {
    super('FUNCTION_NOT_SHIPPABLE', `${describe(functionName, options?.kind)} cannot be shipped by source: ${reason}`, {
      cause: options?.cause,
      hint:
        options?.hint ??
        'write it as a plain function or class, or put it in a module and use cluster.module(url) to ship the module',
    });
    this.name = 'FunctionNotShippableError';
    this.functionName = functionName;
  }
}

/** One esbuild diagnostic, with its location made absolute. */
export interface BundleMessage {
  text: string;
  file?: string | undefined;
  line?: number | undefined;
  column?: number | undefined;
}

/** esbuild refused the module or one of its imports. */
export class ModuleBundleError extends ClustrixError {
  /** The module that was being bundled (absolute path). */
  readonly file: string;
  readonly messages: readonly BundleMessage[];

  constructor(file: string, messages: readonly BundleMessage[], options?: { cause?: unknown }) {
    super('MODULE_BUNDLE_FAILED', `could not bundle ${file}${formatMessages(messages)}`, {
      cause: options?.cause,
      hint: 'fix the error above; a package esbuild cannot bundle (a native addon, say) can be listed in `external` and installed on the agents',
    });
    this.name = 'ModuleBundleError';
    this.file = file;
    this.messages = messages;
  }
}

/** How many diagnostics the message shows; the rest stay on `messages`. */
const SHOWN_MESSAGES = 3;

function formatMessages(messages: readonly BundleMessage[]): string {
  const shown = messages.slice(0, SHOWN_MESSAGES).map((m) => {
    const where = m.file === undefined ? '' : `${m.file}${m.line === undefined ? '' : `:${m.line}:${m.column ?? 0}`}: `;
    return `\n  ${where}${m.text}`;
  });
  const more = messages.length > SHOWN_MESSAGES ? `\n  (${messages.length - SHOWN_MESSAGES} more)` : '';
  return shown.join('') + more;
}

/** `function add`, `class Counter`, `an anonymous function`: how messages refer to shipped code. */
export function describe(functionName: string, kind: 'function' | 'class' = 'function'): string {
  return functionName ? `${kind} ${functionName}` : `an anonymous ${kind}`;
}
