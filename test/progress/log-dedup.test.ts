// Task output de-duplication (as Ray does): a line printed by many tasks appears once, then a count.
import { describe, expect, it, vi } from 'vitest';
import { dedupLogs, type LogEntry } from '../../coordinator/api/logs.js';

const line = (agentId: string, taskId: string, text: string): LogEntry => ({ agentId, taskId, stream: 'stdout', text });

describe('dedupLogs', () => {
  it('prints a line of many agents once, then how often it repeated', () => {
    vi.useFakeTimers();
    try {
      const out: LogEntry[] = [];
      const d = dedupLogs((e) => out.push(e), 1_000);
      for (let i = 0; i < 8; i++) d.write(line(`a${i % 4}`, `t${i}`, 'loading model\n'));
      d.write(line('a1', 't9', 'something else\n'));
      expect(out.map((e) => e.text)).toEqual(['loading model\n', 'something else\n']);
      vi.advanceTimersByTime(1_001);
      expect(out.map((e) => e.text)).toEqual(['loading model\n', 'something else\n', 'loading model [repeated 7x across cluster on 4 agents]']);
    } finally {
      vi.useRealTimers();
    }
  });

  it("keeps one task's own repeated lines", () => {
    const out: string[] = [];
    const d = dedupLogs((e) => out.push(e.text), 1_000);
    for (let i = 0; i < 3; i++) d.write(line('a0', 't0', 'tick'));
    d.flush();
    expect(out).toEqual(['tick', 'tick', 'tick']);
  });

  it('flush prints the pending counts at once', () => {
    const out: string[] = [];
    const d = dedupLogs((e) => out.push(e.text), 60_000);
    d.write(line('a0', 't0', 'x'));
    d.write(line('a0', 't1', 'x'));
    d.flush();
    expect(out).toEqual(['x', 'x [repeated 1x across cluster]']);
  });
});
