/**
 * Short ASCII strings (ids, code hashes) copied between strings and bytes in JavaScript: a call
 * into C++ (`Buffer.write`, `toString`) costs more than the copy for a few dozen characters. The
 * hand-written frames (frame-writer.ts, frame-reader.ts) and the agent's thread batches use these.
 */

/** Strings up to this long go through a reused array (longer ones are checked, then decoded natively). */
const SHORT = 32;
// One array per length: setting an array's length costs more than the copy.
const CODES: number[][] = Array.from({ length: SHORT + 1 }, (_, n) => new Array<number>(n).fill(0));

/**
 * Writes `s` at `at` when it is ASCII (true), byte by byte; false at its first other character (the
 * bytes written so far are the caller's to overwrite). For short strings: the loop is the cost.
 */
export function writeAscii(buf: Uint8Array, at: number, s: string): boolean {
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c >= 0x80) return false;
    buf[at + k] = c;
  }
  return true;
}

/** The `n` bytes at `at` as a string when every one is ASCII; null otherwise. */
export function readAscii(buf: Buffer, at: number, n: number): string | null {
  if (n > SHORT) {
    for (let i = at; i < at + n; i++) if (buf[i]! >= 0x80) return null;
    return buf.toString('latin1', at, at + n);
  }
  const codes = CODES[n]!;
  for (let k = 0; k < n; k++) {
    const c = buf[at + k]!;
    if (c >= 0x80) return null;
    codes[k] = c;
  }
  return String.fromCharCode.apply(null, codes);
}
