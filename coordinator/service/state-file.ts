/**
 * Where a running service (`clustrix up <profile>`) leaves its address and client credential:
 * `$XDG_CONFIG_HOME/clustrix/services/<profile>.json` (else `~/.config/clustrix/...`), mode 0600,
 * written atomically once the pool is up, removed when the service stops.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors/errors.js';

export const ServiceState = z.object({
  profile: z.string(),
  /** ws://host:port of the client endpoint. */
  address: z.string(),
  credential: z.string(),
  pid: z.number().int(),
  serviceId: z.string(),
  backend: z.string(),
  agents: z.number().int(),
  startedAt: z.number(),
  /** The service's own output (background services only). */
  logFile: z.string().nullable(),
});
export type ServiceState = z.infer<typeof ServiceState>;

/** `$XDG_CONFIG_HOME/clustrix` when that is absolute, else `~/.config/clustrix`. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(os.homedir(), '.config'), 'clustrix');
}

export function servicesDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'services');
}

/**
 * Makes the services dir, private: it holds client credentials and logs. mkdir's mode applies only
 * to a directory it creates, so an existing one (from an older clustrix, a umask of 022) is chmod-ed.
 */
export function ensureServicesDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = servicesDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

export function stateFilePath(profile: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(servicesDir(env), `${profile}.json`);
}

export function logFilePath(profile: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(servicesDir(env), `${profile}.log`);
}

export function writeState(state: ServiceState, env: NodeJS.ProcessEnv = process.env): string {
  ensureServicesDir(env);
  const path = stateFilePath(state.profile, env);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return path;
}

/**
 * The state of `profile`'s service, or null when it has none. A file that exists but cannot be
 * read or parsed is an error naming it, not "no service" (`clustrix down` must not take a live
 * service for a stale one).
 */
export function readState(profile: string, env: NodeJS.ProcessEnv = process.env): ServiceState | null {
  const path = stateFilePath(profile, env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ConfigError(`cannot read the service state file ${path}: ${(err as Error).message}`, { hint: 'check its permissions (it should be yours, mode 0600)' });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw corrupt(path, (err as Error).message);
  }
  const parsed = ServiceState.safeParse(data);
  if (!parsed.success) throw corrupt(path, `${parsed.error.issues[0]?.path.join('.') || '(file)'}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

function corrupt(path: string, why: string): ConfigError {
  return new ConfigError(`the service state file ${path} is corrupt (${why})`, {
    hint: 'if no service runs for that profile, delete the file; else stop the service with `clustrix down <profile>` first',
  });
}

/** Every state file, live or stale (a corrupt one is an error naming it). */
export function listStates(env: NodeJS.ProcessEnv = process.env): ServiceState[] {
  let names: string[];
  try {
    names = readdirSync(servicesDir(env));
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.json'))
    .map((n) => readState(n.slice(0, -'.json'.length), env))
    .filter((s): s is ServiceState => s !== null);
}

/** Removes the state file, if it still belongs to the process `pid`. */
export function removeState(profile: string, pid: number, env: NodeJS.ProcessEnv = process.env): void {
  const path = stateFilePath(profile, env);
  let state: ServiceState | null = null;
  try {
    state = readState(profile, env);
  } catch {
    // corrupt: it belongs to nobody
  }
  if (state && state.pid !== pid) return;
  rmSync(path, { force: true });
}

/** True while a process `pid` exists (signal 0: portable, and EPERM means it exists as someone else's). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
