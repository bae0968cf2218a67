// map/stream progress: the bar on a real pseudo-terminal, onProgress for programs, the renderer.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Cluster, ConfigError, type Progress } from 'clustrix';
import { ProgressTracker, renderBar } from '../../coordinator/api/progress.js';
import { MODES, useCluster } from '../helpers/modes.js';

const script = fileURLToPath(new URL('../fixtures/service/progress-map.mjs', import.meta.url));

/** Runs the script under `script(1)`, so its stdout and stderr are a terminal; returns the screen bytes. */
function underPty(args: string): string {
  return execFileSync('script', ['-qfec', `${process.execPath} ${script} ${args}`, '/dev/null'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, COLUMNS: '100' } });
}

describe('progress bar', () => {
  it('draws on a terminal and ends at done/total', () => {
    const screen = underPty('');
    expect(screen).toContain('result 100');
    expect(screen).toMatch(/\[█+\] 100\/100 [\d.]+\/s in \d+s/);
    // Redrawn in place: carriage return and erase-line, several times.
    expect(screen.split('\r\x1b[2K').length).toBeGreaterThan(2);
  });

  it('stays off with progress: false', () => {
    const screen = underPty('off');
    expect(screen).toContain('result 100');
    expect(screen).not.toContain('█');
  });

  it('is off when stderr is not a terminal', () => {
    const out = execFileSync(process.execPath, [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toBe('result 100\n');
  });
});

describe.each(MODES)('onProgress ($name)', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 1, slots: 2 }, (c) => (cluster = c));

  it('reports done/total after each task and once finished', async () => {
    const seen: Progress[] = [];
    await cluster.map((x: number) => x, Array.from({ length: 20 }, (_, i) => i), { chunkSize: 5, onProgress: (p) => seen.push(p) });
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ done: 20, failed: 0, total: 20, finished: true, etaMs: 0 });
    expect(seen.filter((p) => !p.finished).map((p) => p.done)).toEqual([5, 10, 15, 20]);
  });

  it('learns the total of a lazy input when it ends', async () => {
    const seen: Progress[] = [];
    function* items(): Generator<number> {
      for (let i = 0; i < 6; i++) yield i;
    }
    await cluster.map((x: number) => x, items(), { concurrency: 1, onProgress: (p) => seen.push(p) });
    expect(seen[0]!.total).toBeNull();
    expect(seen.at(-1)).toMatchObject({ done: 6, total: 6, finished: true });
  });

  it('counts failures', async () => {
    const seen: Progress[] = [];
    const fails = (x: number): number => {
      if (x === 5) throw new Error('five');
      return x;
    };
    await expect(cluster.map(fails, [0, 1, 2, 3, 4, 5], { concurrency: 1, onProgress: (p) => seen.push(p) })).rejects.toThrow('five');
    expect(seen.at(-1)).toMatchObject({ done: 5, failed: 1, total: 6, finished: true });
  });

  it('rejects a non-function onProgress', () => {
    expect(() => cluster.stream((x: number) => x, [1], { onProgress: 1 as unknown as () => void })).toThrow(new ConfigError('options.onProgress: expected a function (progress) => void, got 1'));
  });
});

describe('renderBar', () => {
  it('shows count, rate, ETA and failures', () => {
    const p: Progress = { done: 40, failed: 2, total: 100, rate: 12.34, etaMs: 5_000, elapsedMs: 3_000, finished: false };
    const line = renderBar('square', p, 100);
    expect(line).toMatch(/^square \[█+░+\] 42\/100 12\.3\/s ETA 5s .*2 failed/);
    expect(renderBar('f', { ...p, total: null, etaMs: null }, 80)).toContain('42/? 12.3/s ETA ?');
  });

  it('computes the ETA from the rate so far', () => {
    const t = new ProgressTracker('f', 10, null, null);
    t.settled(5, true);
    const s = t.snapshot(false);
    expect(s.done).toBe(5);
    expect(s.total).toBe(10);
  });
});
