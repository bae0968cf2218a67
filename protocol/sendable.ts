import { EventEmitter } from 'node:events';

/**
 * What may travel as a value, checked before packing. msgpackr itself packs a function as
 * nothing, a Promise or a socket as `{}`, and a class instance as its own fields without its
 * methods: the value arrives changed and nothing says so. This walk refuses those, naming where.
 *
 * The rule (README "Values"): primitives (not symbols), plain objects (own enumerable keys),
 * arrays, Map, Set, Date, RegExp, Error, typed arrays / Buffer / DataView / ArrayBuffer, and the
 * clustrix handles (actor handles, object refs) travel. An object with a `toJSON()` method travels
 * as what that returns (URL becomes its string), as in JSON. Anything else is refused: functions,
 * Promises and thenables, symbols, generators and iterators, WeakMap / WeakSet / WeakRef, sockets,
 * streams and other EventEmitters, and instances of other classes, whose methods would be lost.
 */
export interface Unsendable {
  /** Where, e.g. `args[1].opts.onDone`. */
  path: string;
  /** What is there, e.g. `a function (onDone)`. */
  what: string;
  /** What to do instead. */
  hint: string;
}

/** Classes the packer knows how to carry (registered msgpack extensions): clustrix's handles. */
const carried = new Set<abstract new (...args: never[]) => unknown>();

/** Marks instances of `Class` as sendable (its msgpack extension carries them). */
export function registerSendableClass(Class: abstract new (...args: never[]) => unknown): void {
  carried.add(Class);
}

/** How a value is reached from its parent; the path text is built only when something is refused. */
type Step =
  | { kind: 'index'; key: number }
  | { kind: 'prop'; key: string }
  | { kind: 'map-key'; key: number }
  | { kind: 'map-value'; key: unknown }
  | { kind: 'set-item'; key: number };

interface Frame {
  value: object;
  parent: Frame | null;
  step: Step | null;
}

type Found = { frame: Frame; refusal: Refusal };

/**
 * The first value inside `value` that cannot travel, or null. `root` names the value in the path
 * (`args`, `result`). Iterative, so a deeply nested value cannot overflow the stack, and cycle-safe
 * (each object is visited once). Primitives cost one typeof each and binary data one check; the
 * path is only spelled out for a refusal.
 */
export function findUnsendable(value: unknown, root: string): Unsendable | null {
  const top = refusal(value);
  if (top) return { path: root, ...top };
  if (typeof value !== 'object' || value === null || !needsWalk(value)) return null;
  budget = FAST_NODES;
  if (allSendable(value, 0)) return null;
  const seen = new Set<object>([value]);
  const stack: Frame[] = [{ value, parent: null, step: null }];
  let frame: Frame | undefined;
  while ((frame = stack.pop())) {
    const found = walkChildren(frame, seen, stack);
    if (found) return { path: root + pathOf(found.frame), ...found.refusal };
  }
  return null;
}

type Refusal = Omit<Unsendable, 'path'>;

/** Limits of the first, allocation-free pass; past them (deep, cyclic, or large shared data) the full walk decides. */
const FAST_DEPTH = 32;
const FAST_NODES = 1_000_000;
let budget = 0;

/**
 * True when everything inside `obj` certainly travels: a recursive pass that allocates nothing and
 * keeps no visited set. False when it met something refused, or gave up (too deep: maybe a cycle;
 * too many containers: maybe shared data visited again and again); the full walk then decides.
 */
function allSendable(obj: object, depth: number): boolean {
  if (depth > FAST_DEPTH || --budget < 0) return false;
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) if (!childSendable(obj[i], depth)) return false;
    return true;
  }
  if (obj instanceof Map) {
    for (const [k, v] of obj) if (!childSendable(k, depth) || !childSendable(v, depth)) return false;
    return true;
  }
  if (obj instanceof Set) {
    for (const v of obj) if (!childSendable(v, depth)) return false;
    return true;
  }
  const record = obj as Record<string, unknown>;
  for (const key in record) if (Object.hasOwn(record, key) && !childSendable(record[key], depth)) return false;
  return true;
}

function childSendable(child: unknown, depth: number): boolean {
  if (isLeaf(child)) return true;
  if (refusal(child)) return false;
  return !needsWalk(child as object) || allSendable(child as object, depth + 1);
}

/** Checks one child; a container still to walk is pushed. */
function visit(child: unknown, frame: Frame, step: () => Step, seen: Set<object>, stack: Frame[]): Found | null {
  const bad = refusal(child);
  if (bad) return { frame: { value: frame.value, parent: frame, step: step() }, refusal: bad };
  const obj = child as object;
  if (!seen.has(obj) && needsWalk(obj)) {
    seen.add(obj);
    stack.push({ value: obj, parent: frame, step: step() });
  }
  return null;
}

function walkChildren(frame: Frame, seen: Set<object>, stack: Frame[]): Found | null {
  const parent = frame.value;
  if (Array.isArray(parent)) {
    for (let i = 0; i < parent.length; i++) {
      const child: unknown = parent[i];
      // The hot path: numbers, strings and binary data need nothing more.
      if (isLeaf(child)) continue;
      const found = visit(child, frame, () => ({ kind: 'index', key: i }), seen, stack);
      if (found) return found;
    }
    return null;
  }
  if (parent instanceof Map) {
    let i = 0;
    for (const [k, v] of parent) {
      const at = i;
      const found = (isLeaf(k) ? null : visit(k, frame, () => ({ kind: 'map-key', key: at }), seen, stack)) ?? (isLeaf(v) ? null : visit(v, frame, () => ({ kind: 'map-value', key: k }), seen, stack));
      if (found) return found;
      i++;
    }
    return null;
  }
  if (parent instanceof Set) {
    let i = 0;
    for (const v of parent) {
      const at = i;
      const found = isLeaf(v) ? null : visit(v, frame, () => ({ kind: 'set-item', key: at }), seen, stack);
      if (found) return found;
      i++;
    }
    return null;
  }
  const record = parent as Record<string, unknown>;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    const child = record[key];
    if (isLeaf(child)) continue;
    const found = visit(child, frame, () => ({ kind: 'prop', key }), seen, stack);
    if (found) return found;
  }
  return null;
}

/** A value that is certainly sendable and holds nothing: a primitive (not a symbol), or binary data. */
function isLeaf(v: unknown): boolean {
  const t = typeof v;
  return v === null || (t !== 'object' && t !== 'function' && t !== 'symbol') || (t === 'object' && ArrayBuffer.isView(v));
}

/** Containers whose contents are walked: arrays, Maps, Sets, plain objects. */
function needsWalk(obj: object): boolean {
  if (Array.isArray(obj) || obj instanceof Map || obj instanceof Set) return true;
  const proto: unknown = Object.getPrototypeOf(obj);
  return (proto === Object.prototype || proto === null) && typeof (obj as { toJSON?: unknown }).toJSON !== 'function';
}

const MAX_STEPS = 32;

function pathOf(frame: Frame): string {
  const steps: string[] = [];
  for (let at: Frame | null = frame; at; at = at.parent) if (at.step) steps.push(stepText(at.step));
  steps.reverse();
  // A path thousands of steps deep says nothing more than its two ends do.
  if (steps.length > MAX_STEPS) return `${steps.slice(0, 8).join('')}...(${steps.length - 24} steps)...${steps.slice(-16).join('')}`;
  return steps.join('');
}

function stepText(step: Step): string {
  switch (step.kind) {
    case 'index':
      return `[${step.key}]`;
    case 'prop':
      return /^[A-Za-z_$][\w$]*$/.test(step.key) ? `.${step.key}` : `[${JSON.stringify(step.key)}]`;
    case 'map-key':
      return ` (key ${step.key} of the Map)`;
    case 'map-value':
      return `.get(${showKey(step.key)})`;
    case 'set-item':
      return ` (item ${step.key} of the Set)`;
  }
}

function showKey(key: unknown): string {
  if (typeof key === 'string') return JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}...` : key);
  if (typeof key === 'bigint') return `${key}n`;
  if (typeof key === 'object' && key !== null) return 'an object key';
  return String(key);
}

const SHIP_CODE = 'code travels as the task itself: make it a task of its own (cluster.run / cluster.remote), or put it in a module (cluster.module) and import it there';

/** Why this one value (not its contents) cannot travel, or null. */
function refusal(value: unknown): Refusal | null {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return null;
    case 'symbol':
      return { what: `a symbol (${String(value)})`, hint: 'symbols are unique to one process: use a string instead' };
    case 'function': {
      const name = safeName(value as { name?: unknown });
      const isClass = /^class[\s{]/.test(safeSource(value as () => unknown));
      if (value.constructor?.name === 'AsyncGeneratorFunction' || value.constructor?.name === 'GeneratorFunction') {
        return { what: `a generator function${name}`, hint: SHIP_CODE };
      }
      return { what: `${isClass ? 'a class' : 'a function'}${name}`, hint: isClass ? 'a class travels as an actor (cluster.actor) or inside a module (cluster.module), not as a value' : SHIP_CODE };
    }
    case 'object':
      return value === null ? null : objectRefusal(value);
  }
}

function objectRefusal(obj: object): Refusal | null {
  if (ArrayBuffer.isView(obj)) return null; // typed arrays, Buffer, DataView: the hot path
  const proto: unknown = Object.getPrototypeOf(obj);
  if (proto === Array.prototype) return null;
  if (proto === Object.prototype || proto === null) return isThenable(obj) ? promise() : null;
  if (obj instanceof Map || obj instanceof Set || obj instanceof Date || obj instanceof RegExp || obj instanceof Error || obj instanceof ArrayBuffer) return null;
  for (const Class of carried) if (obj instanceof Class) return null;
  if (obj instanceof Promise || isThenable(obj)) return promise();
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') return null;
  const tag = Object.prototype.toString.call(obj).slice(8, -1);
  if (tag === 'Generator' || tag === 'AsyncGenerator' || isIterator(obj)) {
    return { what: `${tag === 'AsyncGenerator' ? 'an async generator' : tag === 'Generator' ? 'a generator' : 'an iterator'}`, hint: 'iterate it first and pass the items (an array), or pass it to cluster.map / cluster.stream as the items' };
  }
  if (obj instanceof WeakMap || obj instanceof WeakSet || obj instanceof WeakRef) {
    return { what: `a ${tag}`, hint: 'weak collections cannot be read out: pass a Map or Set of the data' };
  }
  if (obj instanceof EventEmitter) {
    return { what: `${article(className(obj))} (an EventEmitter: a socket, stream, process or similar)`, hint: 'live handles stay in the process that owns them: pass the data read from it, or a path, URL or address to open on the other side' };
  }
  const name = className(obj);
  return {
    what: `an instance of class ${name}`,
    hint: `its methods would not travel (only its fields would): pass plain data ({ ...value }), give ${name} a toJSON() method, or use an actor (cluster.actor) to keep a live ${name}`,
  };
}

function promise(): Refusal {
  return { what: 'a Promise (or thenable)', hint: 'await it first and pass the value (or pass a TaskRef from cluster.submit, which the agent resolves)' };
}

function isThenable(obj: object): boolean {
  try {
    return typeof (obj as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}

function isIterator(obj: object): boolean {
  try {
    return typeof (obj as { next?: unknown }).next === 'function' && typeof (obj as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
  } catch {
    return false;
  }
}

function className(obj: object): string {
  try {
    const ctor: unknown = (obj as { constructor?: unknown }).constructor;
    const name = typeof ctor === 'function' ? ctor.name : '';
    return name || Object.prototype.toString.call(obj).slice(8, -1);
  } catch {
    return 'Object';
  }
}

function article(name: string): string {
  return /^[AEIOU]/.test(name) ? `an ${name}` : `a ${name}`;
}

function safeName(fn: { name?: unknown }): string {
  try {
    return typeof fn.name === 'string' && fn.name ? ` (${fn.name})` : '';
  } catch {
    return '';
  }
}

function safeSource(fn: () => unknown): string {
  try {
    return Function.prototype.toString.call(fn).slice(0, 8);
  } catch {
    return '';
  }
}
