import type { CoreV1Event, V1Job, V1Pod } from '@kubernetes/client-node';
import { ClusterClosedError, ClustrixError, JobStartError } from '../../../errors/errors.js';
import { showOnly } from '../../../util/show-only.js';
import type { JobLogs, JobStatus, LaunchedJob, LaunchRequest, Launcher } from '../launcher.js';
import { KubernetesApi, apiFailure, configErrorFor, loadKubeConfig, resolveNamespace } from './api.js';
import { jobStatus, type JobView, type PodProblem } from './diagnosis.js';
import { CONTAINER_NAME, agentIdEnv, renderJob, renderSecret } from './manifests.js';
import { CLUSTER_LABEL, JOB_LABEL, compileKubernetesOptions, type CompiledKubernetesOptions, type KubernetesLauncherOptions } from './options.js';
import { jobStartError } from './start-error.js';
import { ClusterWatch, selector } from './watch.js';

/** Name clashes with Jobs left by an earlier coordinator of the same clusterName: try further numbers. */
const MAX_NAME_ATTEMPTS = 20;
/** Pods whose events and logs a JobStartError carries: enough to see a pattern, not a flood. */
const MAX_PODS_IN_REPORT = 3;

interface OwnJob {
  agentIds: readonly string[];
  cancelled: boolean;
}

/**
 * Runs agents as Kubernetes pods: each launch() is one Indexed Job of `agentIds.length` pods of
 * the agent image, with the connect address and token in a Secret owned by that Job. Scaling up
 * adds Jobs, scaling down deletes them; close() deletes everything it created.
 *
 * ```ts
 * const launcher = new KubernetesLauncher({ namespace: 'science', cpu: 2, memory: '4Gi', connectUrl: 'ws://clustrix.science.svc:7420' });
 * const [job] = await launcher.launch({ connect: { url, token }, agentIds: indexedAgentIds('k1', 4) });
 * const [status] = await launcher.status([job.jobId]);
 * if (status.state === 'failed') throw await launcher.startError(job.jobId);
 * ```
 */
export class KubernetesLauncher implements Launcher {
  static {
    // Its API client holds the kubeconfig's credentials (tokens, client keys).
    showOnly(this.prototype, 'KubernetesLauncher', (l) => ({ namespace: l.namespace, jobs: l.own.size }));
  }

  readonly kind = 'kubernetes';
  readonly options: CompiledKubernetesOptions;
  /** The namespace in use: the option, else the kubeconfig context's, else 'default'. */
  readonly namespace: string;
  private readonly api: KubernetesApi;
  private readonly watch: ClusterWatch;
  private readonly own = new Map<string, OwnJob>();
  private sequence = 0;
  private closing: Promise<void> | undefined;

  /**
   * Compiles the options (TypeError on an invalid one) and loads the kubeconfig (ConfigError when
   * there is none or the context does not exist). No API call happens before the first launch().
   */
  constructor(options: KubernetesLauncherOptions = {}, testing?: { now?: () => number }) {
    this.options = compileKubernetesOptions(options);
    const kubeConfig = loadKubeConfig(this.options);
    this.namespace = resolveNamespace(this.options, kubeConfig);
    this.api = new KubernetesApi(kubeConfig, this.namespace);
    this.watch = new ClusterWatch(this.api, selector(CLUSTER_LABEL, this.options.clusterName), testing?.now);
  }

  async launch(request: LaunchRequest): Promise<LaunchedJob[]> {
    if (this.closing) throw new ClusterClosedError('the kubernetes launcher is closed');
    if (request.agentIds.length === 0) return [];
    agentIdEnv(request.agentIds); // checks the ids before anything is created
    if (request.slots !== undefined && !(Number.isInteger(request.slots) && request.slots > 0)) {
      throw new TypeError(`launch request 'slots' must be a positive integer, got ${String(request.slots)}`);
    }
    await this.watch.start();
    const job = await this.createSuspendedJob(request);
    const name = job.metadata?.name ?? '';
    this.own.set(name, { agentIds: [...request.agentIds], cancelled: false });
    try {
      const owner = { apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata?.uid ?? '' };
      await this.api.createSecret(renderSecret(this.options, { name, namespace: this.namespace, connect: request.connect, owner }));
      await this.api.resumeJob(name);
    } catch (err) {
      // Leave nothing behind: the Job (and, through its ownerReference, a Secret that got created).
      await this.cancel([name]).catch(() => undefined);
      throw this.apiError(err, name, 'create Secrets and resume Jobs');
    }
    if (this.closing) {
      // close() ran while this launch was under way: what it just made must not outlive it.
      await this.cancel([name]).catch(() => undefined);
      throw new ClusterClosedError('the kubernetes launcher was closed while it launched');
    }
    return [{ jobId: name, agentIds: [...request.agentIds] }];
  }

  async cancel(jobIds: readonly string[]): Promise<void> {
    // Only Jobs this launcher created: a stray id must never delete someone else's Job.
    const mine = jobIds.filter((id) => this.own.has(id));
    const results = await Promise.allSettled(
      mine.map(async (name) => {
        const job = this.own.get(name);
        if (job) job.cancelled = true;
        // The Secret would go with the Job (ownerReference); deleting it too makes it go now.
        await Promise.all([this.api.deleteJob(name), this.api.deleteSecret(name)]);
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw this.apiError(failed.reason, mine.join(', '), 'delete Jobs and Secrets');
  }

  async status(jobIds: readonly string[]): Promise<JobStatus[]> {
    return Promise.all(jobIds.map(async (id) => withoutProblem(await this.statusOf(id))));
  }

  /**
   * The last `lines` lines of each pod of the Job. Kubernetes keeps one merged stream per
   * container, so everything is in stdout; with several pods each part starts with `==> pod <==`.
   */
  async logs(jobId: string, lines: number): Promise<JobLogs> {
    const pods = sortByIndex(await this.api.listPodsOfJob(selector(JOB_LABEL, jobId)));
    const tails = await Promise.all(pods.map((pod) => this.api.podLog(pod, CONTAINER_NAME, lines)));
    if (pods.length === 1) return { stdout: tails[0] ?? '', stderr: '' };
    const stdout = pods.map((pod, i) => `==> pod ${pod.metadata?.name ?? '?'} <==\n${tails[i] ?? ''}`).join('\n');
    return { stdout, stderr: '' };
  }

  /**
   * A JobStartError for a Job whose agents did not come up: Kubernetes' reason (ImagePullBackOff,
   * Unschedulable, CrashLoopBackOff, BackoffLimitExceeded, ...) in the message, and the events of
   * the Job and its pods plus the pods' last log lines in its output.
   */
  async startError(jobId: string, lines = 20): Promise<JobStartError> {
    const status = await this.statusOf(jobId);
    const pods = sortByIndex(await this.api.listPodsOfJob(selector(JOB_LABEL, jobId)).catch(() => [] as V1Pod[]));
    // The pod with the problem first; then a few others, whose events may show a pattern.
    const chosen = [...pods]
      .sort((a, b) => Number(b.metadata?.name === status.problem?.pod) - Number(a.metadata?.name === status.problem?.pod))
      .slice(0, MAX_PODS_IN_REPORT);
    const events: CoreV1Event[] = [];
    const logs = new Map<string, string>();
    const settled = await Promise.allSettled([
      this.api.events('Job', jobId).then((e) => events.push(...e)),
      ...chosen.map(async (pod) => {
        const name = pod.metadata?.name ?? '';
        const [podEvents, log] = await Promise.all([this.api.events('Pod', name), this.api.podLog(pod, CONTAINER_NAME, lines)]);
        events.push(...podEvents);
        logs.set(name, log);
      }),
    ]);
    // Diagnosis is best effort: an error about the error must not hide the original reason.
    const lost = settled.filter((r) => r.status === 'rejected').length;
    const error = jobStartError({ jobId, status: withoutProblem(status), problem: status.problem, events, logs });
    return lost === 0 ? error : Object.assign(error, { message: `${error.message}\n  (${lost} of the event and log reads failed)` });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.cancel([...this.own].filter(([, job]) => !job.cancelled).map(([name]) => name));
      } finally {
        await this.watch.stop();
      }
    })();
    return this.closing;
  }

  private async statusOf(jobId: string): Promise<JobStatus & { problem?: PodProblem | undefined }> {
    const own = this.own.get(jobId);
    if (!own) return { jobId, state: 'unknown' };
    let view: JobView & { gone: boolean } = this.watch.view(jobId);
    if (this.watch.lastError !== null) view = await this.readDirectly(jobId);
    if (own.cancelled && (view.gone || !view.job || view.job.metadata?.deletionTimestamp)) return { jobId, state: 'cancelled' };
    // Created, but the watch has not delivered it yet.
    if (!view.job) return { jobId, state: 'pending' };
    const status = jobStatus(jobId, view.gone ? { job: view.job, pods: [] } : view, this.watch.clock, this.options.stuckTimeoutMs);
    if (view.gone && status.state !== 'completed' && status.state !== 'failed') return { jobId, state: 'cancelled', reason: 'Deleted' };
    if (status.state === 'failed' && status.exitCode === undefined) status.exitCode = this.watch.lastExitCode(jobId);
    return status;
  }

  /** While the watch is down (it retries by itself), ask the API instead of answering from a stale cache. */
  private async readDirectly(jobId: string): Promise<JobView & { gone: boolean }> {
    try {
      const [job, pods] = await Promise.all([this.api.readJob(jobId), this.api.listPodsOfJob(selector(JOB_LABEL, jobId))]);
      return { job, pods, gone: false };
    } catch (err) {
      if (apiFailure(err)?.code === 404) return { job: undefined, pods: [], gone: true };
      throw this.apiError(err, jobId, 'read Jobs and list pods');
    }
  }

  private async createSuspendedJob(request: LaunchRequest): Promise<V1Job> {
    for (let attempt = 0; ; attempt++) {
      const name = `${this.options.clusterName}-${++this.sequence}`;
      const manifest = renderJob(this.options, {
        name,
        namespace: this.namespace,
        agentIds: request.agentIds,
        slots: request.slots,
        nowMs: Date.now(),
      });
      try {
        return await this.api.createJob(manifest);
      } catch (err) {
        if (apiFailure(err)?.reason === 'AlreadyExists' && attempt < MAX_NAME_ATTEMPTS) continue;
        throw this.apiError(err, name, 'create Jobs');
      }
    }
  }

  /** A ConfigError for what the user must fix (RBAC, namespace, credentials), else a JobStartError. */
  private apiError(err: unknown, jobId: string, what: string): Error {
    if (err instanceof ClustrixError) return err;
    const configError = configErrorFor(err, what, this.namespace);
    if (configError) return configError;
    const failure = apiFailure(err);
    const message = failure ? `${failure.reason}: ${failure.message}` : (err as Error).message;
    return new JobStartError(`could not ${what} in Kubernetes namespace ${this.namespace}: ${message}`, {
      jobId,
      state: 'not created',
      output: '',
      hint: failure
        ? 'the API server refused the request; `kubectl get events` may tell more'
        : "the Kubernetes API server did not answer: check the kubeconfig's server address and the network",
    });
  }
}

function withoutProblem(status: JobStatus & { problem?: PodProblem | undefined }): JobStatus {
  const { problem: _problem, ...rest } = status;
  return rest;
}

/** Pods in completion-index order, so log parts follow agent ids. */
function sortByIndex(pods: V1Pod[]): V1Pod[] {
  const index = (p: V1Pod) => Number(p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'] ?? Number.MAX_SAFE_INTEGER);
  return pods.sort((a, b) => index(a) - index(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}
