/** One line of a task's console output, as it reaches the program. */
export interface LogEntry {
  agentId: string;
  /** The task that printed it; null for the agent's own messages. */
  taskId: string | null;
  stream: 'stdout' | 'stderr';
  text: string;
}

/** Default sink: each line to this process's stdout/stderr, prefixed with agent and task. */
export function printLog(entry: LogEntry): void {
  const prefix = entry.taskId ? `[${entry.agentId} ${entry.taskId}] ` : `[${entry.agentId}] `;
  const out = entry.stream === 'stdout' ? process.stdout : process.stderr;
  const text = entry.text.endsWith('\n') ? entry.text.slice(0, -1) : entry.text;
  out.write(`${prefix}${text.split('\n').join(`\n${prefix}`)}\n`);
}
