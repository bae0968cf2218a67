/** Clusters to close when the program is interrupted, so no batch job outlives it. */
const open = new Set<{ close(): Promise<void> }>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

export function closeOnSignals(cluster: { close(): Promise<void> }): void {
  open.add(cluster);
  if (installed) return;
  installed = true;
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

export function forgetOnSignals(cluster: { close(): Promise<void> }): void {
  open.delete(cluster);
  if (open.size > 0 || !installed) return;
  installed = false;
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

function onSignal(signal: NodeJS.Signals): void {
  process.stderr.write(`clustrix: ${signal}: cancelling the jobs of ${open.size} cluster(s)...\n`);
  const closing = [...open].map((c) => c.close().catch(() => undefined));
  void Promise.all(closing).then(() => {
    for (const s of SIGNALS) process.off(s, onSignal);
    // With our handler gone, the signal does what it would have done: usually end the process.
    process.kill(process.pid, signal);
  });
}
