// Issue 12, item 4: every ```ts block of README compiles with `strict` and `skipLibCheck: false`
// against the package as published (its .d.ts files and package.json, copied into a fresh
// project that has @types/node and nothing else: no @types/ws), and the self-contained ones run.
// A block that is a fragment (no import of clustrix) gets the import, and `cluster` when it
// uses one without making it. Files a block imports (./tasks.js, ./bank.js, ./work.js) are tiny
// fixtures in test/fixtures/readme/.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { transform } from 'esbuild';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = join(root, 'test/fixtures/readme');

interface Block {
  line: number;
  code: string;
}

function readmeBlocks(): Block[] {
  const lines = readFileSync(join(root, 'README.md'), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```ts') continue;
    const start = i + 1;
    while (i + 1 < lines.length && lines[i + 1] !== '```') i++;
    blocks.push({ line: start + 1, code: lines.slice(start, i + 1).join('\n') });
  }
  return blocks;
}

/** A fragment gets what the README's prose gives it: the import, and a cluster. */
function asModule(block: Block): string {
  if (/from 'clustrix'/.test(block.code)) return `${block.code}\nexport {};\n`;
  const cluster = /\bconst cluster\b/.test(block.code) || !/\bcluster\./.test(block.code) ? '' : 'declare const cluster: Cluster;\n';
  return `import { Cluster, type ActorHandle } from 'clustrix';\n${cluster}${block.code}\nexport {};\n`;
}

/** The .d.ts files under `dir`, relative to it. */
function declarations(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return declarations(path, base);
    return name.endsWith('.d.ts') ? [relative(base, path)] : [];
  });
}

const blocks = readmeBlocks();
const project = mkdtempSync(join(tmpdir(), 'clustrix-readme-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('README TypeScript blocks', () => {
  it('README has blocks, and the published .d.ts files import no ws types', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    const dist = join(root, 'dist');
    const withWs = declarations(dist).filter((f) => /from 'ws'|import\('ws'\)/.test(readFileSync(join(dist, f), 'utf8')));
    // Internal files may use ws; the socket types every connection shares may not (tsc below checks
    // that nothing reachable from the entry points does).
    expect(withWs).not.toContain('protocol/framed-socket.d.ts');
    expect(withWs).not.toContain('protocol/close.d.ts');
  });

  it('type-check with strict and skipLibCheck: false against the published types, without @types/ws', async () => {
    // The package as installed: package.json and the .d.ts files (no sources, no node_modules of its own).
    const pkg = join(project, 'node_modules/clustrix');
    mkdirSync(pkg, { recursive: true });
    cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
    for (const f of declarations(join(root, 'dist'))) {
      mkdirSync(dirname(join(pkg, 'dist', f)), { recursive: true });
      cpSync(join(root, 'dist', f), join(pkg, 'dist', f));
    }
    mkdirSync(join(project, 'node_modules/@types'), { recursive: true });
    symlinkSync(join(root, 'node_modules/@types/node'), join(project, 'node_modules/@types/node'));
    // Its dependencies, as npm installs them; ws ships no types of its own, and @types/ws is not one.
    const { dependencies } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const dep of Object.keys(dependencies)) symlinkSync(join(root, 'node_modules', dep), join(project, 'node_modules', dep));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023'], types: ['node'], strict: true, skipLibCheck: false, noEmit: true },
        include: ['*.ts'],
      }),
    );
    for (const f of readdirSync(fixtures)) cpSync(join(fixtures, f), join(project, f));
    blocks.forEach((b, i) => writeFileSync(join(project, `readme-${i + 1}-line-${b.line}.ts`), asModule(b)));
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const out = await run(process.execPath, [tsc, '-p', project], { cwd: project }).then(
      () => '',
      (err: { stdout?: string }) => err.stdout ?? String(err),
    );
    expect(out).toBe('');
  }, 300_000);

  // The blocks that start a local cluster and need nothing else: run them as a user would.
  const runnable = blocks.filter((b) => /Cluster\.start\((\{ agents: \d+ \})?\)/.test(b.code) && !/backend:|Cluster\.connect/.test(b.code) && /from 'clustrix'/.test(b.code));

  it.each(runnable.map((b) => [b.line, b] as const))('the block at README line %i runs', async (_line, block) => {
    const dir = join(project, `run-${block.line}`);
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    symlinkSync(root, join(dir, 'node_modules/clustrix'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    for (const f of readdirSync(fixtures)) cpSync(join(fixtures, f), join(dir, f));
    const { code } = await transform(asModule(block), { loader: 'ts', format: 'esm', target: 'node20' });
    writeFileSync(join(dir, 'block.mjs'), code);
    const { stderr } = await run(process.execPath, [join(dir, 'block.mjs')], { cwd: dir, timeout: 120_000 });
    expect(stderr).toBe('');
  }, 180_000);
});
