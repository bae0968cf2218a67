/**
 * Replays bytes written to a terminal into the lines left on its screen: enough of a VT100 for
 * what clustrix writes (carriage return, newline, erase line, cursor up, colours ignored), so a
 * test sees what a person would, not the byte stream.
 */
export function screenLines(bytes: string): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  for (let i = 0; i < bytes.length; i++) {
    const ch = bytes[i]!;
    if (ch === '\x1b') {
      // eslint-disable-next-line no-control-regex -- escape sequences are what this parses
      const m = /^\x1b\[(\d*)([A-Za-z])/.exec(bytes.slice(i, i + 12));
      if (m) {
        i += m[0].length - 1;
        const n = Number(m[1] || '1');
        if (m[2] === 'K') lines[row] = m[1] === '2' ? [] : lines[row]!.slice(0, col);
        else if (m[2] === 'A') row = Math.max(0, row - n);
        continue; // colours and anything else: no effect on the text
      }
    }
    if (ch === '\r') {
      col = 0;
    } else if (ch === '\n') {
      // A terminal's driver turns a newline into carriage return + line feed (onlcr).
      col = 0;
      row++;
      if (row === lines.length) lines.push([]);
    } else {
      const line = lines[row]!;
      while (line.length < col) line.push(' ');
      line[col++] = ch;
    }
  }
  return lines.map((l) => l.join('').trimEnd());
}
