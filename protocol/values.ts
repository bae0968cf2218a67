import { Packr } from 'msgpackr';

// Structured mode carries Map, Set, Date, typed arrays, BigInt, undefined and cyclic data.
const structured = new Packr({ structuredClone: true, moreTypes: true, useRecords: false });

/** Packs a user value into bytes that own their memory (safe to transfer to another thread). */
export function packValue(value: unknown): Uint8Array {
  // pack() returns a view into a buffer msgpackr reuses; slice so the bytes stand alone.
  return structured.pack(value).slice();
}

export function unpackValue(bytes: Uint8Array): unknown {
  return structured.unpack(bytes);
}
