// cluster.module() on a cluster whose pools run in different places: every pool's environment gets
// the external packages (installed, load-checked), each pool's agents get the bundle with their own
// links (another hash), and the scheduler sends each agent its pool's copy; a pool whose agents
// cannot have the packages fails module() naming that pool. Fake environments and fake agents;
// test/cluster/native-module-pools.test.ts does it with real local and ssh agents.
import { describe, expect, it } from 'vitest';
import { localEnvironment, type AgentEnvironment, type ProjectFiles } from '../../coordinator/code/agent-environment.js';
import { shipModule } from '../../coordinator/code/ship-module.js';
import { codeOf } from '../../coordinator/api/runnable.js';
import type { Code, Task } from '../../protocol/coordinator-messages.js';
import { readLinks } from '../../protocol/module-links.js';
import { ModuleDependencyError } from '../../coordinator/errors/errors.js';
import { installNativeFixture, nativeModuleUrl, type NativeTasks } from '../helpers/native-fixture.js';
import { FakeAgent, scheduler, settle, task } from '../engine/fake-links.js';

/** A login node that installs into `dir` (as its agents see it) and whose load check passes. */
function fakeRemote(dir: string, installed: ProjectFiles[]): AgentEnvironment {
  return {
    description: 'fake@login',
    local: false,
    install: async (project) => (installed.push(project), dir),
    probe: async () => [],
  };
}

describe('module() with pools in different places', () => {
  it("installs for every pool and gives each pool's agents its own links", async () => {
    installNativeFixture();
    const installed: ProjectFiles[] = [];
    const far = fakeRemote('~/.fake-cache/npm-1', installed);
    const tasks = await shipModule<NativeTasks>(nativeModuleUrl, {}, [
      { pool: 'here', environment: localEnvironment() },
      { pool: 'far', environment: far },
      { pool: 'far2', environment: far },
    ]);
    expect(installed).toHaveLength(1); // one install per place, not per pool
    const { code } = codeOf(tasks.fn('hash'));
    // This machine's copy (the fixture's node_modules, as the bundle resolved it).
    expect((readLinks(code.source) as Record<string, string>)['@node-rs/xxhash']).toMatch(/^\/.*\/native-project\/node_modules\/@node-rs\/xxhash$/);
    expect(Object.keys(code.byPool ?? {})).toEqual(['far', 'far2']);
    const remote = code.byPool!.far!;
    expect(readLinks(remote.source)).toEqual({ '@node-rs/xxhash': '~/.fake-cache/npm-1/node_modules/@node-rs/xxhash' });
    expect(remote.hash).not.toBe(code.hash);
    expect(code.byPool!.far2).toEqual(remote);

    // Each agent gets its pool's copy, once, and its tasks name that copy's hash.
    const s = scheduler(0, { names: ['here', 'far', 'far2'] });
    const agents = { here: new FakeAgent('h', 1, s, 4, undefined, 'here'), far: new FakeAgent('f', 1, s, 4, undefined, 'far') };
    for (const [pool, agent] of Object.entries(agents)) {
      for (let i = 0; i < 2; i++) {
        const t = task('a', { pool, code });
        s.submit(t.record);
        await settle();
        agent.done(t.record.id);
        await t.outcome;
      }
      const codes = agent.socket.sent.filter((m): m is Code => m.type === 'code');
      const want = pool === 'here' ? code : remote;
      expect(codes.map((c) => [c.hash, c.source]), pool).toEqual([[want.hash, want.source]]);
      expect(agent.socket.sent.filter((m): m is Task => m.type === 'task').map((m) => m.code), pool).toEqual([want.hash, want.hash]);
    }
  });

  it('one copy when every pool resolves the same links', async () => {
    installNativeFixture();
    const tasks = await shipModule<NativeTasks>(nativeModuleUrl, {}, [
      { pool: 'a', environment: localEnvironment() },
      { pool: 'b', environment: localEnvironment() },
    ]);
    expect(codeOf(tasks.fn('hash')).code.byPool).toBeUndefined();
  });

  it('fails module() naming the pool whose agents cannot have the packages', async () => {
    installNativeFixture();
    const pods: AgentEnvironment = { description: 'Kubernetes pods', local: false };
    const err = await shipModule(nativeModuleUrl, {}, [
      { pool: 'here', environment: localEnvironment() },
      { pool: 'k8s', environment: pods },
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModuleDependencyError);
    expect((err as ModuleDependencyError).code).toBe('MODULE_DEPENDENCY_UNAVAILABLE');
    expect((err as Error).message).toMatch(/^@node-rs\/xxhash \(.*\) cannot be installed where the agents of Kubernetes pods \(pool k8s\) run/);
  });
});
