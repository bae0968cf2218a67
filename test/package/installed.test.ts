// The package as a user gets it: `npm pack`, unpacked as node_modules/clustrix of an empty project
// whose node_modules holds only the package's `dependencies` (no optional peers, no dev packages).
// Needs `npm run build` first (the tarball ships dist/).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PEERS = ['ssh2', '@kubernetes/client-node'];

interface Manifest {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

let project = '';
let shipped: string[] = [];
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'clustrix-installed-'));
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', project], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as {
    filename: string;
    files: { path: string }[];
  }[];
  shipped = packed!.files.map((f) => f.path);
  const pkg = join(project, 'node_modules', 'clustrix');
  mkdirSync(pkg, { recursive: true });
  execFileSync('tar', ['-xzf', join(project, packed!.filename), '-C', pkg, '--strip-components=1']);
  // What `npm install clustrix` brings: the dependencies (their own resolve from where they live),
  // never the optional peers, even while they were listed as dependencies.
  for (const dep of Object.keys(manifest.dependencies).filter((d) => !PEERS.includes(d))) {
    mkdirSync(dirname(join(project, 'node_modules', dep)), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', dep), join(project, 'node_modules', dep));
  }
  writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n');
}, 60_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

function node(file: string, args: string[] = []): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [file, ...args], { cwd: project, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('dependencies', () => {
  it('ssh2 and the Kubernetes client are optional peers, kept for the repo as dev dependencies; no @types at run time', () => {
    for (const peer of PEERS) {
      expect(manifest.dependencies).not.toHaveProperty(peer);
      expect(manifest.peerDependencies).toHaveProperty(peer);
      expect(manifest.peerDependenciesMeta?.[peer]).toEqual({ optional: true });
      expect(manifest.devDependencies).toHaveProperty(peer);
    }
    expect(Object.keys(manifest.dependencies).filter((d) => d.startsWith('@types/'))).toEqual([]);
  });

  it('a local cluster runs and the CLI starts without them', () => {
    writeFileSync(join(project, 'local.mjs'), "import { Cluster } from 'clustrix';\nconst c = await Cluster.start({ agents: 1, slots: 1 });\nconsole.log(await c.run((a, b) => a + b, 2, 3));\nawait c.close();\n");
    expect(node('local.mjs')).toMatchObject({ code: 0, stdout: '5\n' });
    const help = node('node_modules/clustrix/dist/cli/main.js', ['--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: clustrix <command>');
  });

  it('a backend that needs a missing one fails at start with a ConfigError naming the package', () => {
    writeFileSync(
      join(project, 'backends.mjs'),
      `import { Cluster } from 'clustrix';
const tries = [{ backend: 'ssh', hosts: ['nobody@127.0.0.1:1'] }, { backend: 'slurm', ssh: { host: '127.0.0.1', port: 1 } }, { backend: 'kubernetes' }];
for (const options of tries) {
  const err = await Cluster.start(options).then(() => null, (e) => e);
  console.log(JSON.stringify({ backend: options.backend, name: err?.name, code: err?.code, message: err?.message }));
}
`,
    );
    const r = node('backends.mjs');
    expect(r.code, r.stderr).toBe(0);
    const seen = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { backend: string; name: string; code: string; message: string });
    expect(seen.map((e) => [e.backend, e.name, e.code])).toEqual([
      ['ssh', 'ConfigError', 'CONFIG_INVALID'],
      ['slurm', 'ConfigError', 'CONFIG_INVALID'],
      ['kubernetes', 'ConfigError', 'CONFIG_INVALID'],
    ]);
    expect(seen[0]!.message).toContain("backend 'ssh' needs the package ssh2, which is not installed");
    expect(seen[0]!.message).toContain('npm install ssh2');
    expect(seen[1]!.message).toContain('npm install ssh2');
    expect(seen[2]!.message).toContain('npm install @kubernetes/client-node');
  });
});

describe('README', () => {
  it('starts with `npm install clustrix`, then an example that runs as written on the local default', () => {
    const firstCommand = /```sh\n([^\n]*)/.exec(readme)?.[1];
    expect(firstCommand).toMatch(/^npm install clustrix\b/);
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const file = /^\/\/ (\S+\.mjs): node \1$/m.exec(example)?.[1];
    expect(file).toBeDefined();
    writeFileSync(join(project, file!), example);
    const r = node(file!);
    expect(r.code, r.stderr).toBe(0);
    // Each console.log line says in its comment what it prints.
    const promised = [...example.matchAll(/^console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]);
    expect(promised.length).toBeGreaterThan(0);
    expect(r.stdout.trim().split('\n')).toEqual(promised);
  });

  it('links only to files the package ships', () => {
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
    expect(links.length).toBeGreaterThan(0);
    const dead = links.filter((l) => !shipped.some((f) => f === l || f.startsWith(`${l.replace(/\/$/, '')}/`)));
    expect(dead).toEqual([]);
  });

  it('puts no sudo in front of a command (a fresh machine runs as root and has none)', () => {
    const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.join('\n')).not.toMatch(/^\s*sudo\b/m);
  });
});

describe('clustrix bench', () => {
  it('says, from an installed package, that it runs only from a source checkout', () => {
    const r = node('node_modules/clustrix/dist/cli/main.js', ['bench']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('`bench` runs only from a source checkout of clustrix');
    expect(r.stderr).toContain('npm ci && npx clustrix bench');
  });
});
