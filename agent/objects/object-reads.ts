import { depsFor } from '../thread-transfer.js';

/**
 * How a task reads the value of a ref it was given nested inside an argument: only when it awaits
 * the ref, so a ref it never awaits moves no bytes. The read goes to the agent's main thread,
 * which has the store and the peers; `context` is the task's (or actor call's) id, whose message
 * said where each of its objects is. What the thread's reader gives is the task's own copy (a
 * value viewing it may be changed freely).
 */
export type ReadObject = (objectId: string, context: string) => Promise<Uint8Array>;

/** Thread → agent main thread. */
export interface ObjectReadFromThread {
  type: 'object-read';
  id: string;
  context: string;
  objectId: string;
}

/** Agent main thread → thread: the bytes (this thread's own copy), or why there are none. */
export interface ObjectBytesToThread {
  type: 'object-bytes';
  id: string;
  bytes: Uint8Array | null;
  error: string | null;
}

let read: ReadObject | null = null;
const pending = new Map<string, { resolve(bytes: Uint8Array): void; reject(err: Error): void }>();
let counter = 0;

/** Reads an object's bytes through this thread's reader. */
export function readObject(objectId: string, context: string): Promise<Uint8Array> {
  if (!read) return Promise.reject(lost(`object ${objectId} cannot be read here (refs are read only inside tasks and actors)`));
  return read(objectId, context);
}

/** The agent's main thread reads directly (inline tasks run there); `reader` must give bytes the task may own. */
export function installObjectReads(reader: ReadObject): void {
  read = reader;
}

/** A worker or actor thread reads through its agent's main thread. Call once per thread. */
export function installThreadObjectReads(post: (msg: ObjectReadFromThread) => void): void {
  read = (objectId, context) =>
    new Promise((resolve, reject) => {
      const id = `o${++counter}`;
      pending.set(id, { resolve, reject });
      post({ type: 'object-read', id, context, objectId });
    });
}

export function onObjectBytes(msg: ObjectBytesToThread): void {
  const p = pending.get(msg.id);
  if (!p) return;
  pending.delete(msg.id);
  if (msg.bytes) p.resolve(msg.bytes);
  else p.reject(lost(msg.error ?? 'no reason given'));
}

/** The main thread's end of a thread's read: the bytes are copied for the thread (the store keeps its own) and moved. */
export function answerObjectRead(msg: ObjectReadFromThread, reader: ReadObject, reply: (msg: ObjectBytesToThread, transfer: ArrayBuffer[]) => void): void {
  reader(msg.objectId, msg.context).then(
    (bytes) => {
      const transfer: ArrayBuffer[] = [];
      const own = depsFor(new Map([[msg.objectId, bytes]]), transfer).get(msg.objectId)!;
      reply({ type: 'object-bytes', id: msg.id, bytes: own, error: null }, transfer);
    },
    (err: unknown) => reply({ type: 'object-bytes', id: msg.id, bytes: null, error: (err as Error).message }, []),
  );
}

function lost(message: string): Error {
  return Object.assign(new Error(message), { code: 'OBJECT_LOST', name: 'ObjectLostError' });
}
