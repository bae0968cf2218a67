// The agent's object store: memory up to a budget, then local disk (least recently used first),
// and a clear error when both are full, leaving the store as it was.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ObjectStore, ObjectStoreFullError } from '../../agent/objects/object-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function store(memoryBytes: number, spillBytes: number): { s: ObjectStore; dir: string } {
  const root = mkdtempSync(join(tmpdir(), 'clustrix-store-'));
  dirs.push(root);
  const dir = join(root, 'objects');
  return { s: new ObjectStore({ memoryBytes, spillDir: dir, spillBytes }), dir };
}

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

describe('the object store', () => {
  it('keeps values in memory within the budget', () => {
    const { s, dir } = store(100, 1000);
    s.put('a', bytes(40, 1));
    s.put('b', bytes(40, 2));
    expect(s.size).toEqual({ objects: 2, memoryBytes: 80, spilledBytes: 0 });
    expect(s.get('a')).toEqual(bytes(40, 1));
    expect(existsSync(dir)).toBe(false);
  });

  it('spills the least recently used to disk past the budget, and reads them back from there', () => {
    const { s, dir } = store(100, 1000);
    s.put('a', bytes(40, 1));
    s.put('b', bytes(40, 2));
    s.get('a'); // b is now the least recently used
    s.put('c', bytes(40, 3));
    expect(s.size).toEqual({ objects: 3, memoryBytes: 80, spilledBytes: 40 });
    expect(readdirSync(dir)).toEqual(['b']);
    expect(s.get('b')).toEqual(bytes(40, 2));
    expect(s.get('c')).toEqual(bytes(40, 3));
  });

  it('writes a value larger than the memory budget straight to disk', () => {
    const { s } = store(100, 1000);
    s.put('big', bytes(500, 9));
    expect(s.size).toEqual({ objects: 1, memoryBytes: 0, spilledBytes: 500 });
    expect(s.get('big')).toEqual(bytes(500, 9));
  });

  it('refuses a value when memory and disk are both full, and changes nothing', () => {
    const { s } = store(100, 100);
    s.put('a', bytes(100, 1));
    s.put('b', bytes(90, 2)); // a goes to disk
    expect(() => s.put('c', bytes(90, 3))).toThrow(ObjectStoreFullError);
    expect(() => s.put('c', bytes(90, 3))).toThrow(/objectStoreBytes/);
    expect(s.size).toEqual({ objects: 2, memoryBytes: 90, spilledBytes: 100 });
    expect(s.has('c')).toBe(false);
  });

  it('frees memory and disk on delete, and everything on clear', () => {
    const { s, dir } = store(50, 1000);
    s.put('a', bytes(40, 1));
    s.put('b', bytes(40, 2));
    expect(s.delete('a')).toBe(true);
    expect(s.delete('a')).toBe(false);
    expect(s.size).toEqual({ objects: 1, memoryBytes: 40, spilledBytes: 0 });
    s.clear();
    expect(s.size).toEqual({ objects: 0, memoryBytes: 0, spilledBytes: 0 });
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses ids that are not safe as file names', () => {
    const { s } = store(50, 50);
    expect(() => s.put('../x', bytes(1, 1))).toThrow(/not a valid id/);
  });
});
