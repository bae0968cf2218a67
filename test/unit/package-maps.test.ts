// The package ships dist/ and a few documents (package.json `files`), never the TypeScript
// sources: nothing in it may point a debugger or a stack trace at them. Built without source maps.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('the built package', () => {
  it('ships dist and documents, no sources', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('dist');
    for (const source of ['coordinator', 'agent', 'protocol', 'cli', 'test']) expect(pkg.files.some((f) => f === source || f.startsWith(`${source}/`))).toBe(false);
  });

  it('has no source maps nor sourceMappingURL comments naming the unshipped .ts files', () => {
    const files = walk(join(root, 'dist'));
    expect(files.length).toBeGreaterThan(50);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    const pointing = files.filter((f) => /\.(m?js|d\.ts)$/.test(f) && /^\/\/# sourceMappingURL=/m.test(readFileSync(f, 'utf8')));
    expect(pointing.map((f) => f.slice(root.length))).toEqual([]);
  });
});
