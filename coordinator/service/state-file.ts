/**
 * Where a running service (`clustrix up <profile>`) leaves its address and client credential:
 * `$XDG_CONFIG_HOME/clustrix/services/<profile>.json` (else `~/.config/clustrix/...`), mode 0600,
 * written atomically once the pool is up, removed when the service stops.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';

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

/** The state of `profile`'s service, or null when there is none (or the file is unreadable). */
export function readState(profile: string, env: NodeJS.ProcessEnv = process.env): ServiceState | null {
  let text: string;
  try {
    text = readFileSync(stateFilePath(profile, env), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = ServiceState.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Every state file, live or stale. */
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
  const state = readState(profile, env);
  if (state && state.pid !== pid) return;
  rmSync(stateFilePath(profile, env), { force: true });
}

/** True if `pid` is alive and is a clustrix service (its command line says so), not a reused pid. */
export function isServiceProcess(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && cmdline.some((a) => a.includes('clustrix') || a.endsWith('cli/main.js')) && cmdline.includes('up');
  } catch {
    return false;
  }
}
