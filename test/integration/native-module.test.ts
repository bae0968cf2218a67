// cluster.module() with a native addon: the package stays out of the bundle and local agents load
// it from the project's own node_modules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { XXH32_OF_CLUSTRIX, installNativeFixture, nativeModuleUrl, type NativeTasks } from '../helpers/native-fixture.js';

let cluster: Cluster;
let nodeModules: string;
beforeAll(async () => {
  nodeModules = installNativeFixture();
  cluster = await Cluster.start({ agents: 1, slots: 1 });
});
afterAll(async () => {
  await cluster?.close();
});

describe('a module importing a prebuilt native addon, on local agents', () => {
  it("runs, loading the addon from the project's own node_modules", async () => {
    const tasks = await cluster.module<NativeTasks>(nativeModuleUrl);
    expect(await cluster.run(tasks.fn('hash'), 'clustrix')).toBe(XXH32_OF_CLUSTRIX);
    const loaded = await cluster.run(tasks.fn('loadedFrom'));
    expect(loaded.some((f) => f.endsWith('.node'))).toBe(true);
    for (const file of loaded) expect(file.startsWith(`${nodeModules}/@node-rs/`)).toBe(true);
  });

  it('runs inline (on the agent event loop) and in map chunks as well', async () => {
    const tasks = await cluster.module<NativeTasks>(nativeModuleUrl);
    expect(await cluster.remote(tasks.fn('hash'), { inline: true })('clustrix')).toBe(XXH32_OF_CLUSTRIX);
    expect(await cluster.map(tasks.fn('hash'), ['clustrix', 'clustrix'], { chunkSize: 2 })).toEqual([XXH32_OF_CLUSTRIX, XXH32_OF_CLUSTRIX]);
  });
});
