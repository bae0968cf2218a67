// Errors about the file as a whole: YAML syntax, a missing file, a profile that is not there.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../coordinator/errors/errors.js';
import { loadConfig, resolveProfile } from '../../coordinator/config/index.js';
import { fixture, thrown, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();

describe('YAML syntax', () => {
  it('names file:line:col', () => {
    const file = fixture('syntax-error.yaml');
    const err = thrown(() => loadConfig(file));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toBe(`${file}:5:5: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }`);
  });

  it('refuses a key given twice rather than keeping the last', () => {
    const file = join(tempDir({ 'c.yaml': 'profiles:\n  a:\n    agents: 1\n    agents: 2\n' }), 'c.yaml');
    expect(thrown(() => loadConfig(file)).message).toBe(`${file}:4:5: invalid YAML: Map keys must be unique`);
  });

  it('a tab in the indentation', () => {
    const file = join(tempDir({ 'c.yaml': 'profiles:\n\ta: {}\n' }), 'c.yaml');
    expect(thrown(() => loadConfig(file)).message).toMatch(new RegExp(`^${file}:2:1: invalid YAML: `));
  });
});

describe('the file', () => {
  it('a configFile that does not exist', () => {
    const dir = tempDir();
    const err = thrown(() => resolveProfile({ profile: 'hpc', configFile: 'nope.yaml' }, { cwd: dir }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(`${dir}/nope.yaml: no such config file`);
  });

  it('a configFile that is a directory', () => {
    const dir = tempDir();
    expect(thrown(() => loadConfig(dir)).message).toBe(`${dir}: cannot read the config file (EISDIR)`);
  });
});

describe('choosing the profile', () => {
  const file = fixture('valid.yaml');

  it('an unknown profile lists the profiles in the file', () => {
    const err = thrown(() => resolveProfile({ profile: 'gpu', configFile: file }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(`${file}: no profile 'gpu' (profiles: hpc, local)`);
  });

  it('a near miss is suggested', () => {
    expect(thrown(() => resolveProfile({ profile: 'hcp', configFile: file })).message).toBe(
      `${file}: no profile 'hcp' (profiles: hpc, local); did you mean 'hpc'?`,
    );
  });

  it('a name that is only an Object.prototype key is not a profile', () => {
    expect(thrown(() => resolveProfile({ profile: 'constructor', configFile: file })).message).toBe(
      `${file}: no profile 'constructor' (profiles: hpc, local)`,
    );
  });

  it('a configFile without a profile needs a default in the file', () => {
    const path = join(tempDir({ 'c.yaml': 'profiles:\n  a: {}\n  b: {}\n' }), 'c.yaml');
    expect(thrown(() => resolveProfile({ configFile: path })).message).toBe(
      `${path}: no profile asked for and the file names no default (profiles: a, b)\n` +
        `  hint: pass profile: '<name>' to Cluster.start(), or add 'default: <name>' to the file`,
    );
  });

  it('a profile or configFile option that is not a name, in the words of the options schema', () => {
    const err = thrown(() => resolveProfile({ profile: 42 as unknown as string }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toBe("options.profile: expected a profile name (letters, digits, '_' and '-'), got 42");
    expect(thrown(() => resolveProfile({ configFile: '' })).message).toBe('options.configFile: expected a file path, got ""');
    expect(thrown(() => resolveProfile(null as never)).message).toBe('options: expected a mapping of cluster options (backend, agents, ssh, resources, ...), got null');
  });
});
