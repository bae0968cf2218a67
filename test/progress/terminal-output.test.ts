// Task output and the progress bar on one real terminal (a pseudo-terminal from script(1)): what a
// person sees after a map whose tasks print, replayed from the captured bytes.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { screenLines } from '../helpers/screen.js';

const script = fileURLToPath(new URL('../fixtures/progress/output-map.mjs', import.meta.url));
const BAR = /\[[█░]+\] \d+\/\d+/;
const PREFIX = '\\[[\\w-]+ [\\w-]+\\] ';

/** The screen after running the fixture under script(1), so its stdout and stderr are a terminal. */
function screenOf(args: string): string[] {
  const run = spawnSync('script', ['-qfec', `${process.execPath} ${script} ${args}`, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
  return screenLines(run.stdout).filter((l) => l.length > 0);
}

// Inline tasks with a label; worker-thread tasks of an anonymous function get the default label.
describe.each([
  { mode: 'inline', label: 'squares', shown: 'squares' },
  { mode: 'thread', label: '', shown: 'map' },
])('a map whose $mode tasks print, on a terminal', ({ mode, label, shown }) => {
  let screen: string[] = [];
  beforeAll(() => {
    screen = screenOf(`${mode} ${label}`);
  });

  it('never glues a log line onto the bar', () => {
    const bars = screen.filter((l) => BAR.test(l));
    expect(bars.length).toBeGreaterThan(0);
    for (const line of bars) expect(line).toMatch(new RegExp(`^${shown} \\[[█░]+\\] \\d+/60 [\\d.]+/s (ETA \\S+|in \\d+s)$`));
  });

  it('ends with the bar at 60/60, drawn before the final onProgress', () => {
    const lastBar = screen.findLastIndex((l) => BAR.test(l));
    expect(screen[lastBar]).toMatch(/ 60\/60 .* in \d+s$/);
    expect(screen[lastBar + 1]).toBe('final callback');
    expect(screen.at(-1)).toBe('result 60 last {"done":60,"total":60,"finished":true}');
  });

  it('prefixes whole lines written in pieces, and flushes the last partial line', () => {
    const pieces = screen.filter((l) => l.includes('piece'));
    expect(pieces).toHaveLength(60);
    for (const line of pieces) expect(line).toMatch(new RegExp(`^${PREFIX}piece (\\d+) of \\1$`));
    const tails = screen.filter((l) => l.includes('tail'));
    expect(tails).toHaveLength(60);
    for (const line of tails) expect(line).toMatch(new RegExp(`^${PREFIX}tail \\d+$`));
  });

  it('prints a line of every task once, then how often it repeated', () => {
    expect(screen.filter((l) => l.includes('loading model'))).toEqual([
      expect.stringMatching(new RegExp(`^${PREFIX}loading model$`)),
      expect.stringMatching(new RegExp(`^${PREFIX}loading model \\[repeated 59x across cluster\\]$`)),
    ]);
  });
});
