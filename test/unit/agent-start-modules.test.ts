// What an agent evaluates before its hello (issue 16): the modules main.ts reaches by static
// imports are the ones its start runs, and they must build no zod schema (zod and the message
// schemas load while the coordinator answers: agent/connection.ts, agent/objects/agent-objects.ts).
// The lazily loaded parts stay in the bundle, reached by dynamic imports; the integration, fuzz and
// objects tests run them in real agents.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

async function agentInputs(): Promise<Metafile['inputs']> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['agent/main.ts'],
    bundle: true,
    platform: 'node',
    format: 'iife',
    target: 'node20',
    write: false,
    metafile: true,
    logLevel: 'silent',
    external: ['msgpackr-extract'],
    define: { __CLUSTRIX_WORKER_SOURCE__: '""', 'import.meta.url': '"file:///agent.cjs"' },
  });
  return result.metafile.inputs;
}

/** Each module main.ts reaches through static imports, with the chain that reaches it. */
function staticallyReached(inputs: Metafile['inputs'], entry: string): Map<string, string> {
  const chains = new Map([[entry, entry]]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const dep of inputs[file]?.imports ?? []) {
      if (dep.external || dep.kind === 'dynamic-import' || chains.has(dep.path)) continue;
      chains.set(dep.path, `${chains.get(file)} -> ${dep.path}`);
      queue.push(dep.path);
    }
  }
  return chains;
}

describe('the agent start', () => {
  it('reaches no zod module and no message schema before its hello', async () => {
    const inputs = await agentInputs();
    const reached = staticallyReached(inputs, 'agent/main.ts');
    // hot-messages.ts is not one: its hand checks import no zod (the hand-packed frames use them from the start).
    const schemaModules = [...reached].filter(([file]) => /node_modules\/zod\/|protocol\/(common|[a-z-]+-messages|core-methods|rows)\.ts$/.test(file) && !file.endsWith('protocol/hot-messages.ts'));
    expect(schemaModules.map(([, chain]) => chain)).toEqual([]);
    // What it needs to dial and say hello is there.
    expect([...reached.keys()]).toEqual(expect.arrayContaining(['agent/connection.ts', 'protocol/envelope.ts', 'protocol/framed-socket.ts']));
  });

  it('loads the schemas it defers through dynamic imports, so they are still in the bundle', async () => {
    const inputs = await agentInputs();
    const dynamic = Object.entries(inputs).flatMap(([file, input]) => input.imports.filter((i) => i.kind === 'dynamic-import').map((i) => `${file} -> ${i.path}`));
    expect(dynamic).toEqual(
      expect.arrayContaining(['agent/connection.ts -> protocol/codec.ts', 'agent/objects/agent-objects.ts -> agent/objects/peer-server.ts', 'agent/objects/agent-objects.ts -> agent/objects/peer-client.ts']),
    );
  });

  it('carries zod in English only (the other locales were half the bundle)', () => {
    const bundle = readFileSync(new URL('../../dist/bundle/agent.cjs', import.meta.url), 'latin1');
    expect(bundle.includes('Invalid input')).toBe(true);
    expect(bundle.includes('erwartet')).toBe(false); // zod's German messages
    expect(bundle.length).toBeLessThan(800_000);
  });
});
