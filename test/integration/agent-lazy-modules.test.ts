// An agent loads what only some agents use at its first use, not at its start (issue 16): Node's
// https, tls and zlib (wss://, compression), and its agent-to-agent links. A plain local agent
// never loads those builtins (child_process, also deferred, is not asserted: Node's net loads it
// for the peer server's listen, once connected); the lazily loaded parts still work when a task
// needs them: a value fetched from another agent here, wss:// in tls.test.ts.
import { describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';

/** Runs on the agent's own thread (inline): the builtins its process has loaded so far, of those that load lazily. */
const lazyBuiltinsLoaded = (): string[] =>
  (process as unknown as { moduleLoadList: string[] }).moduleLoadList.filter((m) => /^NativeModule (https|tls|zlib)$/.test(m));

describe.each(MODES)('$name', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 2, slots: 1 }, (c) => (cluster = c));

  it('a plain agent has not loaded https, tls or zlib', async () => {
    const loaded = await cluster.broadcast(cluster.remote(lazyBuiltinsLoaded, { inline: true }));
    expect(loaded).toEqual([[], []]);
  });

  it('a value one agent holds is fetched by the other over the agent-to-agent link it loads at first use', async () => {
    const made = cluster.submit((n: number) => new Float64Array(n).fill(2), 1024);
    await made;
    const lengths = await cluster.broadcast((xs: Float64Array) => xs.length * xs[0]!, made);
    expect(lengths).toEqual([2048, 2048]);
  });
});
