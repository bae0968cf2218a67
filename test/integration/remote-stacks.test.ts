// Remote errors point at the user's code: module tasks through the bundle's inline source map,
// functions shipped by source through a sourceURL naming their file; import.meta.url in a module
// is that file's own URL, not the agent's cache file.
import { describe, expect, it } from 'vitest';
import { Cluster, RemoteError } from 'clustrix';
import { runExploding } from '../fixtures/code/ships-function.mjs';
import { MODES, useCluster } from '../helpers/modes.js';

describe.each(MODES)('$name', (mode) => {
  type Throws = typeof import('../fixtures/code/throws.js');

  let cluster!: Cluster;
  useCluster(mode, { agents: 1, slots: 1 }, (c) => (cluster = c));

  async function remoteStack(promise: Promise<unknown>): Promise<string> {
    const err = await promise.then(
      () => new Error('expected a rejection'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RemoteError);
    return (err as RemoteError).remoteStack ?? '';
  }

  const fixture = (name: string): string => new URL(`../fixtures/code/${name}`, import.meta.url).href;
  /** Node prints a source-mapped frame's file as a path. */
  const fixturePath = (name: string): string => new URL(`../fixtures/code/${name}`, import.meta.url).pathname;

  describe('a module task that throws', () => {
    it('has a remote frame at the line and column of the TypeScript source', async () => {
      const tasks = await cluster.module<Throws>(new URL('../fixtures/code/throws.ts', import.meta.url));
      const stack = await remoteStack(cluster.run(tasks.fn('fail'), 'x'));
      const top = stack.split('\n')[1] ?? '';
      expect(top).toBe(`    at fail (${fixturePath('throws.ts')}:11:9)`);
      expect(stack).not.toMatch(/code\/[0-9a-f]{64}/); // no frame in the agent's cache file
    });

    it('the same, inline on the agent event loop', async () => {
      const tasks = await cluster.module<Throws>(new URL('../fixtures/code/throws.ts', import.meta.url));
      const stack = await remoteStack(cluster.remote(tasks.fn('fail'), { inline: true })('y'));
      expect(stack.split('\n')[1]).toBe(`    at fail (${fixturePath('throws.ts')}:11:9)`);
    });
  });

  describe('import.meta.url in a module', () => {
    it("is each file's own URL on the agent", async () => {
      const tasks = await cluster.module<Throws>(new URL('../fixtures/code/throws.ts', import.meta.url));
      expect(await cluster.run(tasks.fn('urls'))).toEqual({ own: fixture('throws.ts'), helper: fixture('throws-helper.ts') });
    });
  });

  describe('a function shipped by source that throws', () => {
    it('from plain JavaScript: its remote frame names the file, line and column where it was written', async () => {
      const stack = await remoteStack(runExploding(cluster));
      expect(stack.split('\n')[1]).toBe(`    at explode (${fixture('ships-function.mjs')}:5:11)`);
    });

    it('whose text is not in the calling file: the frame names the function and the calling file, not [worker eval]', async () => {
      const stack = await remoteStack(cluster.run(function compiledAway(n: number): number {
        throw new Error(`no ${n}`);
      }, 1));
      const top = stack.split('\n')[1] ?? '';
      expect(top).toMatch(new RegExp(`at compiledAway \\(${escape(import.meta.url)}#compiledAway:\\d+:\\d+\\)`));
      expect(stack).not.toContain('[worker eval]');
    });
  });

  function escape(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
});
