/**
 * One stand-in node: the scheduler's fit check and a kubelet that runs each pod's one container as
 * a local process, with the pod's environment (Secret references resolved from the store) and a
 * temp dir standing in for its /tmp emptyDir. It reports what a kubelet reports: ErrImagePull /
 * ImagePullBackOff, Unschedulable, CreateContainerConfigError, CrashLoopBackOff, and events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { now, type Obj, type Store } from './store.js';
import type { EventRecorder } from './events.js';

export interface NodeSpec {
  name: string;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }[];
  /** e.g. { cpu: '4', memory: '8Gi', 'nvidia.com/gpu': '0' } */
  allocatable: Record<string, string>;
}

export interface NodeOptions {
  node: NodeSpec;
  /** What the image's entrypoint runs here: the agent command (injectable, see the test). */
  entrypoint: readonly string[];
  /** Images the "registry" does not have. */
  unpullable: (image: string) => boolean;
  /** Back-off before the second and later restarts of a crashed container (doubles each time). */
  crashBackoffMs: number;
  /** Where pods' temp dirs go. */
  root: string;
}

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; fieldRef?: { fieldPath: string } } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface PodSpec {
  containers: Container[];
  restartPolicy?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: { key?: string; operator?: string; value?: string; effect?: string }[];
  nodeName?: string;
  hostname?: string;
  terminationGracePeriodSeconds?: number;
}
interface Running {
  child: ChildProcess | undefined;
  log: string;
  previousLog: string | undefined;
  restarts: number;
  pulls: number;
  timer: NodeJS.Timeout | undefined;
  dir: string;
}

export class StandinNode {
  private readonly running = new Map<string, Running>();
  private closed = false;

  constructor(private readonly store: Store, private readonly events: EventRecorder, private readonly options: NodeOptions) {
    store.on('change', (c) => {
      if (this.closed) return;
      // A new pod is scheduled; one that did not fit waits for freed resources (below). Retrying on
      // its own MODIFIED events would loop: each attempt writes its status and a FailedScheduling event.
      if (c.resource === 'pods' && c.type === 'ADDED' && !spec(c.object).nodeName && !c.object.metadata.deletionTimestamp) {
        setImmediate(() => this.schedule(c.object.metadata.namespace, c.object.metadata.name));
      }
      // Freed resources may let a pending pod fit; a new Secret may unblock a waiting container.
      const phase = (c.object.status as { phase?: string } | undefined)?.phase;
      if (c.resource === 'pods' && (c.type === 'DELETED' || phase === 'Succeeded' || phase === 'Failed')) setImmediate(() => this.retryPending());
      if (c.resource === 'secrets' && c.type === 'ADDED') setImmediate(() => this.retryConfigErrors());
    });
  }

  /** Last log lines of a pod's container, as GET .../pods/<name>/log returns them. */
  log(pod: Obj, previous: boolean): string | undefined {
    const r = this.running.get(pod.metadata.uid);
    return previous ? r?.previousLog : r?.log;
  }

  /** The container processes running now, by pod (tests match them to the agents that connected). */
  processes(): { namespace: string; pod: string; pid: number }[] {
    return this.allPods().flatMap((pod) => {
      const child = this.running.get(pod.metadata.uid)?.child;
      const alive = child?.pid !== undefined && child.exitCode === null && child.signalCode === null;
      return alive ? [{ namespace: pod.metadata.namespace, pod: pod.metadata.name, pid: child.pid }] : [];
    });
  }

  /** Graceful deletion: SIGTERM, SIGKILL after the grace period, then the pod object goes. */
  deletePod(namespace: string, name: string): void {
    // Already terminating: the first call's SIGTERM and exit listener finish it. Marking it again
    // would write a MODIFIED event, which makes the Job controller call this again, in a loop.
    const terminating = this.store.get('pods', namespace, name);
    const stopping = terminating?.metadata.deletionTimestamp ? this.running.get(terminating.metadata.uid)?.child : undefined;
    if (stopping && stopping.exitCode === null && stopping.signalCode === null) return;
    const pod = this.store.mutate('pods', namespace, name, (p) => {
      p.metadata.deletionTimestamp ??= now();
    });
    if (!pod) return;
    const r = this.running.get(pod.metadata.uid);
    if (r?.timer) clearTimeout(r.timer);
    const child = r?.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.forget(pod);
      this.store.remove('pods', namespace, name);
      return;
    }
    child.kill('SIGTERM');
    const grace = setTimeout(() => child.kill('SIGKILL'), (spec(pod).terminationGracePeriodSeconds ?? 30) * 1000);
    child.once('exit', () => {
      clearTimeout(grace);
      this.forget(pod);
      this.store.remove('pods', namespace, name);
    });
  }

  close(): void {
    this.closed = true;
    for (const r of this.running.values()) {
      if (r.timer) clearTimeout(r.timer);
      r.child?.kill('SIGKILL');
      rmSync(r.dir, { recursive: true, force: true });
    }
    this.running.clear();
  }

  private schedule(namespace: string, name: string): void {
    const pod = this.store.get('pods', namespace, name);
    if (!pod || spec(pod).nodeName || pod.metadata.deletionTimestamp) return;
    const why = this.unfit(pod);
    if (why) {
      const message = `0/1 nodes are available: 1 ${why}. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.`;
      this.events.record(pod, 'Warning', 'FailedScheduling', message, 'default-scheduler');
      this.setStatus(pod, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: now() }] });
      return;
    }
    const bound = this.store.mutate('pods', namespace, name, (p) => {
      spec(p).nodeName = this.options.node.name;
      p.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: now() }], startTime: now() };
    });
    if (!bound) return;
    this.events.record(bound, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${this.options.node.name}`, 'default-scheduler');
    this.startContainer(bound);
  }

  /** The scheduler's predicates, in the order kube-scheduler reports them. */
  private unfit(pod: Obj): string | null {
    const s = spec(pod);
    const node = this.options.node;
    if (Object.entries(s.nodeSelector ?? {}).some(([k, v]) => node.labels[k] !== v)) return "node(s) didn't match Pod's node affinity/selector";
    const untolerated = node.taints.find((t) => t.effect !== 'PreferNoSchedule' && !(s.tolerations ?? []).some((tol) =>
      (tol.key === undefined || tol.key === t.key) && (tol.effect === undefined || tol.effect === t.effect) &&
      (tol.operator === 'Exists' || (tol.value ?? '') === (t.value ?? ''))));
    if (untolerated) return `node(s) had untolerated taint {${untolerated.key}: ${untolerated.value ?? ''}}`;
    const used: Record<string, number> = {};
    for (const other of this.store.list('pods', pod.metadata.namespace)) {
      const phase = (other.status as { phase?: string } | undefined)?.phase;
      if (spec(other).nodeName !== node.name || phase === 'Succeeded' || phase === 'Failed') continue;
      for (const [k, v] of Object.entries(requests(other))) used[k] = (used[k] ?? 0) + v;
    }
    for (const [k, v] of Object.entries(requests(pod))) {
      if ((used[k] ?? 0) + v > quantity(node.allocatable[k] ?? '0')) return `Insufficient ${k}`;
    }
    return null;
  }

  private retryPending(): void {
    for (const pod of this.allPods()) if (!spec(pod).nodeName && !pod.metadata.deletionTimestamp) this.schedule(pod.metadata.namespace, pod.metadata.name);
  }

  private retryConfigErrors(): void {
    for (const pod of this.allPods()) {
      if (waitingReason(pod) === 'CreateContainerConfigError' && !pod.metadata.deletionTimestamp) this.startContainer(pod);
    }
  }

  private allPods(): Obj[] {
    return this.store.listAll('pods');
  }

  private startContainer(pod: Obj): void {
    const c = spec(pod).containers[0];
    if (!c) return;
    const r = this.runtime(pod);
    if (this.options.unpullable(c.image)) {
      const reason = r.pulls++ === 0 ? 'ErrImagePull' : 'ImagePullBackOff';
      this.events.record(pod, 'Normal', 'Pulling', `Pulling image "${c.image}"`, 'kubelet');
      const message = `failed to pull and unpack image "${c.image}": failed to resolve reference "${c.image}": ${c.image}: not found`;
      this.events.record(pod, 'Warning', 'Failed', `Failed to pull image "${c.image}": rpc error: code = NotFound desc = ${message}`, 'kubelet');
      this.events.record(pod, 'Warning', 'Failed', `Error: ${reason}`, 'kubelet');
      if (reason === 'ImagePullBackOff') this.events.record(pod, 'Normal', 'BackOff', `Back-off pulling image "${c.image}"`, 'kubelet');
      this.setContainer(pod, { waiting: { reason, message: reason === 'ErrImagePull' ? `rpc error: code = NotFound desc = ${message}` : `Back-off pulling image "${c.image}"` } }, 'Pending');
      r.timer = setTimeout(() => this.restartLater(pod), this.options.crashBackoffMs);
      return;
    }
    const env = this.resolveEnv(pod, c);
    if (typeof env === 'string') {
      this.events.record(pod, 'Warning', 'Failed', `Error: ${env}`, 'kubelet');
      this.setContainer(pod, { waiting: { reason: 'CreateContainerConfigError', message: env } }, 'Pending');
      return;
    }
    if (r.restarts === 0) this.events.record(pod, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`, 'kubelet');
    this.events.record(pod, 'Normal', 'Created', `Created container: ${c.name}`, 'kubelet');
    const [file = '', ...args] = [...(c.command ?? this.options.entrypoint), ...(c.args ?? [])];
    const child = spawn(file, args, { env, cwd: r.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    r.child = child;
    // The kubelet keeps one stream per container: stdout and stderr interleaved.
    child.stdout?.on('data', (d: Buffer) => (r.log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (r.log += d.toString()));
    child.on('error', (err) => (r.log += `exec: ${err.message}\n`));
    child.on('spawn', () => {
      this.events.record(pod, 'Normal', 'Started', `Started container ${c.name}`, 'kubelet');
      this.setContainer(pod, { running: { startedAt: now() } }, 'Running');
    });
    child.on('close', (code, signal) => this.exited(pod, code ?? (signal ? 137 : 1)));
  }

  private exited(pod: Obj, exitCode: number): void {
    const current = this.store.get('pods', pod.metadata.namespace, pod.metadata.name);
    const r = this.running.get(pod.metadata.uid);
    if (!current || current.metadata.deletionTimestamp || !r || this.closed) return;
    const terminated = { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', finishedAt: now() };
    if (exitCode === 0 || spec(current).restartPolicy === 'Never') {
      this.setContainer(current, { terminated }, exitCode === 0 ? 'Succeeded' : 'Failed');
      return;
    }
    // restartPolicy OnFailure: restart in place; from the second crash on, back off (CrashLoopBackOff).
    r.restarts += 1;
    r.previousLog = r.log;
    r.log = '';
    this.setContainer(current, r.restarts === 1 ? { running: { startedAt: now() } } : {
      waiting: { reason: 'CrashLoopBackOff', message: `back-off ${this.options.crashBackoffMs}ms restarting failed container=${spec(current).containers[0]?.name} pod=${current.metadata.name}_${current.metadata.namespace}(${current.metadata.uid})` },
    }, 'Running', terminated);
    if (r.restarts > 1) {
      this.events.record(current, 'Warning', 'BackOff', `Back-off restarting failed container ${spec(current).containers[0]?.name} in pod ${current.metadata.name}_${current.metadata.namespace}(${current.metadata.uid})`, 'kubelet');
    }
    const delay = r.restarts === 1 ? 0 : this.options.crashBackoffMs * 2 ** (r.restarts - 2);
    r.timer = setTimeout(() => this.restartLater(current), delay);
  }

  private restartLater(pod: Obj): void {
    const current = this.store.get('pods', pod.metadata.namespace, pod.metadata.name);
    if (current && !current.metadata.deletionTimestamp && !this.closed) this.startContainer(current);
  }

  /** Env as the kubelet builds it: literal values, Secret keys, downward-API fields. A string is an error. */
  private resolveEnv(pod: Obj, c: Container): NodeJS.ProcessEnv | string {
    const r = this.runtime(pod);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: r.dir, TMPDIR: join(r.dir, 'tmp'), HOSTNAME: spec(pod).hostname ?? pod.metadata.name };
    // `$(NAME)` in a value refers to variables defined earlier in the container's own env list.
    const defined: Record<string, string> = {};
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      const field = e.valueFrom?.fieldRef?.fieldPath;
      if (ref) {
        const secret = this.store.get('secrets', pod.metadata.namespace, ref.name);
        const data = (secret?.data ?? {}) as Record<string, string>;
        if (!secret && !ref.optional) return `secret "${ref.name}" not found`;
        if (data[ref.key] === undefined) {
          if (ref.optional) continue;
          return `couldn't find key ${ref.key} in Secret ${pod.metadata.namespace}/${ref.name}`;
        }
        env[e.name] = Buffer.from(data[ref.key] ?? '', 'base64').toString('utf8');
      } else if (field) {
        const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(field)?.[1];
        env[e.name] = annotation !== undefined ? pod.metadata.annotations?.[annotation] ?? '' : field === 'metadata.name' ? pod.metadata.name : field === 'metadata.namespace' ? pod.metadata.namespace : '';
      } else {
        env[e.name] = expand(e.value ?? '', defined);
      }
      defined[e.name] = env[e.name] ?? '';
    }
    return env;
  }

  private runtime(pod: Obj): Running {
    let r = this.running.get(pod.metadata.uid);
    if (!r) {
      const dir = join(this.options.root, pod.metadata.uid);
      mkdirSync(join(dir, 'tmp'), { recursive: true });
      r = { child: undefined, log: '', previousLog: undefined, restarts: 0, pulls: 0, timer: undefined, dir };
      this.running.set(pod.metadata.uid, r);
    }
    return r;
  }

  private forget(pod: Obj): void {
    const r = this.running.get(pod.metadata.uid);
    if (r?.timer) clearTimeout(r.timer);
    if (r) rmSync(r.dir, { recursive: true, force: true });
    // Logs stay readable until the pod object is gone; nobody reads them after.
    this.running.delete(pod.metadata.uid);
  }

  private setContainer(pod: Obj, state: Record<string, unknown>, phase: string, lastTerminated?: Record<string, unknown>): void {
    const r = this.runtime(pod);
    this.store.mutate('pods', pod.metadata.namespace, pod.metadata.name, (p) => {
      const c = spec(p).containers[0];
      const status = (p.status ?? {}) as { conditions?: { type: string }[]; containerStatuses?: { lastState?: unknown }[] };
      const previous = status.containerStatuses?.[0]?.lastState ?? {};
      const ready = 'running' in state;
      p.status = {
        ...status,
        phase,
        podIP: '127.0.0.1',
        conditions: [
          ...(status.conditions ?? []).filter((x) => x.type === 'PodScheduled'),
          { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now() },
          { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: now() },
        ],
        containerStatuses: [{
          name: c?.name, image: c?.image, imageID: '', ready, started: ready, restartCount: r.restarts,
          state, lastState: lastTerminated ? { terminated: lastTerminated } : previous,
        }],
      };
    });
  }

  private setStatus(pod: Obj, status: Record<string, unknown>): void {
    this.store.mutate('pods', pod.metadata.namespace, pod.metadata.name, (p) => {
      p.status = status;
    });
  }
}

/**
 * The kubelet's dependent-variable expansion: `$(NAME)` becomes NAME's value if NAME is known,
 * else stays as written; `$$` is a literal `$`.
 */
export function expand(input: string, vars: Readonly<Record<string, string>>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch === '$' && input[i + 1] === '$') {
      out += '$';
      i++;
    } else if (ch === '$' && input[i + 1] === '(' && input.indexOf(')', i + 2) > 0) {
      const close = input.indexOf(')', i + 2);
      const name = input.slice(i + 2, close);
      out += vars[name] ?? `$(${name})`;
      i = close;
    } else {
      out += ch;
    }
  }
  return out;
}

function spec(pod: Obj): PodSpec {
  return pod.spec as PodSpec;
}

function waitingReason(pod: Obj): string | undefined {
  const s = pod.status as { containerStatuses?: { state?: { waiting?: { reason?: string } } }[] } | undefined;
  return s?.containerStatuses?.[0]?.state?.waiting?.reason;
}

/** Sum of container requests (limits stand in when only limits are set, as Kubernetes defaults them). */
function requests(pod: Obj): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of spec(pod).containers) {
    for (const [k, v] of Object.entries({ ...c.resources?.limits, ...c.resources?.requests })) out[k] = (out[k] ?? 0) + quantity(v);
  }
  return out;
}

const SUFFIX: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
export function quantity(q: string): number {
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(q);
  if (!m) return Number.NaN;
  return Number(m[1]) * (m[2] ? SUFFIX[m[2]] ?? Number.NaN : 1);
}
