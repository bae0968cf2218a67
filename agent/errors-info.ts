import type { RemoteErrorInfo } from '../protocol/common.js';

const MAX_CAUSE_DEPTH = 8;

/** Turns anything thrown into the wire form, keeping name, message, stack, code and the cause chain. */
export function toErrorInfo(thrown: unknown, depth = 0): RemoteErrorInfo {
  if (thrown instanceof Error || (typeof thrown === 'object' && thrown !== null && 'message' in thrown)) {
    const err = thrown as Error & { code?: unknown };
    // `class ParseFailure extends Error {}` inherits name 'Error': its class name says more.
    const ctor = typeof err.constructor === 'function' ? err.constructor.name : '';
    const own = typeof err.name === 'string' && err.name ? err.name : '';
    const name = own && !(own === 'Error' && ctor && ctor !== 'Error' && ctor !== 'Object') ? own : ctor && ctor !== 'Object' ? ctor : own || 'Error';
    const info: RemoteErrorInfo = { name: String(name), message: String(err.message), stack: typeof err.stack === 'string' ? err.stack : undefined };
    if (typeof err.code === 'string' || typeof err.code === 'number') info.code = String(err.code);
    if (err.cause !== undefined && depth < MAX_CAUSE_DEPTH) info.cause = toErrorInfo(err.cause, depth + 1);
    return info;
  }
  return { name: 'NonErrorThrown', message: `a non-Error value was thrown: ${describe(thrown)}` };
}

function describe(value: unknown): string {
  try {
    const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
    return text.length > 200 ? `${text.slice(0, 200)}...` : text;
  } catch {
    return typeof value;
  }
}
