import type { Rng } from './generators.js';

/** A frame cut short, one byte longer, and six copies with one byte changed each. */
export function frameMutations(frame: Buffer, rng: Rng): Buffer[] {
  const out: Buffer[] = [frame.subarray(0, rng.int(0, frame.length - 1)), Buffer.concat([frame, Buffer.from([rng.int(0, 255)])])];
  for (let i = 0; i < 6; i++) {
    const m = Buffer.from(frame);
    m[rng.int(0, m.length - 1)] = rng.int(0, 255);
    out.push(m);
  }
  return out;
}
