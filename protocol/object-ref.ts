import { addExtension } from 'msgpackr';
import { registerSendableClass } from './sendable.js';

/**
 * A value kept on the cluster, as data: what a TaskRef or ObjectRef becomes when it is an argument
 * or inside a result. Each side turns it back into a live ref of its own (the program's, which
 * fetches on `await`; a task's, which reads the agent's store). Only the id travels: it is an
 * unguessable capability, and whoever holds it may read the value.
 */
export class ObjectRefData {
  constructor(readonly objectId: string) {}
}

/** msgpack extension type of object refs (application range 0-127; actor refs are 0x61). */
export const OBJECT_REF_EXTENSION = 0x62;

export type ObjectRefReviver = (ref: ObjectRefData) => unknown;

let defaultReviver: ObjectRefReviver = (ref) => ref;
let reviver: ObjectRefReviver = defaultReviver;
/** Whether a pack in progress collects refs (packing is synchronous), and the ids it met, made at the first. */
let collecting = false;
let met: Set<string> | null = null;

function write(objectId: string): string {
  if (collecting) (met ??= new Set()).add(objectId);
  return objectId;
}

/** Classes whose instances pack as object refs (ObjectRefData and every live ref type). */
const refClasses = new Set<unknown>([ObjectRefData]);

registerSendableClass(ObjectRefData);
addExtension({
  Class: ObjectRefData,
  type: OBJECT_REF_EXTENSION,
  write: (ref: ObjectRefData) => write(ref.objectId),
  read: (objectId: string) => reviver(new ObjectRefData(objectId)),
});

/** Makes instances of `Class` (a live ref type) pack as object refs. */
export function registerObjectRefClass(Class: new (...args: never[]) => { readonly objectId: string }): void {
  refClasses.add(Class);
  registerSendableClass(Class);
  addExtension({
    Class,
    type: OBJECT_REF_EXTENSION,
    write: (ref: { objectId: string }) => write(ref.objectId),
    read: (objectId: string) => reviver(new ObjectRefData(objectId)),
  });
}

/** Sets what a ref becomes when unpacked in this thread unless a call says otherwise. */
export function setObjectRefReviver(revive: ObjectRefReviver): void {
  defaultReviver = reviver = revive;
}

/** Runs a pack and reports the ids of the object refs inside what it packed. */
export function collectingRefs<T>(pack: () => T): { value: T; refs: string[] } {
  const outer = met;
  const outerCollecting = collecting;
  // Most values hold no ref: no set is made for them (one per trivial task's result).
  collecting = true;
  met = null;
  try {
    const value = pack();
    return { value, refs: met === null ? [] : [...(met as Set<string>)] };
  } finally {
    met = outer;
    collecting = outerCollecting;
  }
}

/** Runs an unpack with refs revived by `revive` (a cluster's own refs) for this call only. */
export function revivingRefs<T>(revive: ObjectRefReviver, unpack: () => T): T {
  reviver = revive;
  try {
    return unpack();
  } finally {
    reviver = defaultReviver;
  }
}

function isRef(value: unknown): value is { objectId: string } {
  return typeof value === 'object' && value !== null && refClasses.has(Object.getPrototypeOf(value)?.constructor);
}

/**
 * The refs of `refs` (those packed from `args`) that appear only nested inside an argument, never
 * as an argument itself: the task gets those as refs it may await, so their bytes move only then.
 * `chunk`: `args` is a list of argument lists (one per call of a chunk task).
 */
export function nestedOnlyRefs(args: readonly unknown[], refs: readonly string[], chunk = false): string[] {
  if (refs.length === 0) return [];
  const top = new Set<string>();
  const lists = chunk ? (args as unknown[][]) : [args];
  for (const list of lists) {
    if (!Array.isArray(list)) continue;
    for (const a of list) if (isRef(a)) top.add(a.objectId);
  }
  return refs.filter((id) => !top.has(id));
}
