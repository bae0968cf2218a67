/**
 * Values kept on agents (issue 13): the coordinator's object directory and the agents' stores
 * speak these. Values are packed bytes; the coordinator never decodes them.
 */
import { z } from 'zod';
import { Bytes, Id } from './common.js';

/** An object's id: also a file name in an agent's spill directory, so only these characters. */
export const ObjectId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, { message: 'an object id is 1-128 of A-Z a-z 0-9 _ -' });

/** `host:port` of an agent's PeerServer. */
export const PeerAddress = z.string().min(3).max(300);

/** An object a task needs, and the agents it can be fetched from directly. */
export const Dep = z.object({
  objectId: ObjectId,
  from: z.array(PeerAddress).max(64),
  /** Only nested inside an argument: fetched when the task awaits it, not before it starts. */
  lazy: z.boolean().optional(),
});
export type Dep = z.infer<typeof Dep>;

// ---- coordinator → agent ----

/** Keep these bytes (a `put` value, or a copy the coordinator relays). */
export const ObjectPut = z.object({
  type: z.literal('object-put'),
  objectId: ObjectId,
  bytes: Bytes,
});
export type ObjectPut = z.infer<typeof ObjectPut>;

/** Send the bytes of an object this agent holds (answered by `object-data`). */
export const ObjectGet = z.object({
  type: z.literal('object-get'),
  id: Id,
  objectId: ObjectId,
});
export type ObjectGet = z.infer<typeof ObjectGet>;

/** Nobody needs these any more. */
export const ObjectFree = z.object({
  type: z.literal('object-free'),
  objectIds: z.array(ObjectId).max(65_536),
});
export type ObjectFree = z.infer<typeof ObjectFree>;

// ---- agent → coordinator ----

/** A task's result was kept here under its object id (small ones travel along). */
export const Kept = z.object({
  type: z.literal('kept'),
  id: Id,
  objectId: ObjectId,
  size: z.number().int().nonnegative(),
  /** The value itself when it is small: the coordinator keeps it, and awaits need no fetch. */
  value: Bytes.nullable(),
  /** Refs inside the value: they stay alive while it does. */
  refs: z.array(ObjectId).max(65_536),
  runMs: z.number().nonnegative(),
});
export type Kept = z.infer<typeof Kept>;

/** The answer to `object-get`. */
export const ObjectData = z.object({
  type: z.literal('object-data'),
  id: Id,
  objectId: ObjectId,
  bytes: Bytes.nullable(),
  error: z.string().max(2000).nullable(),
});
export type ObjectData = z.infer<typeof ObjectData>;

/** The answer to an `object-request`: the bytes, relayed, or why there are none. */
export const ObjectReply = ObjectData.extend({ type: z.literal('object-reply') });
export type ObjectReply = z.infer<typeof ObjectReply>;

/** This agent could not fetch an object from its peers: the coordinator relays it (`object-reply`). */
export const ObjectRequest = z.object({
  type: z.literal('object-request'),
  id: Id,
  objectId: ObjectId,
});
export type ObjectRequest = z.infer<typeof ObjectRequest>;

/** This agent now holds a copy (fetched for a task): later tasks needing it may run here. */
export const ObjectCopied = z.object({
  type: z.literal('object-copied'),
  objectId: ObjectId,
});
export type ObjectCopied = z.infer<typeof ObjectCopied>;

/** This agent serves its objects to peers at this address (its PeerServer). */
export const ObjectPeer = z.object({
  type: z.literal('object-peer'),
  address: PeerAddress,
});
export type ObjectPeer = z.infer<typeof ObjectPeer>;
