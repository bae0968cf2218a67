import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { JobStatus } from '../launcher.js';

/**
 * Why a pod cannot get its agent going. `immediate` problems fail the Job at once; the others only
 * after the launcher's stuckTimeoutMs, because they can clear up by themselves (an autoscaler adds
 * a node, a registry comes back).
 */
export interface PodProblem {
  pod: string;
  /** Kubernetes' word: ImagePullBackOff, Unschedulable, CrashLoopBackOff, ... */
  reason: string;
  /** Kubernetes' explanation, e.g. "0/3 nodes are available: 3 Insufficient cpu." */
  message: string;
  immediate: boolean;
  /** The agent's exit code, for a crashing container. */
  exitCode?: number | undefined;
}

const PULL_FAILURES = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'RegistryUnavailable', 'SignatureValidationFailed']);
/** These never fix themselves: a malformed image name, a crash at start. */
const FATAL = new Set(['InvalidImageName', 'CrashLoopBackOff']);
/** A missing Secret key or a bad command: stuck, but let a short race (e.g. Secret propagation) settle. */
const CONFIG_FAILURES = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/** The first problem that keeps this pod's agent from running, or null. */
export function podProblem(pod: V1Pod): PodProblem | null {
  const name = pod.metadata?.name ?? '?';
  if (pod.metadata?.deletionTimestamp) return null;
  for (const c of pod.status?.containerStatuses ?? []) {
    const waiting = c.state?.waiting;
    const reason = waiting?.reason;
    if (!reason) continue;
    if (PULL_FAILURES.has(reason) || FATAL.has(reason) || CONFIG_FAILURES.has(reason)) {
      const last = c.lastState?.terminated;
      const lastWords = last ? ` (last exit code ${last.exitCode}${last.reason ? `, ${last.reason}` : ''})` : '';
      return {
        pod: name,
        reason,
        message: `${waiting.message ?? reason}${reason === 'CrashLoopBackOff' ? lastWords : ''}`,
        immediate: FATAL.has(reason),
        exitCode: reason === 'CrashLoopBackOff' ? last?.exitCode : undefined,
      };
    }
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (pod.status?.phase === 'Pending' && scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return { pod: name, reason: 'Unschedulable', message: scheduled.message ?? 'no node fits the pod', immediate: false };
  }
  return null;
}

/**
 * Remembers since when each pod has had a problem, so that a problem that can clear up is only
 * reported after it lasted stuckTimeoutMs. Fed by the pod watch and by status() itself.
 */
export class StuckClock {
  private readonly since = new Map<string, { reason: string; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Records the pod's current problem (or its absence); returns how long it has lasted, in ms. */
  observe(podUid: string, problem: PodProblem | null): number {
    if (!problem) {
      this.since.delete(podUid);
      return 0;
    }
    const known = this.since.get(podUid);
    // ErrImagePull and ImagePullBackOff alternate for one failing pull: one episode, one clock.
    if (!known || family(known.reason) !== family(problem.reason)) {
      this.since.set(podUid, { reason: problem.reason, at: this.now() });
      return 0;
    }
    return this.now() - known.at;
  }

  forget(podUid: string): void {
    this.since.delete(podUid);
  }
}

function family(reason: string): string {
  return PULL_FAILURES.has(reason) ? 'pull' : reason;
}

export interface JobView {
  /** Undefined: not seen by the watch yet (just created) or gone (deleted, or TTL expired). */
  job: V1Job | undefined;
  pods: readonly V1Pod[];
}

/**
 * The launcher's view of one Job. A Job's own conditions win; before it has one, the first pod
 * problem that lasted long enough (or is fatal) makes it failed; a running pod makes it running.
 */
export function jobStatus(
  jobId: string,
  view: JobView,
  clock: StuckClock,
  stuckTimeoutMs: number,
): JobStatus & { problem?: PodProblem | undefined } {
  const { job, pods } = view;
  if (!job) return { jobId, state: 'unknown' };
  if (job.metadata?.deletionTimestamp) return { jobId, state: 'cancelled', reason: 'Deleted' };
  const conditions = job.status?.conditions ?? [];
  const holds = (type: string) => conditions.find((c) => c.type === type && c.status === 'True');
  const failed = holds('Failed');
  if (failed) {
    const crashed = pods.map(podProblem).find((p) => p?.exitCode !== undefined);
    return { jobId, state: 'failed', reason: failed.reason ?? 'Failed', exitCode: crashed?.exitCode ?? lastExitCode(pods) };
  }
  if (holds('Complete')) return { jobId, state: 'completed', exitCode: 0 };
  if (holds('Suspended') || job.spec?.suspend) return { jobId, state: 'pending' };
  for (const pod of pods) {
    const problem = podProblem(pod);
    const lasted = clock.observe(pod.metadata?.uid ?? pod.metadata?.name ?? '', problem);
    if (problem && (problem.immediate || lasted >= stuckTimeoutMs)) {
      return { jobId, state: 'failed', reason: problem.reason, exitCode: problem.exitCode, problem };
    }
  }
  const running = pods.some((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
  return { jobId, state: running ? 'running' : 'pending' };
}

function lastExitCode(pods: readonly V1Pod[]): number | undefined {
  for (const pod of pods) {
    for (const c of pod.status?.containerStatuses ?? []) {
      const code = c.state?.terminated?.exitCode ?? c.lastState?.terminated?.exitCode;
      if (code !== undefined && code !== 0) return code;
    }
  }
  return undefined;
}

/** What a person should try, per reason; the JobStartError's hint. */
export function hintFor(reason: string): string {
  if (PULL_FAILURES.has(reason) || reason === 'InvalidImageName') {
    return "check option 'image' (name and tag), that the image was pushed (deploy/kubernetes/README.md), and 'imagePullSecrets' for a private registry";
  }
  switch (reason) {
    case 'Unschedulable':
      return "no node has room for the pod or matches it: lower 'cpu', 'memory' or 'gpus', or fix 'nodeSelector' and 'tolerations'; with a cluster autoscaler raise 'stuckTimeoutMs'";
    case 'CrashLoopBackOff':
      return 'the agent exits right after it starts: read its last log lines above (coordinator address unreachable from pods? see connectUrl in deploy/kubernetes/README.md)';
    case 'CreateContainerConfigError':
    case 'CreateContainerError':
    case 'RunContainerError':
      return "the container could not be created: check option 'command' and that the service account may read the Job's Secret";
    case 'BackoffLimitExceeded':
      return "agents kept failing: read their log lines above, or raise 'backoffLimit'";
    case 'DeadlineExceeded':
      return "the Job ran past 'activeDeadlineSeconds'";
    default:
      return 'read the events and log lines above; `kubectl describe job` tells more';
  }
}
