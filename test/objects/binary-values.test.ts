// Binary values of a few MB (issue 16): each large view travels as the bytes of a frame segment
// that leaves whole (up to 16 MiB) and is kept as ws delivered it, packed into a buffer sized from
// the value, and viewed in place where it is aligned. These check that what arrives is exactly what
// was passed, byte for byte and type for type, for the shapes that take other paths through that:
// views into bigger buffers, odd offsets, shared memory, several arrays in one argument, NaN
// payloads, empty arrays beside large ones, Buffers, and values whose other data outgrows the size
// hint. Both ways: as arguments (checked on the agent) and as results (checked here).
import { describe, expect, it } from 'vitest';
import type { Cluster } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';

const MB = 1024 * 1024;

/** The bytes of a view, to compare exactly (NaN payloads, -0). */
function bytes(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

function filled<T extends Float64Array | Float32Array | Int16Array | Uint8Array>(view: T, seed: number): T {
  const raw = bytes(view);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 131 + seed) & 0xff;
  return view;
}

/** A digest the agent can compute without clustrix: length and a sampled sum of the bytes. */
function digest(view: ArrayBufferView): string {
  const raw = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  let h = raw.length;
  for (let i = 0; i < raw.length; i += 97) h = (h * 31 + raw[i]!) % 2_147_483_647;
  return `${view.constructor.name}:${raw.length}:${h}:${raw[raw.length - 1] ?? -1}`;
}

describe.each(MODES)('binary values, exact ($name)', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 1, slots: 1 }, (c) => (cluster = c));
  const echo = <T>(value: T): T => value;
  const roundTrip = <T>(value: T): Promise<T> => cluster.run(echo, value) as Promise<T>;

  it('a Float64Array viewing the middle of a bigger buffer arrives as just its elements', { timeout: 60_000 }, async () => {
    const backing = filled(new Float64Array((6 * MB) / 8), 1);
    const view = new Float64Array(backing.buffer, 8 * 1001, (4 * MB) / 8 + 3);
    const back = await roundTrip(view);
    expect(back).toBeInstanceOf(Float64Array);
    expect(back.length).toBe(view.length);
    expect(bytes(back).equals(bytes(view))).toBe(true);
  });

  it('views at odd byte offsets, several in one argument, with empty arrays beside them', { timeout: 60_000 }, async () => {
    const odd = new Uint8Array(filled(new Uint8Array(3 * MB + 7), 2).buffer, 3, 3 * MB);
    const f32 = new Float32Array(filled(new Float32Array(MB), 3).buffer, 4, MB / 2 + 1);
    const i16 = filled(new Int16Array(MB + 1), 4);
    const f64 = filled(new Float64Array(MB / 4), 5);
    const value = { odd, nested: [f32, { i16 }], f64, empty: new Float64Array(0), emptyBytes: new Uint8Array(0) };
    const onAgent = await cluster.run(
      (v: typeof value, d: string) => {
        const fn = new Function('return ' + d)() as (view: ArrayBufferView) => string;
        return [v.odd, v.nested[0] as ArrayBufferView, (v.nested[1] as { i16: Int16Array }).i16, v.f64, v.empty, v.emptyBytes].map(fn);
      },
      value,
      digest.toString(),
    );
    expect(onAgent).toEqual([odd, f32, i16, f64, value.empty, value.emptyBytes].map(digest));
    const back = await roundTrip(value);
    expect(back.odd).toBeInstanceOf(Uint8Array);
    expect(bytes(back.odd).equals(bytes(odd))).toBe(true);
    expect(back.nested[0]).toBeInstanceOf(Float32Array);
    expect(bytes(back.nested[0] as Float32Array).equals(bytes(f32))).toBe(true);
    const i16Back = (back.nested[1] as { i16: Int16Array }).i16;
    expect(i16Back).toBeInstanceOf(Int16Array);
    expect(bytes(i16Back).equals(bytes(i16))).toBe(true);
    expect(bytes(back.f64).equals(bytes(f64))).toBe(true);
    expect(back.empty).toBeInstanceOf(Float64Array);
    expect(back.empty.length).toBe(0);
    expect(back.emptyBytes).toBeInstanceOf(Uint8Array);
    expect(back.emptyBytes.length).toBe(0);
  });

  it('NaN payloads and -0 survive bit for bit', { timeout: 60_000 }, async () => {
    const arr = new Float64Array((2 * MB) / 8);
    const dv = new DataView(arr.buffer);
    for (let i = 0; i < arr.length; i++) dv.setBigUint64(i * 8, 0x7ff0_0000_0000_0001n + BigInt(i), true); // signalling/quiet NaNs, each distinct
    arr[0] = -0;
    const back = await roundTrip(arr);
    expect(back.length).toBe(arr.length);
    expect(Object.is(back[0], -0)).toBe(true);
    expect(bytes(back).equals(bytes(arr))).toBe(true);
  });

  it('a SharedArrayBuffer source arrives as a copy with the same bytes', { timeout: 60_000 }, async () => {
    const shared = filled(new Float64Array(new SharedArrayBuffer(3 * MB)), 6);
    const back = await roundTrip(shared);
    expect(back).toBeInstanceOf(Float64Array);
    expect(bytes(back).equals(bytes(shared))).toBe(true);
    shared[0] = 42;
    expect(back[0]).not.toBe(42);
  });

  it('a Buffer stays a Buffer, and the same array twice stays one array', { timeout: 60_000 }, async () => {
    const buf = filled(new Uint8Array(5 * MB + 1), 7);
    const asBuffer = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    const arr = filled(new Float64Array(MB / 8), 8);
    const back = await cluster.run((b: Buffer, a: Float64Array, again: Float64Array) => ({ b, a, again, isBuffer: Buffer.isBuffer(b), same: a === again }), asBuffer, arr, arr);
    expect(back.isBuffer).toBe(true);
    expect(Buffer.isBuffer(back.b)).toBe(true);
    expect(back.b.equals(asBuffer)).toBe(true);
    expect(back.same).toBe(true);
    expect(back.a).toBe(back.again);
    expect(bytes(back.a).equals(bytes(arr))).toBe(true);
  });

  it('a large array beside more other data than its size hint leaves room for', { timeout: 60_000 }, async () => {
    const arr = filled(new Float64Array((2 * MB) / 8), 9);
    const list = Array.from({ length: 300_000 }, (_, i) => ({ i, s: `item-${i}` }));
    const back = await roundTrip({ arr, list });
    expect(bytes(back.arr).equals(bytes(arr))).toBe(true);
    expect(back.list).toHaveLength(list.length);
    expect(back.list[299_999]).toEqual({ i: 299_999, s: 'item-299999' });
  });

  it('the value is taken when the call is made: changing the array afterwards changes nothing sent', { timeout: 60_000 }, async () => {
    const arr = new Float64Array((10 * MB) / 8).fill(1.5);
    const pending = cluster.run((a: Float64Array) => a.every((x) => x === 1.5), arr);
    arr.fill(-1);
    expect(await pending).toBe(true);
  });
});
