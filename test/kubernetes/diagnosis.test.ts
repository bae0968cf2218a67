import type { CoreV1Event, V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { JobStartError } from '../../coordinator/errors/errors.js';
import { StuckClock, jobStartError, jobStatus, podProblem } from '../../coordinator/backends/launchers/kubernetes/index.js';

function pod(name: string, status: V1Pod['status'], extra: Partial<V1Pod['metadata']> = {}): V1Pod {
  return { metadata: { name, uid: `uid-${name}`, ...extra }, status };
}
const waiting = (reason: string, message: string, last?: { exitCode: number; reason?: string }): V1Pod['status'] => ({
  phase: reason === 'CrashLoopBackOff' ? 'Running' : 'Pending',
  containerStatuses: [{
    name: 'agent', image: 'i', imageID: '', ready: false, restartCount: last ? 2 : 0,
    state: { waiting: { reason, message } },
    ...(last && { lastState: { terminated: { exitCode: last.exitCode, ...(last.reason && { reason: last.reason }) } } }),
  }],
});
const unschedulable: V1Pod['status'] = {
  phase: 'Pending',
  conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' }],
};
const running: V1Pod['status'] = { phase: 'Running', containerStatuses: [{ name: 'agent', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] };
const job = (status: V1Job['status'] = {}, extra: Partial<V1Job['metadata']> = {}, suspend = false): V1Job => ({ metadata: { name: 'j', ...extra }, spec: { suspend, template: {} }, status });

describe('kubernetes pod diagnosis', () => {
  it('recognises the ways a pod gets stuck', () => {
    expect(podProblem(pod('p', waiting('ImagePullBackOff', 'Back-off pulling image "x"')))).toEqual({
      pod: 'p', reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"', immediate: false, exitCode: undefined,
    });
    expect(podProblem(pod('p', unschedulable))).toEqual({ pod: 'p', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.', immediate: false });
    expect(podProblem(pod('p', waiting('CrashLoopBackOff', 'back-off 10s', { exitCode: 137, reason: 'OOMKilled' })))).toEqual({
      pod: 'p', reason: 'CrashLoopBackOff', message: 'back-off 10s (last exit code 137, OOMKilled)', immediate: true, exitCode: 137,
    });
    expect(podProblem(pod('p', waiting('InvalidImageName', 'bad')))?.immediate).toBe(true);
    expect(podProblem(pod('p', waiting('CreateContainerConfigError', 'secret "x" not found')))?.reason).toBe('CreateContainerConfigError');
  });

  it('sees nothing wrong with a healthy, starting or terminating pod', () => {
    expect(podProblem(pod('p', running))).toBeNull();
    expect(podProblem(pod('p', waiting('ContainerCreating', '')))).toBeNull();
    expect(podProblem(pod('p', { phase: 'Pending' }))).toBeNull();
    expect(podProblem(pod('p', unschedulable, { deletionTimestamp: new Date() }))).toBeNull();
  });

  it('fails a Job for a problem that can clear up only after stuckTimeoutMs', () => {
    let t = 0;
    const clock = new StuckClock(() => t);
    const view = { job: job(), pods: [pod('p', waiting('ErrImagePull', 'not found'))] };
    expect(jobStatus('j', view, clock, 1000)).toEqual({ jobId: 'j', state: 'pending' });
    t = 600;
    // ErrImagePull and ImagePullBackOff alternate within one failing pull: the clock keeps running.
    const backoff = { job: job(), pods: [pod('p', waiting('ImagePullBackOff', 'Back-off pulling image "x"'))] };
    expect(jobStatus('j', backoff, clock, 1000).state).toBe('pending');
    t = 1000;
    expect(jobStatus('j', backoff, clock, 1000)).toMatchObject({ jobId: 'j', state: 'failed', reason: 'ImagePullBackOff' });
    // A pod that recovered resets its clock.
    expect(jobStatus('j', { job: job(), pods: [pod('p', running)] }, clock, 1000)).toEqual({ jobId: 'j', state: 'running' });
    expect(jobStatus('j', backoff, clock, 1000).state).toBe('pending');
  });

  it('fails a Job at once for CrashLoopBackOff, with the exit code', () => {
    const view = { job: job(), pods: [pod('p', running), pod('q', waiting('CrashLoopBackOff', 'back-off', { exitCode: 3, reason: 'Error' }))] };
    expect(jobStatus('j', view, new StuckClock(), 60_000)).toMatchObject({ state: 'failed', reason: 'CrashLoopBackOff', exitCode: 3 });
  });

  it("follows the Job's own conditions first", () => {
    const clock = new StuckClock();
    const cond = (type: string, reason?: string) => ({ conditions: [{ type, status: 'True', ...(reason && { reason }) }] });
    expect(jobStatus('j', { job: job(cond('Complete')), pods: [] }, clock, 0)).toEqual({ jobId: 'j', state: 'completed', exitCode: 0 });
    expect(jobStatus('j', { job: job(cond('Failed', 'DeadlineExceeded')), pods: [] }, clock, 0)).toEqual({ jobId: 'j', state: 'failed', reason: 'DeadlineExceeded', exitCode: undefined });
    expect(jobStatus('j', { job: job({}, {}, true), pods: [] }, clock, 0)).toEqual({ jobId: 'j', state: 'pending' });
    expect(jobStatus('j', { job: job({}, { deletionTimestamp: new Date() }), pods: [] }, clock, 0)).toEqual({ jobId: 'j', state: 'cancelled', reason: 'Deleted' });
    expect(jobStatus('j', { job: undefined, pods: [] }, clock, 0)).toEqual({ jobId: 'j', state: 'unknown' });
  });
});

describe('kubernetes JobStartError', () => {
  const event = (kind: string, name: string, type: string, reason: string, message: string, at: string, count = 1): CoreV1Event => ({
    metadata: {}, involvedObject: { kind, name }, type, reason, message, count, lastTimestamp: new Date(at),
  });

  it('names the reason and pod, carries events and last log lines, and hints at a fix', () => {
    const err = jobStartError({
      jobId: 'c1-2',
      status: { jobId: 'c1-2', state: 'failed', reason: 'CrashLoopBackOff', exitCode: 3 },
      problem: { pod: 'c1-2-0-abcde', reason: 'CrashLoopBackOff', message: 'back-off 10s (last exit code 3, Error)', immediate: true, exitCode: 3 },
      events: [
        event('Pod', 'c1-2-0-abcde', 'Warning', 'BackOff', 'Back-off restarting failed container agent', '2026-01-01T00:00:20Z', 4),
        event('Job', 'c1-2', 'Normal', 'SuccessfulCreate', 'Created pod: c1-2-0-abcde', '2026-01-01T00:00:00Z'),
      ],
      logs: new Map([['c1-2-0-abcde', 'agent starting\nError: connect ECONNREFUSED 10.0.0.5:7420\n'], ['c1-2-1-fghij', '']]),
    });
    expect(err).toBeInstanceOf(JobStartError);
    expect(err.code).toBe('JOB_FAILED_TO_START');
    expect(err.jobId).toBe('c1-2');
    expect(err.state).toBe('failed (CrashLoopBackOff)');
    expect(err.output).toBe([
      'events:',
      '  Normal SuccessfulCreate job/c1-2: Created pod: c1-2-0-abcde',
      '  Warning BackOff pod/c1-2-0-abcde: Back-off restarting failed container agent (x4)',
      'log of pod c1-2-0-abcde:',
      '  agent starting',
      '  Error: connect ECONNREFUSED 10.0.0.5:7420',
    ].join('\n'));
    expect(err.message.split('\n')[0]).toBe('Kubernetes Job c1-2 failed to start: CrashLoopBackOff (pod c1-2-0-abcde: back-off 10s (last exit code 3, Error))');
    expect(err.hint).toMatch(/exits right after it starts/);
  });

  it('gives a hint per reason', () => {
    const hint = (reason: string) => jobStartError({ jobId: 'j', status: { jobId: 'j', state: 'failed', reason }, events: [], logs: new Map() }).hint;
    expect(hint('ImagePullBackOff')).toMatch(/option 'image'.*imagePullSecrets/);
    expect(hint('Unschedulable')).toMatch(/'cpu', 'memory' or 'gpus'.*stuckTimeoutMs/);
    expect(hint('BackoffLimitExceeded')).toMatch(/backoffLimit/);
    expect(hint('DeadlineExceeded')).toMatch(/activeDeadlineSeconds/);
  });
});
