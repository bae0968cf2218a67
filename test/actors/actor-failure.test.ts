import { afterEach, describe, expect, it } from 'vitest';
import { ActorDiedError, Cluster } from 'clustrix';
import { isAlive, waitUntil } from '../helpers/processes.js';
import { MODES, type ClusterHandle } from '../helpers/modes.js';

class Counter {
  n = 0;
  add(k: number): number {
    this.n += k;
    return this.n;
  }
  spin(): never {
    for (;;) {
      // a synchronous call that never returns
    }
  }
}

describe.each(MODES)('actors when their agent dies ($name)', (mode) => {
  let handle: ClusterHandle | undefined;
  afterEach(async () => {
    await handle?.close();
    handle = undefined;
  });
  const start = async (options: { agents: number; slots: number }): Promise<Cluster> => {
    handle = await mode.start(options);
    return handle.cluster;
  };

  const agentPidOf = async (c: Cluster, actorId: string): Promise<number> => {
    const agentId = (await c.actors()).find((a) => a.id === actorId)?.agentId;
    const pid = (await c.agents()).find((a) => a.id === agentId)?.pid;
    if (!pid) throw new Error(`no agent for actor ${actorId}`);
    return pid;
  };

  it('with maxRestarts 0, kill -9 of its agent makes calls reject with ACTOR_DIED naming the actor', async () => {
    const cluster = await start({ agents: 2, slots: 1 });
    const counter = await cluster.actor(Counter, { name: 'doomed' });
    await counter.call('add', 1);
    const pid = await agentPidOf(cluster, counter.id);
    process.kill(pid, 'SIGKILL');
    await waitUntil(async () => !isAlive(pid), { what: 'the agent to die' });
    await waitUntil(async () => counter.state === 'dead', { what: 'the actor to be declared dead' });
    const err = await counter.call('add', 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActorDiedError);
    expect((err as ActorDiedError).message).toContain("'doomed'");
    expect((err as ActorDiedError).message).toContain('was lost');
  });

  it('with maxRestarts 1, the actor is constructed again on another agent and later calls succeed', async () => {
    const cluster = await start({ agents: 2, slots: 1 });
    const counter = await cluster.actor(Counter, { maxRestarts: 1 });
    await counter.call('add', 41);
    const before = (await cluster.actors()).find((a) => a.id === counter.id)?.agentId;
    const pid = await agentPidOf(cluster, counter.id);
    process.kill(pid, 'SIGKILL');
    await waitUntil(async () => counter.restarts === 1 && counter.state === 'alive', { what: 'the restart', timeoutMs: 15_000 });
    // Its state since the last construction is lost: the counter starts from 0 again.
    expect(await counter.call('add', 1)).toBe(1);
    const after = (await cluster.actors()).find((a) => a.id === counter.id)?.agentId;
    expect(after).not.toBe(before);
  });

  it('a timed-out call kills a synchronous actor and says so; with a restart budget it comes back', async () => {
    const cluster = await start({ agents: 1, slots: 2 });
    const counter = await cluster.actor(Counter, { timeoutMs: 300, maxRestarts: 1 });
    await counter.call('add', 5);
    await expect(counter.call('spin')).rejects.toMatchObject({ code: 'TASK_TIMEOUT' });
    await waitUntil(async () => counter.restarts === 1 && counter.state === 'alive', { what: 'the restart' });
    expect(await counter.call('add', 1)).toBe(1);
    // The agent itself stayed healthy.
    expect(await cluster.run((x: number) => x * 2, 21)).toBe(42);
  });

  it('close() kills every actor', async () => {
    const cluster = await start({ agents: 1, slots: 2 });
    const counter = await cluster.actor(Counter);
    await cluster.close();
    expect(counter.state).toBe('dead');
    await expect(counter.call('add', 1)).rejects.toMatchObject({ code: 'ACTOR_DIED' });
  });
});
