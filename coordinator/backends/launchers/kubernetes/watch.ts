import { makeInformer, type Informer, type ObjectCache, type V1Job, type V1Pod, type KubernetesObject } from '@kubernetes/client-node';
import type { KubernetesApi } from './api.js';
import { StuckClock, podProblem, type JobView } from './diagnosis.js';
import { JOB_LABEL } from './options.js';

/** First retry after a failed list or watch; doubles up to the maximum while the API stays away. */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

/**
 * Keeps an up-to-date picture of this cluster's Jobs and pods from two list+watch streams (label
 * `clustrix.dev/cluster=<name>`), so status() answers from memory instead of polling the API, and
 * notices a pod going into ImagePullBackOff or CrashLoopBackOff when it happens.
 */
export class ClusterWatch {
  readonly clock: StuckClock;
  private readonly jobs: Informer<V1Job> & ObjectCache<V1Job>;
  private readonly pods: Informer<V1Pod> & ObjectCache<V1Pod>;
  /** Last state of Jobs that were deleted (TTL, kubectl, cancel): status() still knows how they ended. */
  private readonly gone = new Map<string, V1Job>();
  private started: Promise<void> | undefined;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Last non-zero exit code of an agent per Job: a failed Job's pods are deleted, and with them the code. */
  private readonly exitCodes = new Map<string, number>();
  /** Why the watch last failed, for messages; null while it works. */
  lastError: unknown = null;

  constructor(private readonly api: KubernetesApi, clusterSelector: string, now?: () => number) {
    this.clock = new StuckClock(now);
    const ns = api.namespace;
    this.jobs = makeInformer(api.kubeConfig, `/apis/batch/v1/namespaces/${ns}/jobs`, () => api.listJobs(clusterSelector), clusterSelector);
    this.pods = makeInformer(api.kubeConfig, `/api/v1/namespaces/${ns}/pods`, () => api.listPods(clusterSelector), clusterSelector);
    this.jobs.on('add', (job) => this.gone.delete(nameOf(job)));
    this.jobs.on('delete', (job) => this.gone.set(nameOf(job), job));
    // Stuck time counts from when the watch saw the problem, not from the next status() call.
    const observe = (pod: V1Pod) => {
      this.clock.observe(uidOf(pod), podProblem(pod));
      this.noteExitCode(pod);
    };
    this.pods.on('add', observe);
    this.pods.on('update', observe);
    this.pods.on('delete', (pod) => this.clock.forget(uidOf(pod)));
    this.keepAlive(this.jobs);
    this.keepAlive(this.pods);
  }

  /** Starts both streams once; resolves after their first list (or its failure, which is retried). */
  start(): Promise<void> {
    this.started ??= Promise.all([this.jobs.start(), this.pods.start()]).then(() => undefined);
    return this.started;
  }

  view(jobName: string): JobView & { gone: boolean } {
    const live = this.jobs.get(jobName, this.api.namespace);
    const job = live ?? this.gone.get(jobName);
    const pods = this.pods.list(this.api.namespace).filter((p) => p.metadata?.labels?.[JOB_LABEL] === jobName);
    return { job, pods, gone: !live && job !== undefined };
  }

  /** The last non-zero exit code an agent of this Job had, if the watch saw one. */
  lastExitCode(jobName: string): number | undefined {
    return this.exitCodes.get(jobName);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([this.jobs.stop(), this.pods.stop()]);
  }

  private noteExitCode(pod: V1Pod): void {
    const job = pod.metadata?.labels?.[JOB_LABEL];
    for (const c of pod.status?.containerStatuses ?? []) {
      const code = c.state?.terminated?.exitCode ?? c.lastState?.terminated?.exitCode;
      if (job && code !== undefined && code !== 0) this.exitCodes.set(job, code);
    }
  }

  /**
   * client-node's informer stops for good on an error other than 410 Gone (which it handles by
   * listing again); an API server restart or a network blip must not blind the launcher.
   */
  private keepAlive<T extends KubernetesObject>(informer: Informer<T>): void {
    let delay = RETRY_MIN_MS;
    informer.on('change', () => {
      delay = RETRY_MIN_MS;
      this.lastError = null;
    });
    informer.on('error', (err?: unknown) => {
      this.lastError = err ?? new Error('watch failed');
      if (this.stopped) return;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!this.stopped) informer.start().catch(() => undefined);
      }, delay);
      timer.unref();
      this.timers.add(timer);
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    });
  }
}

function nameOf(o: KubernetesObject): string {
  return o.metadata?.name ?? '';
}

function uidOf(pod: V1Pod): string {
  return pod.metadata?.uid ?? pod.metadata?.name ?? '';
}

/** `key=value` as a label selector. */
export function selector(key: string, value: string): string {
  return `${key}=${value}`;
}
