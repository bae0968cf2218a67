import { listStates, processExists, type ServiceState } from '../service/state-file.js';
import { RemoteTransport } from './remote.js';

/** The name a liveness probe connects under (CLI listings leave it out). */
export const PROBE_CLIENT = 'clustrix probe';

/** How long a probe of a service's socket may take before the service counts as not running. */
const PROBE_TIMEOUT_MS = 3_000;

/**
 * Whether the service a state file describes is running: its pid exists and its socket answers
 * the client handshake with its credential. Portable (no /proc), and not fooled by a reused pid.
 */
export async function isServiceLive(state: ServiceState): Promise<boolean> {
  if (!processExists(state.pid)) return false;
  try {
    const probe = await RemoteTransport.open(state.address, state.credential, PROBE_CLIENT, PROBE_TIMEOUT_MS);
    await probe.close();
    return true;
  } catch {
    return false;
  }
}

/** The services running now, from their state files. */
export async function liveServices(env: NodeJS.ProcessEnv = process.env): Promise<ServiceState[]> {
  const states = listStates(env);
  const live = await Promise.all(states.map((s) => isServiceLive(s)));
  return states.filter((_, i) => live[i]);
}
