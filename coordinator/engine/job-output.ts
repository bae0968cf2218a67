import type { Launcher } from '../backends/launchers/launcher.js';

/** The last `lines` lines of a job's stdout and stderr, labelled, for an error message. */
export async function jobOutput(launcher: Pick<Launcher, 'logs'>, jobId: string, lines: number): Promise<string> {
  try {
    const logs = await launcher.logs(jobId, lines);
    return [logs.stdout && `stdout:\n${logs.stdout}`, logs.stderr && `stderr:\n${logs.stderr}`].filter(Boolean).join('\n');
  } catch (err) {
    return `(could not read the job's output: ${(err as Error).message})`;
  }
}
