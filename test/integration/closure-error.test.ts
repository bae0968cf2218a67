// A function that reads a variable from its enclosing scope is refused before anything is sent:
// ClosureError names the variable and says how to fix it.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClosureError, Cluster, ClustrixError } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';

describe.each(MODES)('$name', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 1, slots: 1 }, (c) => (cluster = c));

  /** The error a call threw or rejected with: both are acceptable ways to refuse. */
  async function refusal(call: () => unknown): Promise<ClosureError> {
    let err: unknown;
    try {
      await call();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ClosureError);
    return err as ClosureError;
  }

  const tasksDone = async (): Promise<number> => (await cluster.agents()).reduce((n, a) => n + a.tasksDone, 0);

  describe('a function reading an outer variable', () => {
    const factor = 3;
    const scale = (x: number): number => x * factor;

    it('is refused by run, naming the variable and the fix', async () => {
      const before = await tasksDone();
      const err = await refusal(() => cluster.run(scale, 2));
      expect(err).toBeInstanceOf(ClustrixError);
      expect(err.code).toBe('CLOSURE_CAPTURE');
      expect(err.variables).toContain('factor');
      expect(err.message).toContain("'factor'");
      expect(err.message).toMatch(/argument/);
      expect(err.message).toMatch(/cluster\.module/);
      expect(await tasksDone()).toBe(before);
      expect((await cluster.agents())[0]?.busy).toBe(0);
    });

    it('is refused by map, stream, remote and broadcast', async () => {
      const before = await tasksDone();
      await refusal(() => cluster.map(scale, [1, 2]));
      await refusal(async () => {
        for await (const _ of cluster.stream(scale, [1, 2])) {
          // not reached
        }
      });
      await refusal(() => cluster.remote(scale)(1));
      await refusal(() => cluster.broadcast(scale, 1));
      expect(await tasksDone()).toBe(before);
    });

    it('lists every captured name once', async () => {
      const offset = 1;
      const err = await refusal(() => cluster.run((x: number) => x * factor + offset + factor, 1));
      expect([...err.variables].sort()).toEqual(['factor', 'offset']);
    });

    it('an imported function counts as captured, under its own name', async () => {
      const err = await refusal(() => cluster.run((p: string) => join(p, 'x'), '/tmp'));
      expect(err.variables).toEqual(['join']);
    });
  });

  describe('a self-contained function', () => {
    it('is not refused and uses only its parameters and globals', async () => {
      expect(await cluster.run((x: number, factor: number) => Math.round(x * factor), 2, 3)).toBe(6);
    });
  });
});
