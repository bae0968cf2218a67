// The dashboard page: one live socket, the latest snapshot rendered as tables (agents, calls,
// detached calls, actors, errors), a rate chart and the log tail; buttons send actions over the same socket.
import './csp.js';
import { html, render } from 'htm/preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { DashboardClientMessage, Snapshot } from '../protocol/dashboard-messages.js';
import type { LogEntry } from '../protocol/rows.js';
import { RateChart } from './chart.js';
import { Live } from './live.js';

const MAX_LOG_LINES = 500;

const bytes = (n: number): string => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${Math.round(n / 1024)} KiB` : `${Math.round(n / 1024 / 1024)} MiB`);
const since = (t: number, now: number): string => {
  const s = Math.max(0, Math.round((now - t) / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
};

let nextAction = 0;

/** An action as a button makes it; the id is added when it is sent. */
type Action = DashboardClientMessage extends infer M ? (M extends unknown ? Omit<M, 'id'> : never) : never;

function App() {
  const [snap, setSnap] = useState<Snapshot | null>(null);
  const [logs, setLogs] = useState<LogEntry[]>([]);
  const [conn, setConn] = useState<{ state: string; detail: string }>({ state: 'connecting', detail: '' });
  const [notice, setNotice] = useState<{ ok: boolean; message: string } | null>(null);
  const [filter, setFilter] = useState('');
  const [scaleTo, setScaleTo] = useState('');
  const [scalePool, setScalePool] = useState('');
  const chart = useMemo(() => new RateChart(), []);
  const chartEl = useRef<HTMLDivElement>(null);
  const live = useMemo(
    () =>
      new Live({
        message: (m) => {
          switch (m.type) {
            case 'snapshot':
              chart.add(m.at, m.totals.done, m.totals.failed + m.totals.cancelled);
              setSnap(m);
              return;
            case 'logs':
              setLogs((old) => [...old, ...m.entries].slice(-MAX_LOG_LINES));
              return;
            case 'action-result':
              setNotice({ ok: m.ok, message: m.message });
              return;
            default: {
              const unreachable: never = m;
              return unreachable;
            }
          }
        },
        state: (state, detail) => setConn({ state, detail }),
      }),
    [chart],
  );
  useEffect(() => {
    if (chartEl.current) chart.mount(chartEl.current);
  }, [chart]);

  const act = (message: Action): void => {
    if (!live.send({ ...message, id: `a${++nextAction}` } as DashboardClientMessage)) setNotice({ ok: false, message: 'not connected' });
  };

  const now = snap?.at ?? Date.now();
  const shown = filter ? logs.filter((l) => `${l.agentId} ${l.taskId ?? ''} ${l.text}`.toLowerCase().includes(filter.toLowerCase())) : logs;
  const t = snap?.totals;

  return html`
    <header>
      <h1>${snap?.title ?? 'clustrix'}</h1>
      <span class=${`conn conn-${conn.state}`} data-testid="connection">${conn.state}${conn.detail ? `: ${conn.detail}` : ''}</span>
      ${conn.state === 'logged-out' ? html`<p class="warn">This session is not logged in: open a new login URL (cluster.dashboard() or <code>clustrix dashboard</code>).</p>` : null}
    </header>
    ${notice ? html`<p class=${notice.ok ? 'notice' : 'notice bad'} data-testid="notice">${notice.message}</p>` : null}
    <section class="totals" data-testid="totals">
      <div><b data-testid="total-done">${t?.done ?? 0}</b> done</div>
      <div><b>${t?.failed ?? 0}</b> failed</div>
      <div><b>${t?.cancelled ?? 0}</b> cancelled</div>
      <div><b data-testid="total-running">${t?.running ?? 0}</b> running</div>
      <div><b>${t?.queued ?? 0}</b> queued</div>
    </section>
    <section>
      <h2>Tasks settled per second</h2>
      <div ref=${chartEl} class="chart"></div>
    </section>
    <section>
      <h2>Agents (${snap?.agents.length ?? 0}${snap && snap.pending.length > 0 ? `, ${snap.pending.length} pending` : ''})</h2>
      <form class="scale" onSubmit=${(e: Event) => {
        e.preventDefault();
        const n = Number(scaleTo);
        if (Number.isInteger(n) && n >= 0) act({ type: 'scale', agents: n, ...(scalePool ? { pool: scalePool } : {}) });
      }}>
        <input type="number" min="0" placeholder="agents" value=${scaleTo} onInput=${(e: Event) => setScaleTo((e.target as HTMLInputElement).value)} />
        <input type="text" placeholder="pool" value=${scalePool} onInput=${(e: Event) => setScalePool((e.target as HTMLInputElement).value.trim())} />
        <button type="submit">Scale</button>
      </form>
      <table data-testid="agents">
        <thead><tr><th>agent</th><th>pool</th><th>host</th><th>job</th><th>slots</th><th>busy</th><th>done</th><th>RSS</th><th>walltime left</th><th>state</th></tr></thead>
        <tbody>
          ${(snap?.agents ?? []).map((a) => html`<tr key=${a.id}><td>${a.id}</td><td>${a.pool}</td><td>${a.host}</td><td>${a.jobId ?? '-'}</td><td>${a.slots}</td><td>${a.busy}</td><td>${a.tasksDone}</td><td>${bytes(a.rssBytes)}</td><td>${a.walltimeLeftMs === null ? '-' : since(0, a.walltimeLeftMs)}</td><td>${a.state}</td></tr>`)}
          ${(snap?.pending ?? []).map((p) => html`<tr key=${p.agentId} class="dim"><td>${p.agentId}</td><td>${p.pool}</td><td>-</td><td>${p.jobId}</td><td colspan="5"></td><td>pending</td></tr>`)}
        </tbody>
      </table>
    </section>
    <section>
      <h2>Calls</h2>
      <table data-testid="calls">
        <thead><tr><th>call</th><th>function</th><th>client</th><th>queued</th><th>running</th><th>done</th><th>failed</th><th>cancelled</th><th>age</th><th></th></tr></thead>
        <tbody>
          ${(snap?.calls ?? []).map((c) => {
            const live = c.queued + c.running > 0;
            return html`<tr key=${`${c.client}/${c.callId}`} data-call=${c.label}>
              <td>${c.callId}</td><td>${c.label}</td><td>${c.client}</td><td>${c.queued}</td><td>${c.running}</td>
              <td class="done">${c.done}</td><td>${c.failed}</td><td>${c.cancelled}</td><td>${since(c.startedAt, now)}</td>
              <td>${live ? html`<button class="danger" onClick=${() => act({ type: 'cancel-call', client: c.client, callId: c.callId })}>Cancel</button>` : null}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    </section>
    ${snap && snap.detached.length > 0
      ? html`<section>
          <h2>Detached calls (cluster.collect(id))</h2>
          <table data-testid="detached">
            <thead><tr><th>id</th><th>kind</th><th>function</th><th>client</th><th>state</th><th>tasks</th><th>kept</th><th>age</th></tr></thead>
            <tbody>
              ${snap.detached.map((d) => html`<tr key=${d.id} data-detached=${d.id}><td>${d.id}</td><td>${d.kind}</td><td>${d.label}</td><td>${d.client}</td><td>${d.state}</td><td>${d.settled}/${d.tasks}</td><td>${bytes(d.bytes)}</td><td>${since(d.startedAt, now)}</td></tr>`)}
            </tbody>
          </table>
        </section>`
      : null}
    <section>
      <h2>Actors</h2>
      <table data-testid="actors">
        <thead><tr><th>actor</th><th>name</th><th>class</th><th>agent</th><th>state</th><th>calls</th><th>restarts</th><th></th></tr></thead>
        <tbody>
          ${(snap?.actors ?? []).map((a) => html`<tr key=${a.id}><td>${a.id}</td><td>${a.name ?? '-'}</td><td>${a.className}</td><td>${a.agentId ?? '-'}</td><td>${a.state}</td><td>${a.callsServed}</td><td>${a.restarts}</td>
            <td>${a.state !== 'dead' ? html`<button class="danger" onClick=${() => act({ type: 'kill-actor', actorId: a.id })}>Kill</button>` : null}</td></tr>`)}
        </tbody>
      </table>
    </section>
    <section>
      <h2>Recent errors</h2>
      <div data-testid="errors">
        ${(snap?.errors ?? []).map((e) => html`<details key=${`${e.client}/${e.taskId}/${e.at}`}>
          <summary><code>${e.code}</code> ${e.label} (${e.taskId} on ${e.agentId ?? '-'}, ${e.client}): ${e.message}</summary>
          ${e.stack ? html`<pre>${e.stack}</pre>` : null}
        </details>`)}
        ${snap && snap.errors.length === 0 ? html`<p class="dim">none</p>` : null}
      </div>
    </section>
    <section>
      <h2>Log</h2>
      <input class="filter" placeholder="filter (agent, task or text)" value=${filter} onInput=${(e: Event) => setFilter((e.target as HTMLInputElement).value)} />
      <pre class="log" data-testid="log">${shown.map((l) => `[${l.agentId}${l.taskId ? ` ${l.taskId}` : ''}] ${l.text.trimEnd()}\n`).join('')}</pre>
    </section>
  `;
}

render(html`<${App} />`, document.getElementById('app')!);
