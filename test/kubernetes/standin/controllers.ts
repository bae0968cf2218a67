/**
 * The stand-in's Job controller, garbage collector and TTL-after-finished controller: the parts of
 * kube-controller-manager the launcher relies on. Indexed Jobs only set JOB_COMPLETION_INDEX and
 * the index annotation, as Kubernetes does; suspend, activeDeadlineSeconds, backoffLimit (counting
 * container restarts under restartPolicy OnFailure), ttlSecondsAfterFinished, and foreground,
 * background and orphan deletion behave as documented.
 */
import { randomBytes } from 'node:crypto';
import { now, type Obj, type Store } from './store.js';
import type { EventRecorder } from './events.js';
import type { StandinNode } from './node.js';

export const INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';

interface JobSpec {
  completions?: number;
  parallelism?: number;
  completionMode?: string;
  suspend?: boolean;
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  ttlSecondsAfterFinished?: number;
  template: { metadata?: { labels?: Record<string, string> }; spec: { containers: { env?: unknown[] }[]; hostname?: string } };
}
interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
}
interface JobStatus {
  conditions?: Condition[];
  startTime?: string;
  completionTime?: string;
  active?: number;
  ready?: number;
  terminating?: number;
  succeeded?: number;
  failed?: number;
  completedIndexes?: string;
}

export type Propagation = 'Foreground' | 'Background' | 'Orphan';

export class JobController {
  private readonly queued = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly store: Store, private readonly events: EventRecorder, private readonly node: StandinNode) {
    store.on('change', (c) => {
      if (this.closed) return;
      if (c.resource === 'jobs' && c.type === 'DELETED') {
        this.clearTimers(c.object.metadata.uid);
        setImmediate(() => this.collectOrphans());
      } else if (c.resource === 'jobs') {
        this.enqueue(c.object.metadata.namespace, c.object.metadata.name);
      } else if (c.resource === 'pods') {
        const owner = c.object.metadata.ownerReferences?.find((o) => o.controller && o.kind === 'Job');
        if (owner) this.enqueue(c.object.metadata.namespace, owner.name);
      }
    });
  }

  /** DELETE on a Job. Returns what the API answers with: the object while it waits for dependents. */
  delete(job: Obj, propagation: Propagation): Obj | undefined {
    const { namespace, name } = job.metadata;
    if (propagation === 'Foreground') {
      const marked = this.store.mutate('jobs', namespace, name, (j) => {
        j.metadata.deletionTimestamp ??= now();
        j.metadata.finalizers = [...new Set([...(j.metadata.finalizers ?? []), 'foregroundDeletion'])];
      });
      this.enqueue(namespace, name);
      return marked;
    }
    if (propagation === 'Orphan') {
      for (const d of this.dependents(job)) {
        this.store.mutate(d.resource, namespace, d.object.metadata.name, (o) => {
          o.metadata.ownerReferences = o.metadata.ownerReferences?.filter((r) => r.uid !== job.metadata.uid);
        });
      }
    }
    this.store.remove('jobs', namespace, name);
    return undefined;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private enqueue(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    if (this.queued.has(key)) return;
    this.queued.add(key);
    setImmediate(() => {
      this.queued.delete(key);
      if (!this.closed) this.reconcile(namespace, name);
    });
  }

  private reconcile(namespace: string, name: string): void {
    const job = this.store.get('jobs', namespace, name);
    if (!job) return;
    if (job.metadata.deletionTimestamp) return this.finishForeground(job);
    const spec = job.spec as JobSpec;
    const status = structuredClone((job.status ?? {}) as JobStatus);
    const pods = this.podsOf(job);
    const alive = pods.filter((p) => !p.metadata.deletionTimestamp && !finished(p));
    if (holds(status, 'Complete') || holds(status, 'Failed')) return this.afterFinished(job, status);
    if (spec.suspend) {
      for (const p of alive) this.node.deletePod(namespace, p.metadata.name);
      if (!holds(status, 'Suspended')) {
        setCondition(status, 'Suspended', 'True', 'JobSuspended', 'Job suspended');
        this.events.record(job, 'Normal', 'Suspended', 'Job suspended', 'job-controller');
      }
      delete status.startTime;
      status.active = 0;
      return this.write(job, status);
    }
    if (holds(status, 'Suspended')) {
      setCondition(status, 'Suspended', 'False', 'JobResumed', 'Job resumed');
      this.events.record(job, 'Normal', 'Resumed', 'Job resumed', 'job-controller');
      // Resuming restarts the activeDeadlineSeconds clock.
      delete status.startTime;
      this.clearTimers(job.metadata.uid);
    }
    status.startTime ??= now();
    this.armDeadline(job, spec, status.startTime);
    const restarts = pods.reduce((n, p) => n + restartCount(p), 0);
    status.failed = pods.filter((p) => phase(p) === 'Failed').length;
    const failures = restarts + status.failed;
    if (failures > 0 && failures >= (spec.backoffLimit ?? 6)) {
      return this.fail(job, status, alive, 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    }
    const done = new Set(parseIndexes(status.completedIndexes ?? ''));
    for (const p of pods) if (phase(p) === 'Succeeded') done.add(indexOf(p));
    const completions = spec.completions ?? 1;
    status.succeeded = done.size;
    status.completedIndexes = formatIndexes([...done]);
    if (done.size >= completions) {
      setCondition(status, 'SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods');
      setCondition(status, 'Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods');
      status.completionTime = now();
      status.active = 0;
      this.events.record(job, 'Normal', 'Completed', 'Job completed', 'job-controller');
      this.write(job, status);
      return this.afterFinished(job, status);
    }
    for (let index = 0; index < completions; index++) {
      if (done.has(index) || alive.some((p) => indexOf(p) === index)) continue;
      const pod = this.createPod(job, spec, index);
      alive.push(pod);
    }
    status.active = alive.length;
    status.ready = alive.filter((p) => (p.status as { conditions?: Condition[] } | undefined)?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    status.terminating = pods.filter((p) => p.metadata.deletionTimestamp).length;
    this.write(job, status);
  }

  private createPod(job: Obj, spec: JobSpec, index: number): Obj {
    const { name, namespace, uid } = job.metadata;
    const podSpec = structuredClone(spec.template.spec);
    // The Job controller gives each container its index, read from the pod's annotation.
    for (const c of podSpec.containers) {
      c.env = [...(c.env ?? []), { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${INDEX_ANNOTATION}']` } } }];
    }
    podSpec.hostname = `${name}-${index}`;
    const pod = this.store.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${name}-${index}-${randomBytes(3).toString('hex').slice(0, 5)}`,
        generateName: `${name}-${index}-`,
        namespace,
        uid: '',
        resourceVersion: '',
        creationTimestamp: '',
        labels: { ...spec.template.metadata?.labels, [INDEX_ANNOTATION]: String(index) },
        annotations: { [INDEX_ANNOTATION]: String(index) },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid, controller: true }],
      },
      spec: podSpec,
      status: { phase: 'Pending' },
    });
    this.events.record(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, 'job-controller');
    return pod;
  }

  private fail(job: Obj, status: JobStatus, alive: Obj[], reason: string, message: string): void {
    setCondition(status, 'FailureTarget', 'True', reason, message);
    setCondition(status, 'Failed', 'True', reason, message);
    status.active = 0;
    for (const p of alive) this.node.deletePod(job.metadata.namespace, p.metadata.name);
    this.events.record(job, 'Warning', reason, message, 'job-controller');
    this.write(job, status);
    this.afterFinished(job, status);
  }

  private armDeadline(job: Obj, spec: JobSpec, startTime: string): void {
    const key = `${job.metadata.uid}:deadline`;
    if (spec.activeDeadlineSeconds === undefined || this.timers.has(key)) return;
    const due = Date.parse(startTime) + spec.activeDeadlineSeconds * 1000 - Date.now();
    this.setTimer(key, Math.max(0, due), () => {
      const current = this.store.get('jobs', job.metadata.namespace, job.metadata.name);
      const st = structuredClone((current?.status ?? {}) as JobStatus);
      if (!current || current.metadata.deletionTimestamp || holds(st, 'Complete') || holds(st, 'Failed')) return;
      const alive = this.podsOf(current).filter((p) => !p.metadata.deletionTimestamp && !finished(p));
      this.fail(current, st, alive, 'DeadlineExceeded', 'Job was active longer than specified deadline');
    });
  }

  /** ttlSecondsAfterFinished: the TTL controller deletes the Job in the background; GC takes the rest. */
  private afterFinished(job: Obj, status: JobStatus): void {
    const ttl = (job.spec as JobSpec).ttlSecondsAfterFinished;
    const key = `${job.metadata.uid}:ttl`;
    if (ttl === undefined || this.timers.has(key)) return;
    const finishedAt = Date.parse(status.completionTime ?? conditionTime(status) ?? now());
    this.setTimer(key, Math.max(0, finishedAt + ttl * 1000 - Date.now()), () => {
      const current = this.store.get('jobs', job.metadata.namespace, job.metadata.name);
      if (current?.metadata.uid === job.metadata.uid) this.delete(current, 'Background');
    });
  }

  private finishForeground(job: Obj): void {
    const dependents = this.dependents(job);
    for (const d of dependents) {
      if (d.resource === 'pods') this.node.deletePod(job.metadata.namespace, d.object.metadata.name);
      else this.store.remove(d.resource, job.metadata.namespace, d.object.metadata.name);
    }
    if (dependents.every((d) => d.resource !== 'pods')) this.store.remove('jobs', job.metadata.namespace, job.metadata.name);
  }

  /** The garbage collector: objects whose owner is gone are deleted (background). */
  private collectOrphans(): void {
    const uids = new Set(this.store.listAll('jobs').map((j) => j.metadata.uid));
    for (const resource of ['pods', 'secrets'] as const) {
      for (const o of this.store.listAll(resource)) {
        const refs = o.metadata.ownerReferences ?? [];
        if (refs.length === 0 || refs.some((r) => uids.has(r.uid))) continue;
        if (resource === 'pods') this.node.deletePod(o.metadata.namespace, o.metadata.name);
        else this.store.remove(resource, o.metadata.namespace, o.metadata.name);
      }
    }
  }

  private dependents(job: Obj): { resource: 'pods' | 'secrets'; object: Obj }[] {
    const owned = (o: Obj) => (o.metadata.ownerReferences ?? []).some((r) => r.uid === job.metadata.uid);
    return (['pods', 'secrets'] as const).flatMap((resource) =>
      this.store.list(resource, job.metadata.namespace).filter(owned).map((object) => ({ resource, object })));
  }

  private podsOf(job: Obj): Obj[] {
    return this.store.list('pods', job.metadata.namespace).filter((p) =>
      (p.metadata.ownerReferences ?? []).some((r) => r.uid === job.metadata.uid && r.controller));
  }

  private write(job: Obj, status: JobStatus): void {
    const current = this.store.get('jobs', job.metadata.namespace, job.metadata.name);
    if (!current || JSON.stringify(current.status ?? {}) === JSON.stringify(status)) return;
    this.store.mutate('jobs', job.metadata.namespace, job.metadata.name, (j) => {
      j.status = status;
    });
  }

  private setTimer(key: string, ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(key);
      if (!this.closed) fn();
    }, ms);
    this.timers.set(key, t);
  }

  private clearTimers(uid: string): void {
    for (const [key, t] of this.timers) {
      if (key.startsWith(`${uid}:`)) {
        clearTimeout(t);
        this.timers.delete(key);
      }
    }
  }
}

function holds(status: JobStatus, type: string): boolean {
  return (status.conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

function setCondition(status: JobStatus, type: string, value: string, reason: string, message: string): void {
  const conditions = (status.conditions ??= []);
  const existing = conditions.find((c) => c.type === type);
  const next = { type, status: value, reason, message, lastProbeTime: now(), lastTransitionTime: now() };
  if (existing) Object.assign(existing, next);
  else conditions.push(next);
}

function conditionTime(status: JobStatus): string | undefined {
  return status.conditions?.find((c) => c.type === 'Failed')?.lastTransitionTime;
}

function phase(pod: Obj): string | undefined {
  return (pod.status as { phase?: string } | undefined)?.phase;
}

function finished(pod: Obj): boolean {
  return phase(pod) === 'Succeeded' || phase(pod) === 'Failed';
}

function restartCount(pod: Obj): number {
  const s = pod.status as { containerStatuses?: { restartCount?: number }[] } | undefined;
  return (s?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

function indexOf(pod: Obj): number {
  return Number(pod.metadata.annotations?.[INDEX_ANNOTATION] ?? -1);
}

/** `1,3-5` as Kubernetes writes completedIndexes. */
export function formatIndexes(indexes: number[]): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const start = sorted[i] ?? 0;
    let end = start;
    while (sorted[i + 1] === end + 1) end = sorted[++i] ?? end;
    parts.push(start === end ? String(start) : `${start}-${end}`);
  }
  return parts.join(',');
}

function parseIndexes(text: string): number[] {
  return text.split(',').filter(Boolean).flatMap((part) => {
    const [a = '0', b] = part.split('-');
    const start = Number(a);
    const end = b === undefined ? start : Number(b);
    return Array.from({ length: end - start + 1 }, (_, k) => start + k);
  });
}
