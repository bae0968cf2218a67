import type { RemoteErrorInfo } from '../protocol/common.js';
import { MAX_CAUSE_DEPTH } from '../protocol/version.js';

/**
 * Turns anything thrown into the wire form, keeping name, message, stack, code and the cause chain
 * (cut after MAX_CAUSE_DEPTH levels, and saying so). Never throws: a thrown value is the user's,
 * and may be a Proxy, have throwing getters, or a toString that throws.
 */
export function toErrorInfo(thrown: unknown): RemoteErrorInfo {
  const top = describeOne(thrown);
  let at = top;
  let next = causeOf(thrown);
  for (let depth = 1; next.present; depth++) {
    if (depth >= MAX_CAUSE_DEPTH - 1) {
      at.cause = { name: 'CauseChainCut', message: `the cause chain was cut here, after ${MAX_CAUSE_DEPTH - 1} levels` };
      break;
    }
    at = at.cause = describeOne(next.value);
    next = causeOf(next.value);
  }
  return top;
}

function describeOne(thrown: unknown): RemoteErrorInfo {
  if (!isErrorLike(thrown)) return { name: 'NonErrorThrown', message: `a non-Error value was thrown: ${preview(thrown)}` };
  const err = thrown as Record<string, unknown>;
  const message = read(err, 'message');
  const info: RemoteErrorInfo = { name: cap(nameOf(err), 256), message: cap(typeof message === 'string' ? message : preview(message), MAX_TEXT) };
  const stack = read(err, 'stack');
  if (typeof stack === 'string') info.stack = cap(stack, MAX_TEXT);
  const code = read(err, 'code');
  if (typeof code === 'string' || typeof code === 'number') info.code = cap(String(code), 256);
  if (info.code === 'RESULT_NOT_SERIALIZABLE') {
    const path = read(err, 'path');
    const hint = read(err, 'hint');
    if (typeof path === 'string') info.path = cap(path, 1024);
    if (typeof hint === 'string') info.hint = cap(hint, 1024);
  }
  return info;
}

function causeOf(thrown: unknown): { present: true; value: unknown } | { present: false } {
  if (!isErrorLike(thrown)) return { present: false };
  const cause = read(thrown as Record<string, unknown>, 'cause');
  return cause === undefined ? { present: false } : { present: true, value: cause };
}

function isErrorLike(value: unknown): boolean {
  try {
    return value instanceof Error || (typeof value === 'object' && value !== null && 'message' in value);
  } catch {
    return false; // a Proxy whose `has` trap throws
  }
}

// `class ParseFailure extends Error {}` inherits name 'Error': its class name says more.
function nameOf(err: Record<string, unknown>): string {
  const ctor = read(err, 'constructor');
  const ctorName = typeof ctor === 'function' ? safeString(() => ctor.name) : '';
  const own = read(err, 'name');
  const name = typeof own === 'string' ? own : '';
  if (name && !(name === 'Error' && ctorName && ctorName !== 'Error' && ctorName !== 'Object')) return name;
  if (ctorName && ctorName !== 'Object') return ctorName;
  return name || 'Error';
}

/** A property, or undefined when reading it throws. */
function read(obj: Record<string, unknown>, key: string): unknown {
  try {
    return obj[key];
  } catch {
    return undefined;
  }
}

function preview(value: unknown): string {
  const text = safeString(() => (typeof value === 'string' ? JSON.stringify(value) : String(value)));
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

function safeString(make: () => string): string {
  try {
    return make();
  } catch {
    return '(a value that cannot be described)';
  }
}

/** Longest message or stack kept: an error describes a failure, it does not carry data. */
const MAX_TEXT = 32_768;

function cap(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}... (${text.length - max} more characters cut)` : text;
}
