/**
 * What each agent job asks the scheduler for, as the user writes it (`ResourceOptions`) and as the
 * renderer consumes it (`CompiledResources`: units fixed to MB and seconds, every check done).
 */
import { checkKnownKeys, isPlainObject, line, optionalLine, optionalPositiveInt, positiveInt, show, stringList } from './validate.js';

export type SchedulerKind = 'slurm' | 'pbs' | 'sge';

/** Every field is optional; an unset field leaves the scheduler's own default in force. */
export interface ResourceOptions {
  /**
   * Nodes per job, one agent on each. Above 1 only for SLURM (srun starts the agents); PBS and SGE
   * jobs run one agent each, so ask for more agents instead.
   * @default 1
   */
  nodes?: number;
  /** CPUs for each agent; also its worker-thread slots unless the launch request says otherwise. */
  cpusPerTask?: number;
  /** Memory per agent (per node): MB as a number, or a size such as '512M', '4G', '1.5T'. */
  memory?: number | string;
  /**
   * Walltime: minutes as a number, or 'HH:MM:SS' / 'D-HH:MM:SS'. Agents learn the end time
   * (CLUSTRIX_WALLTIME_END) so the pool can drain them before the scheduler kills them.
   */
  time?: number | string;
  /** SLURM partition, or PBS/SGE queue. */
  partition?: string;
  /** The same setting as `partition`, under the PBS/SGE name; give one of the two. */
  queue?: string;
  /** Account (project) charged for the job. */
  account?: string;
  /** SLURM quality of service; PBS and SGE have none. */
  qos?: string;
  /** GPUs per agent (per node). */
  gpus?: number;
  /**
   * More directive lines, written verbatim after the prefix (`#SBATCH`, `#PBS`, `#$`), e.g.
   * `--constraint=skylake` or `-l scratch=10G`. Not quoted: they are the scheduler's syntax.
   * @default []
   */
  extraDirectives?: readonly string[];
}

export interface CompiledResources {
  nodes: number;
  cpusPerTask: number | undefined;
  memoryMb: number | undefined;
  timeSeconds: number | undefined;
  /** Partition (SLURM) or queue (PBS, SGE). */
  queue: string | undefined;
  account: string | undefined;
  qos: string | undefined;
  gpus: number | undefined;
  extraDirectives: readonly string[];
}

const KEYS = ['nodes', 'cpusPerTask', 'memory', 'time', 'partition', 'queue', 'account', 'qos', 'gpus', 'extraDirectives'] as const;

export function compileResources(options: ResourceOptions | undefined, kind: SchedulerKind, path = 'resources'): CompiledResources {
  if (options === undefined) options = {};
  if (!isPlainObject(options)) throw new TypeError(`${path} must be an object, got ${show(options)}`);
  checkKnownKeys(options, KEYS, path);
  const nodes = options.nodes === undefined ? 1 : positiveInt(options.nodes, `${path}.nodes`);
  if (nodes > 1 && kind !== 'slurm') {
    throw new TypeError(`${path}.nodes above 1 needs slurm (${kind} jobs run one agent each: ask for more agents instead), got ${nodes}`);
  }
  if (options.partition !== undefined && options.queue !== undefined) {
    throw new TypeError(`${path}.partition and ${path}.queue are the same setting; give one of them`);
  }
  const queue = optionalLine(options.partition ?? options.queue, `${path}.${options.partition !== undefined ? 'partition' : 'queue'}`);
  if (options.qos !== undefined && kind !== 'slurm') throw new TypeError(`${path}.qos is a SLURM setting; ${kind} has no quality of service`);
  return {
    nodes,
    cpusPerTask: optionalPositiveInt(options.cpusPerTask, `${path}.cpusPerTask`),
    memoryMb: options.memory === undefined ? undefined : parseMemoryMb(options.memory, `${path}.memory`),
    timeSeconds: options.time === undefined ? undefined : parseWalltimeSeconds(options.time, `${path}.time`),
    queue,
    account: optionalLine(options.account, `${path}.account`),
    qos: options.qos === undefined ? undefined : line(options.qos, `${path}.qos`),
    gpus: optionalPositiveInt(options.gpus, `${path}.gpus`),
    extraDirectives: stringList(options.extraDirectives, `${path}.extraDirectives`, true),
  };
}

const UNIT_MB: Record<string, number> = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 };

/** MB (rounded up) from a number of MB or a size such as '512M', '4G', '4GB', '4GiB', '1.5T'. */
export function parseMemoryMb(value: unknown, path: string): number {
  const bad = (): TypeError => new TypeError(`${path} must be a positive number of MB or a size such as '4G' or '512M', got ${show(value)}`);
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) throw bad();
    return Math.ceil(value);
  }
  if (typeof value !== 'string') throw bad();
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT])?(?:i?B)?\s*$/i.exec(value);
  if (!m?.[1]) throw bad();
  const mb = Math.ceil(Number(m[1]) * (UNIT_MB[(m[2] ?? 'M').toUpperCase()] ?? 1));
  if (!(mb > 0)) throw bad();
  return mb;
}

/** Seconds from minutes (a number) or 'HH:MM:SS' / 'D-HH:MM:SS' (hours may exceed 23 without a day part). */
export function parseWalltimeSeconds(value: unknown, path: string): number {
  const bad = (): TypeError => new TypeError(`${path} must be a positive number of minutes, 'HH:MM:SS' or 'D-HH:MM:SS', got ${show(value)}`);
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) throw bad();
    return Math.max(1, Math.round(value * 60));
  }
  if (typeof value !== 'string') throw bad();
  const m = /^(?:(\d+)-)?(\d+):(\d{1,2}):(\d{1,2})$/.exec(value.trim());
  if (!m) throw bad();
  const [days, hours, minutes, seconds] = [m[1] ?? '0', m[2] ?? '0', m[3] ?? '0', m[4] ?? '0'].map(Number) as [number, number, number, number];
  if (minutes > 59 || seconds > 59 || (m[1] !== undefined && hours > 23)) throw bad();
  const total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds;
  if (total <= 0) throw bad();
  return total;
}

/** 'HH:MM:SS' with unbounded hours: what PBS walltime and SGE h_rt take. */
export function formatHms(totalSeconds: number): string {
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

/** SLURM's 'D-HH:MM:SS' for a day or more (its documented form), else 'HH:MM:SS'. */
export function formatSlurmTime(totalSeconds: number): string {
  const days = Math.floor(totalSeconds / 86400);
  return days > 0 ? `${days}-${formatHms(totalSeconds % 86400)}` : formatHms(totalSeconds);
}
