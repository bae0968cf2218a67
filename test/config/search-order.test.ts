// Where the config file is found: ./clustrix.config.yaml first, then the user's, XDG honoured.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFileCandidates, findConfigFile, resolveProfile } from '../../coordinator/config/index.js';
import { thrown, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();
const profile = (agents: number) => `profiles:\n  p:\n    agents: ${agents}\n`;

describe('findConfigFile', () => {
  it('prefers the working directory file over the home one', () => {
    const cwd = tempDir({ 'clustrix.config.yaml': profile(1) });
    const home = tempDir({ '.config/clustrix/config.yaml': profile(2) });
    expect(findConfigFile(cwd, home, {})).toBe(join(cwd, 'clustrix.config.yaml'));
    expect(resolveProfile({ profile: 'p' }, { cwd, home, env: {} })).toEqual({ agents: 1 });
  });

  it('falls back to ~/.config/clustrix/config.yaml', () => {
    const cwd = tempDir();
    const home = tempDir({ '.config/clustrix/config.yaml': profile(2) });
    expect(findConfigFile(cwd, home, {})).toBe(join(home, '.config/clustrix/config.yaml'));
    expect(resolveProfile({ profile: 'p' }, { cwd, home, env: {} })).toEqual({ agents: 2 });
  });

  it('looks in $XDG_CONFIG_HOME instead of ~/.config when it is set', () => {
    const cwd = tempDir();
    const home = tempDir({ '.config/clustrix/config.yaml': profile(2) });
    const xdg = tempDir({ 'clustrix/config.yaml': profile(3) });
    expect(findConfigFile(cwd, home, { XDG_CONFIG_HOME: xdg })).toBe(join(xdg, 'clustrix/config.yaml'));
    expect(resolveProfile({ profile: 'p' }, { cwd, home, env: { XDG_CONFIG_HOME: xdg } })).toEqual({ agents: 3 });
  });

  it('ignores a relative XDG_CONFIG_HOME, as the XDG spec says', () => {
    expect(configFileCandidates('/work', '/home/ada', { XDG_CONFIG_HOME: 'relative/dir' })).toEqual([
      '/work/clustrix.config.yaml',
      '/home/ada/.config/clustrix/config.yaml',
    ]);
  });

  it('skips a directory with the file name', () => {
    const cwd = tempDir({ 'clustrix.config.yaml/inner': '' });
    const home = tempDir();
    expect(findConfigFile(cwd, home, {})).toBeNull();
  });

  it('returns null when there is none, and resolveProfile says where it looked', () => {
    const cwd = tempDir();
    const home = tempDir();
    expect(findConfigFile(cwd, home, {})).toBeNull();
    const err = thrown(() => resolveProfile({ profile: 'hpc' }, { cwd, home, env: {} }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toBe(
      `profile 'hpc' asked for, but there is no config file (looked for ${cwd}/clustrix.config.yaml and ${home}/.config/clustrix/config.yaml)\n` +
        `  hint: create clustrix.config.yaml with a 'profiles:' mapping holding 'hpc', or pass configFile`,
    );
  });
});
