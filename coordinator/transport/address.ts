import { ConfigError } from '../errors/errors.js';
import type { LogEntry } from '../../protocol/rows.js';
import { listStates, readState, stateFilePath } from '../service/state-file.js';
import { liveServices } from './discovery.js';

export interface ConnectOptions {
  /** `ws://host:port` of the service. @default `CLUSTRIX_ADDRESS`, else the state file of `profile` */
  address?: string;
  /** The client credential. @default `CLUSTRIX_CREDENTIAL`, else the state file's */
  credential?: string;
  /** Whose service to attach to. @default `CLUSTRIX_PROFILE`, else the one service running */
  profile?: string;
  /** Shown by `clustrix status`. @default the script's name and pid */
  name?: string;
  /** Receives each line of this client's tasks' output. @default prints `[agent task] line`, identical lines of many agents once */
  onLog?: (entry: LogEntry) => void;
  /** Environment to read the variables above from. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** Where to connect and with what credential, from the options, the environment, or a state file. */
export async function resolveAddress(options: ConnectOptions = {}): Promise<{ address: string; credential: string }> {
  if (typeof options !== 'object' || options === null) throw new ConfigError('Cluster.connect options must be an object');
  const env = options.env ?? process.env;
  const address = options.address ?? env.CLUSTRIX_ADDRESS;
  if (address !== undefined && address !== '') {
    if (!/^wss?:\/\//.test(address)) throw new ConfigError(`the service address must look like ws://host:port, got '${address}'`);
    const credential = options.credential ?? env.CLUSTRIX_CREDENTIAL ?? listStates(env).find((s) => s.address === address)?.credential;
    if (!credential) {
      throw new ConfigError(`no credential for the clustrix service at ${address}`, {
        hint: 'pass credential, set CLUSTRIX_CREDENTIAL, or connect by profile on the machine that ran `clustrix up`',
      });
    }
    return { address, credential };
  }
  const profile = options.profile ?? (env.CLUSTRIX_PROFILE || undefined);
  if (profile !== undefined) {
    const state = readState(profile, env);
    if (!state) {
      throw new ConfigError(`no clustrix service is running for profile '${profile}' (no ${stateFilePath(profile, env)})`, {
        hint: `start one with \`clustrix up ${profile}\``,
      });
    }
    return { address: state.address, credential: options.credential ?? state.credential };
  }
  const live = await liveServices(env);
  const only = live[0];
  if (live.length === 1 && only) return { address: only.address, credential: options.credential ?? only.credential };
  if (live.length === 0) {
    throw new ConfigError('no clustrix service is running', { hint: 'start one with `clustrix up <profile>`, or pass address' });
  }
  throw new ConfigError(`${live.length} clustrix services are running (${live.map((s) => s.profile).join(', ')}): say which`, {
    hint: 'pass profile to Cluster.connect(), or set CLUSTRIX_PROFILE',
  });
}
