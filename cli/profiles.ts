import { findConfigFile, loadConfig, resolveProfile } from '../coordinator/config/index.js';
import type { ClusterOptions } from '../coordinator/config/options.js';

/**
 * The options of profile `name`: from `configFile` or the usual config file; `local` works without
 * any file (agents on this machine).
 */
export function profileOptions(name: string, configFile?: string): ClusterOptions {
  const file = configFile ?? findConfigFile();
  if (file !== null) {
    const config = loadConfig(file);
    if (name in config.profiles) return resolveProfile({ profile: name, configFile: file });
  }
  if (name === 'local') return { backend: 'local' };
  return resolveProfile({ profile: name, ...(configFile ? { configFile } : {}) });
}

/** The profile named on the command line, else the config file's default, else `local`. */
export function defaultProfile(configFile?: string): string {
  const file = configFile ?? findConfigFile();
  if (file === null) return 'local';
  return loadConfig(file).default ?? 'local';
}
