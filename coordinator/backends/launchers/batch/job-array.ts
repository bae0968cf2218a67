/**
 * Job arrays: one submission whose elements each start the agents of one job. What differs per
 * scheduler is the directive, the task id each element gets, the element's job id, and where its
 * output goes; the rest of the job script is shared (job-script.ts).
 *
 * | | directive | task ids | element job id | element output |
 * |---|---|---|---|---|
 * | SLURM | `--array=0-(n-1)` | `SLURM_ARRAY_TASK_ID` 0.. | `123_4` | `--output=<base>.%a.out` |
 * | SGE | `-t 1-n` (0 is refused) | `SGE_TASK_ID` 1.. | `123.5` | `qsub -o '<base>.$TASK_ID.out'` |
 * | PBS | `-t 0-(n-1)` (Torque), `-J 0-(n-1)` (PBS Pro) | `PBS_ARRAYID` / `PBS_ARRAY_INDEX` 0.. | `123[4].server` | the script redirects itself |
 *
 * PBS writes an element's -o/-e under a name of its own (Torque appends `-<index>`, PBS Pro
 * substitutes `^array_index^`, the slurm-torque wrappers hand the name to sbatch), so the script
 * sends its output to `<base>.<task>.out` itself, the one form that holds for all three.
 *
 * Agent ids stay the pool's opaque strings: the script holds them in a bash array and each element
 * picks its own by task id (and, with several nodes, srun's rank).
 */
import { shellQuote } from './shell-quote.js';

/** The schedulers that have job arrays, with the setting that changes the PBS directive. */
export type ArrayDialect = { kind: 'slurm' } | { kind: 'sge' } | { kind: 'pbs'; resourceStyle: 'torque' | 'pbspro' };

/** The first task id of an array: SGE counts from 1 (it refuses 0), the others from 0. */
export function firstTaskId(kind: ArrayDialect['kind']): number {
  return kind === 'sge' ? 1 : 0;
}

/** The directive (without its prefix) that makes a job an array of `count` elements. */
export function arrayDirective(dialect: ArrayDialect, count: number): string {
  const first = firstTaskId(dialect.kind);
  const range = `${first}-${first + count - 1}`;
  if (dialect.kind === 'slurm') return `--array=${range}`;
  if (dialect.kind === 'sge') return `-t ${range}`;
  return dialect.resourceStyle === 'pbspro' ? `-J ${range}` : `-t ${range}`;
}

/** The task id of the running element, as a shell expression; a script run outside an array stops there. */
const TASK_ID: Record<ArrayDialect['kind'], string> = {
  slurm: '"${SLURM_ARRAY_TASK_ID:?is not set: not a job array element}"',
  sge: '"${SGE_TASK_ID:?is not set: not a job array element}"',
  // Torque, PBS Pro; the slurm-torque wrappers run the element as a SLURM array task.
  pbs: '"${PBS_ARRAYID:-${PBS_ARRAY_INDEX:-${SLURM_ARRAY_TASK_ID:?is not set: not a job array element}}}"',
};

/** The element's job id, as the launcher names it (see elementJobIds), from the element's environment. */
const ELEMENT_JOB_ID: Record<ArrayDialect['kind'], string> = {
  slurm: '"${SLURM_ARRAY_JOB_ID:-}_${clustrix_task}"',
  sge: '"${JOB_ID:-}.${clustrix_task}"',
  // Torque and PBS Pro set PBS_JOBID to `123[4].server`; under the slurm-torque wrappers the
  // launcher tracks the whole array as one job, SLURM_ARRAY_JOB_ID.
  pbs: '"${PBS_JOBID:-${SLURM_ARRAY_JOB_ID:-${SLURM_JOB_ID:-}}}"',
};

/**
 * Script lines that set `clustrix_task`, CLUSTRIX_JOB_ID and the element's agent id(s): with one
 * node CLUSTRIX_AGENT_ID, with several CLUSTRIX_AGENT_ID_<rank> for srun's ranks to pick from.
 * `agentIds` holds `nodes` ids per element, in element order.
 */
export function arrayLines(dialect: ArrayDialect, agentIds: readonly string[], nodes: number, output: { stdoutPath: string; stderrPath: string }): string[] {
  const first = firstTaskId(dialect.kind);
  const lines = [
    `clustrix_task=${TASK_ID[dialect.kind]}`,
    `clustrix_element=$(( clustrix_task - ${first} ))`,
  ];
  if (dialect.kind === 'pbs') {
    lines.push(`exec >>${elementPathWord(output.stdoutPath, '${clustrix_task}')} 2>>${elementPathWord(output.stderrPath, '${clustrix_task}')}`);
  }
  lines.push(`export CLUSTRIX_JOB_ID=${ELEMENT_JOB_ID[dialect.kind]}`);
  // One id per line keeps a 1,000-element script readable and every id quoted on its own.
  lines.push('clustrix_agent_ids=(', ...agentIds.map((id) => `  ${shellQuote(id)}`), ')');
  if (nodes === 1) {
    lines.push('export CLUSTRIX_AGENT_ID="${clustrix_agent_ids[clustrix_element]}"');
  } else {
    lines.push(
      `for ((clustrix_rank = 0; clustrix_rank < ${nodes}; clustrix_rank++)); do`,
      `  export "CLUSTRIX_AGENT_ID_\${clustrix_rank}=\${clustrix_agent_ids[clustrix_element * ${nodes} + clustrix_rank]}"`,
      'done',
    );
  }
  return lines;
}

/**
 * `<base>.<task>.out` for `<base>.out` (the task id goes before the last extension, or at the end
 * when the file name has none): the file one element writes.
 */
export function elementPath(path: string, task: string | number): string {
  const [stem, ext] = splitExtension(path);
  return `${stem}.${task}${ext}`;
}

/** elementPath as one shell word, with `taskExpression` (e.g. `${clustrix_task}`) left for the shell to expand. */
function elementPathWord(path: string, taskExpression: string): string {
  const [stem, ext] = splitExtension(path);
  return `${shellQuote(`${stem}.`)}"${taskExpression}"${ext === '' ? '' : shellQuote(ext)}`;
}

function splitExtension(path: string): [string, string] {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  return dot > slash + 1 ? [path.slice(0, dot), path.slice(dot)] : [path, ''];
}

/**
 * The job id of each element, from what the submission printed: SLURM `123` → `123_0`...,
 * SGE `123` → `123.1`..., PBS `123[].server` → `123[0].server`... A PBS answer without `[]`
 * comes from a qsub that keeps no element ids (Debian's slurm-torque wrappers: their qdel would
 * cancel the whole array for `123[4]`): then there is one id, the array's, for all elements.
 */
export function elementJobIds(kind: ArrayDialect['kind'], submitted: string, count: number): string[] {
  const first = firstTaskId(kind);
  const tasks = Array.from({ length: count }, (_, i) => first + i);
  if (kind === 'slurm') return tasks.map((t) => `${submitted}_${t}`);
  if (kind === 'sge') return tasks.map((t) => `${submitted}.${t}`);
  const m = /^(\d+)\[\](.*)$/.exec(submitted);
  if (!m) return [submitted];
  return tasks.map((t) => `${m[1]}[${t}]${m[2] ?? ''}`);
}
