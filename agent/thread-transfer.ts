/**
 * What a postMessage to a worker thread may move instead of copy. A structured clone copies a
 * view's whole ArrayBuffer, twice (serialize, deserialize): 100 MB cost ~100 ms where one memcpy
 * is ~45 ms and a transfer ~0.
 */

/** Bytes at least this large are worth moving (smaller ones clone in less than a transfer costs). */
export const TRANSFER_MIN_BYTES = 64 * 1024;

/**
 * True when `bytes` alone spans its ArrayBuffer, so moving that buffer takes nothing else with it
 * (a view into a socket's read buffer or into a frame shared with other messages never does).
 */
export function ownsBuffer(bytes: Uint8Array): boolean {
  return bytes.byteLength >= TRANSFER_MIN_BYTES && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
}

/**
 * The bytes of a task's arguments for its thread: moved when this is their last use on this
 * thread (`last`) and they own their buffer; otherwise cloned as before.
 */
export function argsFor(bytes: Uint8Array, last: boolean, transfer: ArrayBuffer[]): Uint8Array {
  if (last && ownsBuffer(bytes)) transfer.push(bytes.buffer as ArrayBuffer);
  return bytes;
}

/** Large copies of an object made for one task alone (see {@link forOneTask}). */
const taskCopies = new WeakSet<Uint8Array>();

/**
 * Marks `bytes` (a copy of an object nobody else holds, e.g. the spare a peer fetch made while the
 * value arrived) as the next task's own: {@link depsFor} then moves it into that task's thread
 * instead of copying it.
 */
export function forOneTask(bytes: Uint8Array): Uint8Array {
  if (ownsBuffer(bytes)) taskCopies.add(bytes);
  return bytes;
}

/**
 * The objects a task needs, for its thread: the store keeps its own bytes, so a large one is copied
 * once into a buffer of its own that is then moved (a clone would copy it twice). A copy made for
 * this task alone ({@link forOneTask}) is moved as it is when this is its last use on this thread
 * (`last`, as in {@link argsFor}).
 */
export function depsFor(deps: ReadonlyMap<string, Uint8Array>, transfer: ArrayBuffer[], last = false): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [id, bytes] of deps) {
    if (bytes.byteLength < TRANSFER_MIN_BYTES) {
      out.set(id, bytes);
      continue;
    }
    if (last && taskCopies.delete(bytes)) {
      transfer.push(bytes.buffer as ArrayBuffer);
      out.set(id, bytes);
      continue;
    }
    const copy = new Uint8Array(bytes);
    transfer.push(copy.buffer);
    out.set(id, copy);
  }
  return out;
}

/** A copy for a thread is made in slices this large, the event loop running between them. */
const COPY_SLICE_BYTES = 4 * 1024 * 1024;

/**
 * A copy of `bytes` in a buffer of its own, made a slice at a time with the event loop running in
 * between: a 100 MB copy (10-60 ms) on the agent's main thread would hold up what it serves
 * meanwhile (a peer fetching the same value, socket writes under way).
 */
export async function copyInSlices(bytes: Uint8Array): Promise<Uint8Array> {
  const copy = Buffer.allocUnsafeSlow(bytes.byteLength);
  for (let at = 0; at < bytes.byteLength; at += COPY_SLICE_BYTES) {
    if (at > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    copy.set(bytes.subarray(at, Math.min(at + COPY_SLICE_BYTES, bytes.byteLength)), at);
  }
  return copy;
}
