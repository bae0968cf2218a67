// The terminal writer: log lines go above the bars, bars are redrawn below them, a finished bar
// stays where it was drawn. Checked on the screen the bytes leave (test/helpers/screen.ts).
import { describe, expect, it } from 'vitest';
import { renderBar } from '../../coordinator/api/progress.js';
import { Terminal } from '../../coordinator/api/terminal.js';
import { screenLines } from '../helpers/screen.js';

function fakeTerminal(): { term: Terminal; screen: () => string[] } {
  let bytes = '';
  const stream = { isTTY: true, columns: 80, write: (t: string) => ((bytes += t), true) };
  return { term: new Terminal(stream, stream), screen: () => screenLines(bytes) };
}

describe('Terminal', () => {
  it('writes log lines above two bars and keeps both bars below', () => {
    const { term, screen } = fakeTerminal();
    const a = {};
    const b = {};
    term.bar(a, 'bar A 1/3');
    term.bar(b, 'bar B 0/2');
    term.write('stdout', 'line one\n');
    term.bar(a, 'bar A 2/3');
    term.write('stderr', 'line two\nline three\n');
    expect(screen()).toEqual(['line one', 'line two', 'line three', 'bar A 2/3', 'bar B 0/2']);
  });

  it('leaves a finished bar in place and goes on below it', () => {
    const { term, screen } = fakeTerminal();
    const a = {};
    term.bar(a, 'bar A 1/2');
    term.endBar(a, 'bar A 2/2 done');
    term.write('stdout', 'after\n');
    expect(screen()).toEqual(['bar A 2/2 done', 'after', '']);
  });

  it('writes straight through when no bar is up', () => {
    const { term, screen } = fakeTerminal();
    term.write('stdout', 'plain\n');
    expect(screen()).toEqual(['plain', '']);
  });
});

describe('renderBar', () => {
  it('fits one line of the terminal, cutting a long label', () => {
    const p = { done: 3, failed: 0, total: 10, rate: 1, etaMs: 7_000, elapsedMs: 3_000, finished: false };
    const line = renderBar('x'.repeat(200), p, 60);
    expect(line.length).toBeLessThanOrEqual(60);
    expect(line).toMatch(/^x+… \[█+░+\] 3\/10 1\.0\/s ETA 7s$/);
  });
});
