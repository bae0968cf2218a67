// The markdown table of a run (bench/results/latest.md), from the JSON record.

export function fmt(v, unit) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  switch (unit) {
    case 'ms':
      if (v < 1) return `${(v * 1000).toFixed(0)} µs`;
      if (v < 10) return `${v.toFixed(2)} ms`;
      if (v < 1000) return `${v.toFixed(1)} ms`;
      return `${(v / 1000).toFixed(2)} s`;
    case 'tasks/s':
    case 'calls/s':
      return `${Math.round(v).toLocaleString('en-US')} ${unit}`;
    case 'MB/s':
      return `${v < 100 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US')} MB/s`;
    case 'MB':
      return `${v.toFixed(1)} MB`;
    case 'x':
      return `${ratioText(v)}`;
    default:
      return `${v} ${unit}`;
  }
}

export function ratioText(r) {
  if (!Number.isFinite(r)) return '–';
  return `${r >= 100 ? Math.round(r) : r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

const esc = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function markdown(run) {
  const L = [];
  const m = run.env.machine;
  L.push('# clustrix benchmarks');
  L.push('');
  const which = run.fullRun ? 'all rows' : `rows: ${run.rows.map((r) => r.id).join(', ')}`;
  L.push(`Run ${run.startedAt} · ${run.quick ? '**quick mode (BENCH_QUICK=1): not comparable with full runs**' : 'full mode'}, ${which} · ${(run.durationMs / 1000).toFixed(0)} s · ` +
    `commit ${run.env.git.commit ?? '?'}${run.env.git.uncommittedCoreFiles ? ` + ${run.env.git.uncommittedCoreFiles} uncommitted core files` : ''}` +
    `${run.env.git.build ? ` (build of a clean checkout: ${run.env.git.build})` : ''}`);
  L.push('');
  L.push(`Machine: ${m.cpus} CPUs (${esc(m.model)}${m.mhz ? `, ${m.mhz} MHz` : ''}), ${m.memGiB} GiB, ${m.os}, ${m.arch}. ` +
    `Load average at start ${run.loadAtStart.map((x) => x.toFixed(2)).join(' / ')} (1/5/15 min).`);
  const v = run.env.versions;
  const dask = run.dask?.versions;
  L.push(`Versions: node ${run.env.node}, clustrix ${v.clustrix}, ws ${v.ws}, msgpackr ${v.msgpackr}${v.msgpackrNative ? ' (native)' : ''}, ` +
    `piscina ${v.piscina ?? '–'}, tinypool ${v.tinypool ?? '–'}, ` +
    (dask ? `dask ${dask.dask}, distributed ${dask.distributed} (python ${dask.python})` : `dask: not available (${run.dask?.reason ?? '?'})`) + '.');
  L.push('');
  L.push('Latency rows: median and p99 over every operation of every measured round, min–max likewise; ' +
    'other rows: median and min–max over rounds (n = rounds). Every reference was measured in this same run.');
  L.push('');
  L.push('## Results');
  L.push('');
  L.push('| # | row | measurement | median | p99 | min–max | n |');
  L.push('|---|---|---|---|---|---|---|');
  for (const row of run.rows) {
    for (const x of row.metrics ?? []) {
      const spread = `${fmt(x.min, x.unit)} – ${fmt(x.max, x.unit)}`;
      L.push(`| ${row.row} | ${esc(row.id)} | ${esc(x.label)} | **${fmt(x.median, x.unit)}** | ${x.kind === 'latency' ? fmt(x.p99, x.unit) : ''} | ${spread} | ${x.n}${x.kind === 'latency' ? '' : ` ${x.nUnit ?? (x.n === 1 ? 'round' : 'rounds')}`} |`);
    }
  }
  L.push('');
  L.push('## Against the references (same run)');
  L.push('');
  L.push('| # | row | ratio | value | goal | met |');
  L.push('|---|---|---|---|---|---|');
  for (const row of run.rows) {
    for (const c of row.comparisons ?? []) {
      // A comparison against an absolute goal (e.g. p99 ≤ 5 ms) carries its unit: shown as "23.4 ms", not "23.4×".
      const show = (v) => (c.unit ? fmt(v, c.unit) : ratioText(v));
      const goal = c.goal ? `${c.goal.op === '<=' ? '≤' : '≥'} ${show(c.goal.value)}` : '–';
      const met = c.met === null ? '–' : c.met ? 'yes' : '**no**';
      L.push(`| ${row.row} | ${esc(row.id)} | ${esc(c.text)} | **${show(c.ratio)}** | ${goal} | ${met} |`);
    }
  }
  L.push('');
  L.push('## Rows');
  L.push('');
  L.push('| # | row | status | time | load before |');
  L.push('|---|---|---|---|---|');
  for (const row of run.rows) {
    const status = row.status === 'ok' ? 'ok' : row.status === 'skipped' ? `skipped: ${esc(row.reason)}` : `**FAILED**: ${esc((row.failures?.length ? row.failures : [firstLine(row.error)]).join('; '))}`;
    L.push(`| ${row.row} | ${esc(row.id)} — ${esc(row.title)} | ${status} | ${(row.durationMs / 1000).toFixed(1)} s | ${row.loadBefore?.[0]?.toFixed(2) ?? '–'} |`);
  }
  const notes = run.rows.flatMap((r) => (r.notes ?? []).map((n) => `- row ${r.row} (${r.id}): ${n}`));
  if (notes.length) {
    L.push('');
    L.push('## Notes');
    L.push('');
    L.push(...notes);
  }
  L.push('');
  return L.join('\n');
}

function firstLine(s) {
  return String(s ?? '').split('\n')[0];
}
