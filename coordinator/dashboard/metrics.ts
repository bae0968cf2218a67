import type { AgentInfo, TaskOutcomeKind } from '../../protocol/rows.js';
import { LATENCY_BUCKETS_S, type LatencyHistogram } from '../engine/work-tracker.js';

/** What /metrics reports, read from the engine at each scrape. */
export interface MetricsSource {
  outcomes: Readonly<Record<TaskOutcomeKind, number>>;
  latency: LatencyHistogram;
  queued: number;
  running: number;
  agents: readonly AgentInfo[];
  pendingAgents: number;
  actors: number;
  /** Bytes of frames from and to agents since the engine started. */
  bytes: { in: number; out: number };
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * The Prometheus text exposition format (version 0.0.4), written by hand: a few families, each
 * with HELP and TYPE, label values escaped, the histogram's buckets cumulative and ending in +Inf.
 */
export function renderMetrics(m: MetricsSource): string {
  const lines: string[] = [];
  const family = (name: string, type: 'counter' | 'gauge' | 'histogram', help: string, samples: [labels: Record<string, string>, value: number][], suffix = ''): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${suffix}${labelText(labels)} ${number(value)}`);
  };
  family('clustrix_tasks_total', 'counter', 'Tasks settled since the coordinator started, by outcome.', (['done', 'failed', 'cancelled'] as const).map((o) => [{ outcome: o }, m.outcomes[o]]));
  family('clustrix_tasks_queued', 'gauge', 'Tasks waiting in the scheduler for an agent.', [[{}, m.queued]]);
  family('clustrix_tasks_running', 'gauge', 'Tasks sent to agents and not settled yet.', [[{}, m.running]]);
  const states = ['ready', 'draining', 'closed'] as const;
  family('clustrix_agents', 'gauge', 'Connected agents, by state.', states.map((s) => [{ state: s }, m.agents.filter((a) => a.state === s).length]));
  family('clustrix_agents_pending', 'gauge', 'Agents launched and not connected yet (their job queued or starting).', [[{}, m.pendingAgents]]);
  family('clustrix_slots', 'gauge', 'Worker slots of the connected agents.', [[{}, m.agents.reduce((n, a) => n + a.slots, 0)]]);
  family('clustrix_actors', 'gauge', 'Actors not dead.', [[{}, m.actors]]);
  family('clustrix_agent_received_bytes_total', 'counter', 'Bytes of frames received from agents.', [[{}, m.bytes.in]]);
  family('clustrix_agent_sent_bytes_total', 'counter', 'Bytes of frames sent to agents.', [[{}, m.bytes.out]]);
  lines.push('# HELP clustrix_task_duration_seconds Time from submission to outcome of settled tasks.', '# TYPE clustrix_task_duration_seconds histogram');
  let cumulative = 0;
  for (let i = 0; i <= LATENCY_BUCKETS_S.length; i++) {
    cumulative += m.latency.counts[i] ?? 0;
    const le = i < LATENCY_BUCKETS_S.length ? String(LATENCY_BUCKETS_S[i]) : '+Inf';
    lines.push(`clustrix_task_duration_seconds_bucket${labelText({ le })} ${cumulative}`);
  }
  lines.push(`clustrix_task_duration_seconds_sum ${number(m.latency.sum)}`, `clustrix_task_duration_seconds_count ${m.latency.count}`);
  return `${lines.join('\n')}\n`;
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function number(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
