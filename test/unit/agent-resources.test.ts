// What an agent offers in its hello (agent/resources.ts): cpus = its slots, memory, GPUs from the
// environment the scheduler gives it (fake GPUs via env here: no GPU on this machine), and custom
// amounts from CLUSTRIX_RESOURCES; a bad CLUSTRIX_RESOURCES is an AgentConfigError.
import { describe, expect, it } from 'vitest';
import { AgentConfigError } from '../../agent/config.js';
import { detectResources, deviceList } from '../../agent/resources.js';

describe('agent resources', () => {
  it('counts fake GPUs from CUDA_VISIBLE_DEVICES, and SLURM_JOB_GPUS when it is unset', () => {
    expect(detectResources(2, { CUDA_VISIBLE_DEVICES: '0,1' }).gpus).toBe(2);
    expect(detectResources(2, { SLURM_JOB_GPUS: '3' }).gpus).toBe(1);
    expect(detectResources(2, { CUDA_VISIBLE_DEVICES: '' }).gpus).toBeUndefined();
    expect(detectResources(2, { CUDA_VISIBLE_DEVICES: 'NoDevFiles' }).gpus).toBeUndefined();
  });

  it('offers its slots as cpus and a positive memory figure', () => {
    const r = detectResources(3, { CUDA_VISIBLE_DEVICES: '' });
    expect(r.cpus).toBe(3);
    expect(r.memory).toBeGreaterThan(0);
  });

  it('adds custom resources from CLUSTRIX_RESOURCES; cpus stay the slots', () => {
    expect(detectResources(2, { CUDA_VISIBLE_DEVICES: '', CLUSTRIX_RESOURCES: '{"licenses": 2, "cpus": 99}' })).toMatchObject({ licenses: 2, cpus: 2 });
  });

  it.each(['[1]', '{"x": -1}', '{"x": "2"}', 'nope'])('refuses CLUSTRIX_RESOURCES=%s', (raw) => {
    expect(() => detectResources(1, { CUDA_VISIBLE_DEVICES: '', CLUSTRIX_RESOURCES: raw })).toThrow(AgentConfigError);
  });

  it('reads device lists', () => {
    expect(deviceList('GPU-a, GPU-b')).toEqual(['GPU-a', 'GPU-b']);
    expect(deviceList('-1')).toEqual([]);
    expect(deviceList(undefined)).toEqual([]);
  });
});
