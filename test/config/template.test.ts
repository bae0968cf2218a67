// The file `clustrix init` writes is itself a valid config, with a profile for every backend.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { BACKENDS, configTemplate, loadConfig, resolveProfile } from '../../coordinator/config/index.js';
import { useTempDirs } from './helpers.js';

const tempDir = useTempDirs();

it('loads and validates, with one profile per backend', () => {
  const file = join(tempDir(), 'clustrix.config.yaml');
  writeFileSync(file, configTemplate());
  const config = loadConfig(file);
  expect(Object.values(config.profiles).map((p) => p.backend).sort()).toEqual([...BACKENDS].sort());
  expect(config.default).toBe('local');
});

it('is found and resolved like any config file', () => {
  const cwd = tempDir({ 'clustrix.config.yaml': configTemplate() });
  expect(resolveProfile({ profile: 'hpc', agents: 2 }, { cwd, home: cwd, env: {} })).toMatchObject({
    backend: 'slurm',
    agents: 2,
    ssh: { host: 'login.hpc.example.edu' },
    resources: { cpusPerTask: 8, memory: '16G', time: '02:00:00', partition: 'short' },
    connect: 'tunnel',
  });
});

it('explains what it sets: every profile has a comment line above it', () => {
  const lines = configTemplate().split('\n');
  for (const [i, line] of lines.entries()) {
    if (/^ {2}[a-z0-9-]+:$/.test(line)) expect(lines[i - 1], `comment above '${line.trim()}'`).toMatch(/^ {2}# /);
  }
});
