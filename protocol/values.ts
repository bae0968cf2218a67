import { addExtension, Packr } from 'msgpackr';
import { SEGMENT_MIN_BYTES, viewingArrays } from './binary.js';
import { MAX_NUMBER_BYTES, packNumber, unpackNumbers } from './numbers.js';
import { registerSendableClass } from './sendable.js';

/**
 * An actor handle as data: what a handle becomes when it is an argument or a result, so a task or
 * another actor can call the same actor. Each side turns it back into a live handle of its own
 * (see {@link setActorRefReviver}).
 */
export class ActorRef {
  constructor(
    readonly actorId: string,
    readonly name: string | null,
  ) {}
}

/** msgpack extension type of actor handles (application range 0-127). */
export const ACTOR_REF_EXTENSION = 0x61;

/** What an ActorRef becomes when unpacked on this side: a live handle of the thread's, or of one cluster. */
export type ActorRefReviver = (ref: ActorRef) => unknown;

let defaultReviver: ActorRefReviver = (ref) => ref;
let reviver: ActorRefReviver = defaultReviver;

/** Sets what an ActorRef becomes when unpacked in this thread unless a call says otherwise (an agent's handle). */
export function setActorRefReviver(revive: ActorRefReviver): void {
  defaultReviver = reviver = revive;
}

/** Makes instances of `Class` (a live handle type) pack as actor refs. */
export function registerActorHandleClass(Class: new (...args: never[]) => { readonly actorRef: ActorRef }): void {
  registerSendableClass(Class);
  addExtension({
    Class,
    type: ACTOR_REF_EXTENSION,
    write: (handle: { actorRef: ActorRef }) => [handle.actorRef.actorId, handle.actorRef.name],
    read: (data: [string, string | null]) => reviver(new ActorRef(data[0], data[1])),
  });
}

registerSendableClass(ActorRef);
addExtension({
  Class: ActorRef,
  type: ACTOR_REF_EXTENSION,
  write: (ref: ActorRef) => [ref.actorId, ref.name],
  read: (data: [string, string | null]) => reviver(new ActorRef(data[0], data[1])),
});

// Structured mode carries Map, Set, Date, typed arrays, BigInt, undefined and cyclic data.
// (useRecords: false would turn Maps into objects and break back-references.)
const structured = new Packr({ structuredClone: true, moreTypes: true });

/**
 * Whether every item is a number, a string, a boolean or null (the arguments of most tasks of a
 * map): such a list packs to the same bytes in msgpackr's plain mode as in its structured one.
 */
export function primitiveList(items: readonly unknown[]): boolean {
  for (let i = 0; i < items.length; i++) {
    const a = items[i];
    const t = typeof a;
    if (a !== null && t !== 'number' && t !== 'string' && t !== 'boolean') return false;
  }
  return true;
}

// Only ever packs lists that primitiveList() accepted. Records stay on as in structured mode:
// with them, 64-127 are written as uint8 (their fixints name records), as unpackValue expects.
const plain = new Packr({ moreTypes: true });

/**
 * packValue for a list {@link primitiveList} accepted, without structured mode's reference Map.
 * The bytes are a view of msgpackr's buffer, which it never writes over (each pack goes after the
 * last), not a copy: not for moving to another thread.
 */
export function packPrimitiveList(items: readonly unknown[]): Uint8Array {
  return plain.pack(items);
}

/** Past this, a packed value keeps the buffer msgpackr grew for it instead of a copy. */
const KEEP_BUFFER_BYTES = 1024 * 1024;

/** A large packed value's buffer given back is kept for the next one up to this size, for this long. */
const MAX_SPARE_BYTES = 64 * 1024 * 1024;
const SPARE_MS = 5_000;

/** The exact bytes packValue handed out over each buffer sized for a large value: only those come back. */
const issued = new WeakMap<ArrayBufferLike, Uint8Array>();
let spare: Buffer | null = null;
let spareTimer: ReturnType<typeof setTimeout> | null = null;

/**
 * A buffer for a value of about `size` bytes: the spare one when it fits without wasting more than
 * it holds (a fresh one otherwise). A 10 MB round trip made ~30 MB of fresh ArrayBuffers, and V8,
 * counting them as external memory, ran a full mark-compact about every round trip.
 */
function largeBuffer(size: number): Buffer {
  const reuse = spare;
  if (reuse !== null && reuse.byteLength >= size && reuse.byteLength <= 2 * size) {
    spare = null;
    return reuse;
  }
  return Buffer.allocUnsafeSlow(size);
}

/**
 * Gives back the bytes of a large value packValue returned, once nothing will read them again (a
 * task that ran once and whose result came back, keeping nothing): the next large value is packed
 * into the same memory. Anything else (bytes packValue did not hand out as they are, or handed out
 * and given back already) is ignored, so a caller that is unsure gives nothing back.
 */
export function releasePacked(bytes: Uint8Array): void {
  const buffer = bytes.buffer;
  if (issued.get(buffer) !== bytes) return;
  issued.delete(buffer);
  if (buffer.byteLength > MAX_SPARE_BYTES || (spare !== null && spare.byteLength >= buffer.byteLength)) return;
  spare = Buffer.from(buffer);
  // Idle memory goes back to the GC after a while: the spare serves values that follow each other.
  if (spareTimer !== null) clearTimeout(spareTimer);
  spareTimer = setTimeout(() => {
    spare = null;
    spareTimer = null;
  }, SPARE_MS);
  spareTimer.unref?.();
}

/**
 * Packs a user value into bytes that own their memory (safe to transfer to another thread).
 * `viewUpTo`: bytes up to this many come back as a view of msgpackr's own buffer instead of a copy,
 * for a caller that copies them at once and neither keeps nor moves them (a worker thread's result
 * batch): one ArrayBuffer less per small value.
 */
export function packValue(value: unknown, viewUpTo = 0): Uint8Array {
  if (typeof value === 'number') return packNumber(value, viewUpTo < MAX_NUMBER_BYTES);
  // msgpackr grows its buffer to 4x what it needs below 16 MiB (a 10 MB array got 40 MB): the
  // value's bytes then hold that much memory, and the external memory V8 counts for it brings a
  // full GC about every round trip of a 10 MB value. A value that is mostly large binary data
  // gets a buffer of about its size instead.
  // (A number or a string, most results of trivial tasks, needs no walk and no set.)
  const binary = typeof value === 'object' && value !== null ? largeViewBytes(value, 0, new Set()) : 0;
  const sized = binary >= KEEP_BUFFER_BYTES;
  if (sized) structured.useBuffer(largeBuffer(binary + (binary >>> 6) + 64 * 1024));
  let packed: Uint8Array;
  try {
    packed = structured.pack(value);
  } catch (err) {
    // msgpackr would keep writing small values into the large buffer, holding it.
    if (sized) structured.useBuffer(Buffer.allocUnsafeSlow(8192));
    throw err;
  }
  // pack() returns a view into the buffer msgpackr writes every pack into, one after another. A
  // large value at offset 0 is alone in a buffer msgpackr just grew for it: hand msgpackr a fresh
  // one and keep that (a copy of 100 MB costs ~45 ms). Anything else is copied into a buffer of its
  // own, so the bytes can be transferred to another thread.
  if (packed.byteLength >= KEEP_BUFFER_BYTES && packed.byteOffset === 0) {
    structured.useBuffer(Buffer.allocUnsafeSlow(8192));
    if (sized) issued.set(packed.buffer, packed);
    return packed;
  }
  if (packed.byteLength <= viewUpTo && !sized) return packed;
  const copy = new Uint8Array(packed);
  if (sized) structured.useBuffer(Buffer.allocUnsafeSlow(8192));
  return copy;
}

/** Containers looked into for large views: a size hint for the packed value, not a walk of it. */
const HINT_DEPTH = 3;
const HINT_ENTRIES = 64;

/**
 * The bytes of the typed arrays and Buffers near the top of `value` (arrays and plain objects, a
 * few levels, a few entries each). `seen`: a view met twice packs once (as a back-reference).
 */
function largeViewBytes(value: unknown, depth: number, seen: Set<object>): number {
  if (typeof value !== 'object' || value === null || seen.has(value)) return 0;
  seen.add(value);
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (depth >= HINT_DEPTH) return 0;
  let sum = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && i < HINT_ENTRIES; i++) sum += largeViewBytes(value[i], depth + 1, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    let n = 0;
    for (const key in value) {
      if (++n > HINT_ENTRIES) break;
      if (Object.hasOwn(value, key)) sum += largeViewBytes((value as Record<string, unknown>)[key], depth + 1, seen);
    }
  }
  return sum;
}

/**
 * Unpacks a user value. `revive` turns the actor handles inside into handles of the cluster that
 * unpacks them (a process may hold several clusters); unpacking is synchronous, so the reviver is
 * set for this call only.
 */
export function unpackValue(bytes: Uint8Array, revive?: ActorRefReviver): unknown {
  const numbers = unpackNumbers(bytes);
  if (numbers !== undefined) return numbers;
  // msgpackr hands a Buffer back as a view of the bytes it reads: of a Buffer, so it arrives a
  // Buffer (bytes that crossed a thread are a plain Uint8Array).
  const src = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!revive) return structured.unpack(src);
  reviver = revive;
  try {
    return structured.unpack(src);
  } finally {
    reviver = defaultReviver;
  }
}

/**
 * Unpacks bytes the caller owns and gives up: large typed arrays inside become views of them
 * (no copy), so nothing else may read or write those bytes afterwards.
 */
export function unpackOwnedValue(bytes: Uint8Array, revive?: ActorRefReviver): unknown {
  // Small values arrive inside a frame with other messages: a view would keep that frame alive.
  if (bytes.byteLength < SEGMENT_MIN_BYTES) return unpackValue(bytes, revive);
  return viewingArrays(() => unpackValue(bytes, revive));
}
