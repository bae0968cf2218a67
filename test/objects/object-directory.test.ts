// The coordinator's object directory against a fake set of agents (a test double of ObjectAgents).
import { describe, expect, it } from 'vitest';
import { ObjectDirectory, type ObjectAgents } from '../../coordinator/engine/object-directory.js';
import { ObjectLostError } from '../../coordinator/errors/errors.js';

function fakeAgents(held: Record<string, Record<string, Uint8Array>>): ObjectAgents & { freed: [string, string][] } {
  const freed: [string, string][] = [];
  return {
    freed,
    address: (agent) => (held[agent] ? `127.0.0.1:${agent.length}` : null),
    get: async (agent, id) => {
      const bytes = held[agent]?.[id];
      if (!bytes) throw new Error(`${agent} has no ${id}`);
      return bytes;
    },
    free: (agent, ids) => {
      for (const id of ids) freed.push([agent, id]);
    },
  };
}

describe('the object directory', () => {
  it('makes waiters wait until the object is kept, then serves its bytes from the agent that holds it', async () => {
    const agents = fakeAgents({ a1: { o1: new Uint8Array([7]) } });
    const dir = new ObjectDirectory(agents);
    dir.expect('o1', null);
    let ready = false;
    const waiting = dir.ready(['o1']).then(() => (ready = true));
    await Promise.resolve();
    expect(ready).toBe(false);
    dir.kept('o1', 'a1', 1, null, []);
    await waiting;
    expect([...(await dir.bytesOf('o1'))]).toEqual([7]);
    expect(dir.source('o1')).toEqual({ inline: null, from: ['127.0.0.1:2'], holders: ['a1'] });
  });

  it('keeps small values itself, so a lost agent does not lose them', async () => {
    const dir = new ObjectDirectory(fakeAgents({}));
    dir.expect('o1', null);
    dir.kept('o1', 'a1', 1, new Uint8Array([9]), []);
    dir.agentLost('a1', 'killed');
    expect([...(await dir.bytesOf('o1'))]).toEqual([9]);
  });

  it('frees an object everywhere when its last handle goes, and what it contains with it', () => {
    const agents = fakeAgents({ a1: {} });
    const dir = new ObjectDirectory(agents);
    dir.put('child', new Uint8Array([1]), []);
    dir.expect('parent', null);
    dir.kept('parent', 'a1', 10, null, ['child']);
    dir.unpin('child'); // the program dropped its handle: the parent still pins it
    expect(dir.has('child')).toBe(true);
    dir.unpin('parent');
    expect(dir.has('parent')).toBe(false);
    expect(dir.has('child')).toBe(false);
    expect(agents.freed).toEqual([['a1', 'parent']]);
  });

  it('makes an object again from its lineage when its only agent is lost', async () => {
    const dir = new ObjectDirectory(fakeAgents({}));
    let reruns = 0;
    dir.expect('o1', { rerun: () => reruns++, retriesLeft: 1, what: 'task t1 (load)' });
    dir.kept('o1', 'a1', 100, null, []);
    dir.agentLost('a1', 'SIGKILL');
    expect(reruns).toBe(1);
    const waiting = dir.ready(['o1']);
    dir.kept('o1', 'a2', 100, null, []);
    await waiting;
    expect(dir.source('o1').holders).toEqual(['a2']);
  });

  it('fails waiters with OBJECT_LOST naming why, when nothing can make the object again', async () => {
    const dir = new ObjectDirectory(fakeAgents({}));
    dir.expect('o1', { rerun: () => undefined, retriesLeft: 0, what: 'task t1 (load)' });
    dir.kept('o1', 'a1', 100, null, []);
    dir.agentLost('a1', 'SIGKILL');
    const err = await dir.ready(['o1']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectLostError);
    expect((err as ObjectLostError).message).toMatch(/only copy was on agent a1, which was lost \(SIGKILL\), and task t1 \(load\) has no retries left/);
    expect((err as ObjectLostError).objectId).toBe('o1');
  });

  it('drops a result kept after its object was freed', () => {
    const agents = fakeAgents({ a1: {} });
    const dir = new ObjectDirectory(agents);
    dir.kept('gone', 'a1', 5, null, []);
    expect(agents.freed).toEqual([['a1', 'gone']]);
  });
});
