/**
 * WebSocket frames written byte by byte, below ws's sender: reserved bits, reserved opcodes,
 * broken fragmentation, bad close frames, invalid UTF-8, wrong masking and lengths past the limit.
 * ws refuses each with its own close code (1002, 1007, 1009) before clustrix sees a message.
 */

export interface FrameSpec {
  opcode: number;
  payload?: Buffer;
  /** @default true */
  fin?: boolean;
  /** RSV1 0x40, RSV2 0x20, RSV3 0x10. @default 0 */
  rsv?: number;
  mask: boolean;
  /** The length the header declares, when it is not the payload's (a header-only lie). */
  declaredLength?: bigint;
}

const MASK_KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

export function wsFrame(spec: FrameSpec): Buffer {
  const payload = spec.payload ?? Buffer.alloc(0);
  const length = spec.declaredLength ?? BigInt(payload.length);
  const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | (spec.rsv ?? 0) | (spec.opcode & 0x0f)];
  const maskBit = spec.mask ? 0x80 : 0;
  if (length < 126n) {
    head.push(maskBit | Number(length));
  } else if (length < 65_536n) {
    head.push(maskBit | 126, Number(length >> 8n) & 0xff, Number(length) & 0xff);
  } else {
    head.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) head.push(Number((length >> shift) & 0xffn));
  }
  if (!spec.mask) return Buffer.concat([Buffer.from(head), payload]);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= MASK_KEY[i % 4]!;
  return Buffer.concat([Buffer.from(head), MASK_KEY, masked]);
}

export interface MalformedFrame {
  name: string;
  bytes: Buffer;
  /** The close code the receiving side must answer with. */
  code: number;
}

const closePayload = (code: number, reason: Buffer = Buffer.alloc(0)): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return Buffer.concat([b, reason]);
};

/**
 * Malformed frames as a `side` would send them: clients mask every frame, servers none. Lengths
 * past `maxPayload` are declared in the header only, so even a 256 MiB limit costs nothing.
 */
export function malformedFrames(side: 'client' | 'server', maxPayload: number): MalformedFrame[] {
  const mask = side === 'client';
  const f = (spec: Omit<FrameSpec, 'mask'> & { mask?: boolean }): Buffer => wsFrame({ mask, ...spec });
  const data = Buffer.from([0x91, 0xc0]);
  const euro = Buffer.from('€');
  const frames: MalformedFrame[] = [
    { name: 'RSV1 set, no extension negotiated', bytes: f({ opcode: 2, rsv: 0x40, payload: data }), code: 1002 },
    { name: 'RSV2 set', bytes: f({ opcode: 2, rsv: 0x20, payload: data }), code: 1002 },
    { name: 'RSV3 set', bytes: f({ opcode: 2, rsv: 0x10, payload: data }), code: 1002 },
    { name: 'reserved data opcode 0x3', bytes: f({ opcode: 0x3, payload: data }), code: 1002 },
    { name: 'reserved control opcode 0xB', bytes: f({ opcode: 0xb }), code: 1002 },
    { name: 'continuation with no message started', bytes: f({ opcode: 0, payload: data }), code: 1002 },
    { name: 'a new message inside a fragmented one', bytes: Buffer.concat([f({ opcode: 2, fin: false, payload: data }), f({ opcode: 2, payload: data })]), code: 1002 },
    { name: 'fragmented ping (FIN clear on a control frame)', bytes: f({ opcode: 0x9, fin: false }), code: 1002 },
    { name: 'ping with 126 bytes of payload', bytes: f({ opcode: 0x9, payload: Buffer.alloc(126, 1) }), code: 1002 },
    { name: 'close frame with a 1-byte payload', bytes: f({ opcode: 0x8, payload: Buffer.from([0x03]) }), code: 1002 },
    ...[999, 1004, 1005, 1006, 1015, 2000, 5000].map((c) => ({ name: `close frame with invalid code ${c}`, bytes: f({ opcode: 0x8, payload: closePayload(c) }), code: 1002 })),
    { name: 'close frame whose reason is not UTF-8', bytes: f({ opcode: 0x8, payload: closePayload(1000, Buffer.from([0xc3, 0x28, 0xff])) }), code: 1007 },
    { name: 'text message that is not UTF-8', bytes: f({ opcode: 0x1, payload: Buffer.from([0x61, 0xc3, 0x28, 0xed, 0xa0, 0x80]) }), code: 1007 },
    // Valid once reassembled: ws hands it over as text, and clustrix refuses text.
    { name: 'text message split inside a multi-byte character', bytes: Buffer.concat([f({ opcode: 0x1, fin: false, payload: euro.subarray(0, 1) }), f({ opcode: 0, payload: euro.subarray(1) })]), code: 4000 },
    { name: mask ? 'unmasked client frame' : 'masked server frame', bytes: wsFrame({ opcode: 2, payload: data, mask: !mask }), code: 1002 },
    { name: 'length 1 byte past maxPayload (header only)', bytes: f({ opcode: 2, declaredLength: BigInt(maxPayload) + 1n }), code: 1009 },
    { name: 'length past 2^53 (header only)', bytes: f({ opcode: 2, declaredLength: 2n ** 60n }), code: 1009 },
    { name: 'fragments adding up past maxPayload', bytes: Buffer.concat([f({ opcode: 2, fin: false, payload: data }), f({ opcode: 0, declaredLength: BigInt(maxPayload) })]), code: 1009 },
  ];
  return frames;
}
