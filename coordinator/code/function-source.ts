/**
 * Turns a function or class into source text the agent can evaluate with
 * `(0, eval)('(' + source + '\n)')`, plus a content hash so each agent receives a given source once.
 */
import { createHash } from 'node:crypto';
import { parse, type Node as AcornNode } from 'acorn';
import { ClosureError, ConfigError } from '../errors/errors.js';
import { show } from '../config/issues.js';
import { FunctionNotShippableError, describe } from './code-errors.js';
import { capturedVariables } from './closure-check.js';
import { withOrigin } from './function-origin.js';

/** What travels to the agent for one function or class. */
export interface CapturedFunction {
  /**
   * An expression that evaluates to an equivalent function (or class) when wrapped as
   * `(` + source + `\n)`: it ends in a `//# sourceURL=` line naming where it came from (see
   * function-origin.ts).
   */
  readonly source: string;
  /** sha256 (hex) of `source`. */
  readonly hash: string;
  /** The function's `name`; `''` for an anonymous one. */
  readonly name: string;
}

/** Anything callable. `never[]` parameters accept every function type without resorting to `any`. */
export type ShippableFunction = (...args: never[]) => unknown;
/** Anything written with `class` syntax (abstract included: only its source is read). */
export type ShippableClass = abstract new (...args: never[]) => unknown;

type Kind = 'function' | 'class';

/** Keyed by identity: shipping the same function again costs one WeakMap lookup. */
const captures = new WeakMap<object, { kind: Kind; captured: CapturedFunction }>();

/**
 * Captures a function for shipping: arrow, function expression or declaration (async and
 * generator variants included), or method shorthand.
 *
 * @throws FunctionNotShippableError for native and bound functions, getters and setters, classes
 *   (use captureClass), and source that does not parse.
 * @throws ClosureError when the function reads variables from its enclosing scope.
 */
export function captureFunction(fn: ShippableFunction): CapturedFunction {
  return capture(fn, 'function');
}

/**
 * Captures a class (for actors). Its `extends` clause, if any, must name something the agent has
 * as a global, like any other free variable.
 *
 * @throws FunctionNotShippableError for anything not written with `class` syntax.
 * @throws ClosureError when the class reads variables from its enclosing scope.
 */
export function captureClass(cls: ShippableClass): CapturedFunction {
  return capture(cls, 'class');
}

function capture(fn: ShippableFunction | ShippableClass, want: Kind): CapturedFunction {
  // Callers from plain JavaScript get past the types.
  const value: unknown = fn;
  if (typeof value !== 'function') throw new ConfigError(`expected a ${want}, got ${show(value)}`);
  let entry = captures.get(fn);
  if (!entry) {
    entry = build(fn);
    captures.set(fn, entry);
  }
  if (entry.kind !== want) throw kindMismatch(entry.captured.name, want);
  return entry.captured;
}

function build(fn: ShippableFunction | ShippableClass): { kind: Kind; captured: CapturedFunction } {
  const name = typeof fn.name === 'string' ? fn.name : '';
  // Not fn.toString(): a user's own toString must not decide what we ship.
  const text = Function.prototype.toString.call(fn);
  if (NATIVE_CODE.test(text)) throw notShippable(name);
  const { kind, source: expression } = toExpression(text, name, Object.hasOwn(fn, 'prototype'));
  const variables = capturedVariables(expression, createHash('sha256').update(expression).digest('hex'), name);
  if (variables.length > 0) throw new ClosureError(describe(name, kind), variables);
  const source = withOrigin(expression, name);
  const hash = createHash('sha256').update(source).digest('hex');
  return { kind, captured: Object.freeze({ source, hash, name }) };
}

/** What V8 prints for built-in and bound functions; no user function can have this body. */
const NATIVE_CODE = /^function\b[^(]*\([^)]*\)\s*\{\s*\[native code\]\s*\}$/;

function notShippable(name: string): FunctionNotShippableError {
  if (name.startsWith('bound ')) {
    return new FunctionNotShippableError(
      name,
      'it is a bound function, whose target and bound arguments have no source',
      { hint: 'ship the unbound function and pass the bound values as arguments, or use cluster.module(url)' },
    );
  }
  return new FunctionNotShippableError(name, 'it is native code ([native code]), which has no source to ship', {
    hint: 'wrap the call in a function of your own, e.g. (xs) => Math.max(...xs), or use cluster.module(url)',
  });
}

function kindMismatch(name: string, want: Kind): FunctionNotShippableError {
  return want === 'function'
    ? new FunctionNotShippableError(name, 'it is a class', { hint: 'run a class as an actor with cluster.actor(cls)' })
    : new FunctionNotShippableError(name, 'it is not written with class syntax', {
        hint: 'actors are classes: write `class Name { ... }`, or ship a plain function with cluster.run(fn)',
        kind: 'class',
      });
}

/**
 * `Function.prototype.toString` gives an expression for everything except method shorthand
 * (`foo(x) { ... }`), which is only valid inside an object literal or class body.
 */
function toExpression(text: string, name: string, hasPrototype: boolean): { kind: Kind; source: string } {
  const asExpression = parseSingle(text, '(', ')');
  if (asExpression.node) {
    const node = asExpression.node;
    if (node.type === 'ClassExpression') return { kind: 'class', source: text };
    if (node.type === 'ArrowFunctionExpression') return { kind: 'function', source: text };
    // A method named `function` prints as `function() {}` too; unlike a function it has no prototype.
    const plain = node as AcornNode & { async?: boolean; generator?: boolean };
    if (node.type === 'FunctionExpression' && (plain.async || plain.generator || hasPrototype)) return { kind: 'function', source: text };
  }
  const asMethod = parseSingle(text, '({ ', ' })');
  const property = asMethod.node as (AcornNode & { method?: boolean; kind?: string; value?: AcornNode & { async?: boolean; generator?: boolean } }) | undefined;
  if (property?.type === 'Property' && (property.method || property.kind !== 'init') && property.value) {
    if (property.kind !== 'init') throw new FunctionNotShippableError(name, `it is a ${property.kind}ter, which is not a standalone function`);
    return { kind: 'function', source: methodExpression(text, name, property.value, asMethod.offset) };
  }
  const failure = furthest(asExpression, asMethod);
  throw new FunctionNotShippableError(name, `its source does not parse${failure ? ` (${failure.message})` : ''}`, {
    cause: failure,
    hint: 'code that uses import.meta or other module-only syntax must be put in a module and shipped with cluster.module(url)',
  });
}

/**
 * Wraps the method in a one-property object literal and reads it back, rather than rewriting it
 * as `function foo(x) {...}`. That keeps it a method: not constructible, `super` still parses,
 * and, above all, `foo` inside the body still means the outer `foo` (a named function expression
 * would bind it to itself and hide a captured variable from the closure check). The key becomes
 * the runtime name, so computed keys like `[Symbol.iterator]` need nothing evaluated.
 */
function methodExpression(text: string, name: string, fn: AcornNode & { async?: boolean; generator?: boolean }, offset: number): string {
  const key = JSON.stringify(name);
  const modifiers = `${fn.async ? 'async ' : ''}${fn.generator ? '*' : ''}`;
  // acorn starts a method's FunctionExpression at its parameter list.
  const paramsAndBody = text.slice(fn.start - offset);
  return `({ ${modifiers}${key}${paramsAndBody} })[${key}]`;
}

interface ParseAttempt {
  /** The expression (or, in an object literal, its single property) when `text` is exactly that. */
  node?: AcornNode | undefined;
  error?: (SyntaxError & { pos?: number }) | undefined;
  offset: number;
}

function parseSingle(text: string, before: string, after: string): ParseAttempt {
  const offset = before.length;
  try {
    const program = parse(`${before}${text}${after}`, { ecmaVersion: 'latest', sourceType: 'script' }) as AcornNode & { body: AcornNode[] };
    const statement = program.body.length === 1 ? (program.body[0] as AcornNode & { expression?: AcornNode }) : undefined;
    let node = statement?.expression;
    if (node?.type === 'ObjectExpression') {
      const properties = (node as AcornNode & { properties: AcornNode[] }).properties;
      node = properties.length === 1 ? properties[0] : undefined;
    }
    // The text must be the whole node: `a => a), (b` would parse, and is not one function.
    const whole = node !== undefined && node.end - node.start === text.length && node.start === offset;
    return { node: whole ? node : undefined, offset };
  } catch (error) {
    return { error: error as SyntaxError & { pos?: number }, offset };
  }
}

/** The error that got further into the text is the one that describes what is actually wrong. */
function furthest(a: ParseAttempt, b: ParseAttempt): ParseAttempt['error'] {
  if (!a.error || !b.error) return a.error ?? b.error;
  return (b.error.pos ?? 0) - b.offset > (a.error.pos ?? 0) - a.offset ? b.error : a.error;
}
