import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import type { Resources } from '../protocol/resources.js';
import { AgentConfigError } from './config-error.js';

/**
 * What this agent offers, for its hello: `cpus` (its worker slots), `memory` (bytes: the cgroup's
 * limit when there is one, else the machine's), `gpus` (the devices the batch scheduler or the
 * environment gave it: CUDA_VISIBLE_DEVICES, SLURM's GPU variables, else what `nvidia-smi -L`
 * lists), and custom amounts from CLUSTRIX_RESOURCES (JSON, e.g. {"licenses": 2}).
 */
export function detectResources(slots: number, env: NodeJS.ProcessEnv = process.env): Resources {
  const out: Resources = { ...custom(env), cpus: slots, memory: memoryLimit() };
  const gpus = gpuDevices(env).length;
  if (gpus > 0) out.gpus = gpus;
  return out;
}

function custom(env: NodeJS.ProcessEnv): Resources {
  const raw = env.CLUSTRIX_RESOURCES;
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = null;
  }
  const ok = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && Object.values(parsed).every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0);
  if (!ok) throw new AgentConfigError(`CLUSTRIX_RESOURCES must be a JSON object of names to non-negative numbers, e.g. {"licenses": 2}; got ${raw.slice(0, 200)}`);
  return parsed as Resources;
}

/** The cgroup's memory limit (v2, then v1) when it is below the machine's memory. */
function memoryLimit(): number {
  const total = os.totalmem();
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const n = Number(readFileSync(file, 'utf8').trim());
      if (Number.isFinite(n) && n > 0 && n < total) return n;
    } catch {
      // not this cgroup version
    }
  }
  return total;
}

/** Devices in a list such as "0,1" or "GPU-uuid,GPU-uuid"; none for "", "-1" or "NoDevFiles". */
export function deviceList(value: string | undefined): string[] {
  if (value === undefined) return [];
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  return list.length === 1 && (list[0] === '-1' || list[0] === 'NoDevFiles') ? [] : list;
}

/** The GPU devices this agent may hand to tasks (ids as CUDA_VISIBLE_DEVICES takes them). */
export function gpuDevices(env: NodeJS.ProcessEnv = process.env): string[] {
  for (const name of ['CUDA_VISIBLE_DEVICES', 'SLURM_STEP_GPUS', 'SLURM_JOB_GPUS', 'GPU_DEVICE_ORDINAL']) {
    if (env[name] !== undefined) return deviceList(env[name]);
  }
  // No NVIDIA driver, no GPU: spawning nvidia-smi to learn that costs ~10 ms of every agent's start.
  if (!existsSync('/dev/nvidiactl')) return [];
  try {
    // Required here, not imported: child_process (and the dgram it loads) is ~1 ms of every start
    // of an agent on a machine without GPUs, which never gets this far.
    const { execFileSync } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
    const out = execFileSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 3_000, stdio: ['ignore', 'pipe', 'ignore'] });
    return out.split('\n').filter((l) => l.startsWith('GPU ')).map((_, i) => String(i));
  } catch {
    return []; // no nvidia-smi, or no driver
  }
}
