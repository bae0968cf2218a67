import { existsSync } from 'node:fs';
import {
  ApiException,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  type CoreV1Event,
  type V1Job,
  type V1Pod,
  type V1Secret,
} from '@kubernetes/client-node';
import { ConfigError } from '../../../errors/errors.js';
import type { CompiledKubernetesOptions } from './options.js';

/** Where client-node looks for a pod's service account; its presence means "we run in a pod". */
const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Loads credentials the way kubectl does: an explicit file, else $KUBECONFIG, else ~/.kube/config,
 * else the pod's service account. client-node would otherwise fall back to an unauthenticated
 * http://localhost:8080, which fails later with a confusing "connection refused".
 */
export function loadKubeConfig(options: CompiledKubernetesOptions): KubeConfig {
  if (options.inCluster && !process.env.KUBERNETES_SERVICE_HOST) {
    throw new ConfigError('inCluster is set but this process does not run in a pod (KUBERNETES_SERVICE_HOST is not set)', {
      hint: "drop 'inCluster' and use a kubeconfig",
    });
  }
  const kc = new KubeConfig();
  try {
    if (options.inCluster) kc.loadFromCluster();
    else if (options.kubeconfig !== null) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
  } catch (cause) {
    throw new ConfigError(`cannot load the kubeconfig${options.kubeconfig ? ` ${options.kubeconfig}` : ''}: ${(cause as Error).message}`, {
      cause,
      hint: "point option 'kubeconfig' (or $KUBECONFIG) at a valid file, or run the coordinator in a pod",
    });
  }
  const fellBack = options.kubeconfig === null && !options.inCluster && !process.env.KUBECONFIG &&
    kc.getCurrentCluster()?.server === 'http://localhost:8080' && !existsSync(SERVICE_ACCOUNT_TOKEN);
  if (fellBack) {
    throw new ConfigError('no Kubernetes credentials found: no $KUBECONFIG, no ~/.kube/config, and not running in a pod', {
      hint: "set option 'kubeconfig', or run the coordinator in a pod with a service account (deploy/kubernetes/rbac.yaml)",
    });
  }
  if (options.context !== null) {
    if (!kc.getContextObject(options.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new ConfigError(`the kubeconfig has no context "${options.context}"`, {
        hint: known.length > 0 ? `known contexts: ${known.join(', ')}` : 'the kubeconfig defines no contexts',
      });
    }
    kc.setCurrentContext(options.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new ConfigError(`the kubeconfig's context "${kc.getCurrentContext()}" names no cluster`, {
      hint: "pick another one with option 'context'",
    });
  }
  return kc;
}

/** The namespace to use: the option, else the context's (in a pod: its own), else 'default'. */
export function resolveNamespace(options: CompiledKubernetesOptions, kc: KubeConfig): string {
  return options.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace?.trim() ?? 'default';
}

/** A failed API call, with the Status object's reason and message pulled out of the exception. */
export interface ApiFailure {
  code: number;
  reason: string;
  message: string;
}

export function apiFailure(err: unknown): ApiFailure | null {
  if (!(err instanceof ApiException)) return null;
  const code = (err as ApiException<unknown>).code;
  const body: unknown = (err as ApiException<unknown>).body;
  let status: { reason?: unknown; message?: unknown } = {};
  try {
    status = (typeof body === 'string' ? JSON.parse(body) : body ?? {}) as typeof status;
  } catch {
    status = { message: typeof body === 'string' ? body : undefined };
  }
  return {
    code,
    reason: typeof status.reason === 'string' ? status.reason : String(code),
    message: typeof status.message === 'string' ? status.message : `HTTP ${code}`,
  };
}

/** Turns "not allowed" and "no such namespace" into configuration errors that say what to fix. */
export function configErrorFor(err: unknown, what: string, namespace: string): ConfigError | null {
  const failure = apiFailure(err);
  if (failure?.code === 401) {
    return new ConfigError(`Kubernetes rejected our credentials while trying to ${what}: ${failure.message}`, {
      cause: err,
      hint: 'refresh the kubeconfig credentials (e.g. log in to the cluster again)',
    });
  }
  if (failure?.code === 403) {
    return new ConfigError(`Kubernetes forbids us to ${what} in namespace ${namespace}: ${failure.message}`, {
      cause: err,
      hint: 'apply deploy/kubernetes/rbac.yaml to that namespace and bind its Role to the identity the coordinator uses',
    });
  }
  if (failure?.code === 404 && /namespaces? "[^"]*" not found/.test(failure.message)) {
    return new ConfigError(`namespace ${namespace} does not exist`, { cause: err, hint: "create it, or set option 'namespace'" });
  }
  return null;
}

/**
 * The few calls the launcher makes, through client-node. Narrow on purpose: it is what the
 * stand-in API server in test/kubernetes/ implements, and what rbac.yaml grants.
 */
export class KubernetesApi {
  private readonly batch: BatchV1Api;
  private readonly core: CoreV1Api;

  constructor(readonly kubeConfig: KubeConfig, readonly namespace: string) {
    this.batch = kubeConfig.makeApiClient(BatchV1Api);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  createJob(job: V1Job): Promise<V1Job> {
    return this.batch.createNamespacedJob({ namespace: this.namespace, body: job });
  }

  /** A JSON patch (RFC 6902), client-node's default for patch calls. */
  resumeJob(name: string): Promise<V1Job> {
    return this.batch.patchNamespacedJob({ name, namespace: this.namespace, body: [{ op: 'replace', path: '/spec/suspend', value: false }] });
  }

  readJob(name: string): Promise<V1Job> {
    return this.batch.readNamespacedJob({ name, namespace: this.namespace });
  }

  /** Foreground: the Job stays (with a deletionTimestamp) until its pods are gone, then goes. */
  async deleteJob(name: string): Promise<boolean> {
    return ignoreNotFound(this.batch.deleteNamespacedJob({ name, namespace: this.namespace, propagationPolicy: 'Foreground' }));
  }

  listJobs(labelSelector: string) {
    return this.batch.listNamespacedJob({ namespace: this.namespace, labelSelector });
  }

  listPods(labelSelector: string) {
    return this.core.listNamespacedPod({ namespace: this.namespace, labelSelector });
  }

  async listPodsOfJob(jobLabelSelector: string): Promise<V1Pod[]> {
    return (await this.listPods(jobLabelSelector)).items;
  }

  createSecret(secret: V1Secret): Promise<V1Secret> {
    return this.core.createNamespacedSecret({ namespace: this.namespace, body: secret });
  }

  async deleteSecret(name: string): Promise<boolean> {
    return ignoreNotFound(this.core.deleteNamespacedSecret({ name, namespace: this.namespace }));
  }

  /** Events about one object (a Job or a pod), oldest first. */
  async events(kind: string, name: string): Promise<CoreV1Event[]> {
    const list = await this.core.listNamespacedEvent({
      namespace: this.namespace,
      fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}`,
    });
    return list.items;
  }

  /**
   * The last lines of a pod's agent. A container waiting to restart has no current log: read the
   * one that crashed (previous), which is where its reason is.
   */
  async podLog(pod: V1Pod, container: string, lines: number): Promise<string> {
    const name = pod.metadata?.name ?? '';
    const status = pod.status?.containerStatuses?.find((c) => c.name === container);
    const previous = Boolean(status?.state?.waiting && status.lastState?.terminated);
    try {
      return await this.core.readNamespacedPodLog({ name, namespace: this.namespace, container, tailLines: lines, ...(previous && { previous }) });
    } catch (err) {
      const failure = apiFailure(err);
      // 400: the container never started (image not pulled, not scheduled); 404: the pod is gone.
      if (failure && (failure.code === 400 || failure.code === 404)) return '';
      throw err;
    }
  }
}

async function ignoreNotFound(call: Promise<unknown>): Promise<boolean> {
  try {
    await call;
    return true;
  } catch (err) {
    if (apiFailure(err)?.code === 404) return false;
    throw err;
  }
}
