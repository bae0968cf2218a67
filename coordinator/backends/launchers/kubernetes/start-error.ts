import type { CoreV1Event } from '@kubernetes/client-node';
import { JobStartError } from '../../../errors/errors.js';
import type { JobStatus } from '../launcher.js';
import { hintFor, type PodProblem } from './diagnosis.js';

/** What explains one failed Job: its status, the pod problem behind it, events and log tails. */
export interface FailureReport {
  jobId: string;
  status: JobStatus;
  problem?: PodProblem | undefined;
  /** Events of the Job and of its pods, as Kubernetes recorded them. */
  events: readonly CoreV1Event[];
  /** Last log lines per pod name ('' when the container never started). */
  logs: ReadonlyMap<string, string>;
}

/**
 * The error the pool raises when a Job's agents never connected: it names Kubernetes' reason
 * and carries the events (where the scheduler and kubelet say why) and the agents' last lines.
 */
export function jobStartError(report: FailureReport): JobStartError {
  const reason = report.problem?.reason ?? report.status.reason ?? report.status.state;
  const where = report.problem ? ` (pod ${report.problem.pod}: ${report.problem.message})` : '';
  return new JobStartError(`Kubernetes Job ${report.jobId} failed to start: ${reason}${where}`, {
    jobId: report.jobId,
    state: report.status.reason ? `${report.status.state} (${report.status.reason})` : report.status.state,
    output: renderOutput(report),
    hint: hintFor(reason),
  });
}

export function renderOutput(report: Pick<FailureReport, 'events' | 'logs'>): string {
  const parts: string[] = [];
  if (report.events.length > 0) {
    parts.push('events:');
    for (const e of [...report.events].sort(byTime)) parts.push(`  ${formatEvent(e)}`);
  }
  for (const [pod, text] of report.logs) {
    const lines = text.replace(/\n$/, '');
    if (!lines) continue;
    parts.push(`log of pod ${pod}:`);
    for (const line of lines.split('\n')) parts.push(`  ${line}`);
  }
  return parts.join('\n');
}

/** `Warning FailedScheduling pod/x: 0/3 nodes are available ... (x4)`, as kubectl describe says it. */
export function formatEvent(e: CoreV1Event): string {
  const object = `${(e.involvedObject.kind ?? '').toLowerCase()}/${e.involvedObject.name ?? '?'}`;
  const count = e.count && e.count > 1 ? ` (x${e.count})` : '';
  return `${e.type ?? 'Normal'} ${e.reason ?? ''} ${object}: ${(e.message ?? '').trim()}${count}`;
}

function byTime(a: CoreV1Event, b: CoreV1Event): number {
  return time(a) - time(b);
}

/** Events carry one of three timestamps depending on who recorded them; list and watch give Date or string. */
function time(e: CoreV1Event): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp;
  return t === undefined ? 0 : new Date(t as Date | string).getTime();
}
