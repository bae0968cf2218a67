/**
 * The one job-script renderer every launcher here shares (SLURM, PBS, SGE, and plain SSH hosts).
 *
 * Layout of a script: `#!/bin/bash`, the scheduler's directives, a header, the CLUSTRIX_* exports
 * the agent reads (agent/config.ts), the user's setup lines, a check that a usable `node` exists,
 * then the agent. Every value from options or the launch request is quoted for the place it lands
 * in (shell word or directive). The cluster token is not an input at all: the script only names
 * the 0600 file that holds it, so the token never reaches the script text, argv or `ps`.
 */
import { arrayDirective, arrayLines, elementPath } from './job-array.js';
import { assertNoNul, assertSingleLine, shellQuote } from './shell-quote.js';
import { formatHms, formatSlurmTime, type CompiledResources } from './resources.js';

/** The scheduler the script is for, with the settings that change how directives are written. */
export type SchedulerDialect =
  | { kind: 'slurm' }
  | {
      kind: 'pbs';
      /** `torque`: `-l nodes=1:ppn=N,mem=..`; `pbspro`: `-l select=1:ncpus=N:mem=..`. */
      resourceStyle: 'torque' | 'pbspro';
    }
  | {
      kind: 'sge';
      /** Parallel environment that gives one job several slots on one host, e.g. `smp`. */
      parallelEnvironment: string;
      /** Resource that limits memory; SGE counts it per slot, so the renderer divides by CPUs. */
      memoryResource: string;
      /** Consumable for GPUs, e.g. `gpu`. */
      gpuResource: string;
    }
  | {
      /** No scheduler: started with setsid on a plain host; writes its exit status to `exitFile`. */
      kind: 'ssh';
      exitFile: string;
      /** CLUSTRIX_JOB_ID becomes this prefix followed by the script's pid, e.g. `host1:4242`. */
      jobIdPrefix: string;
    };

export interface JobScriptSpec {
  scheduler: SchedulerDialect;
  resources: CompiledResources;
  /** The job's name in the queue. */
  jobName: string;
  /** Files the job's stdout and stderr go to (for SGE they go on the qsub command line instead). */
  stdoutPath: string;
  stderrPath: string;
  /** Directory the agents run in. */
  workDir: string;
  /**
   * The user's shell lines (module loads, exports, conda activate, any pre-command), inserted
   * verbatim and in order after the CLUSTRIX_* exports and before the node check. They are shell
   * code by design, so they are not quoted; an entry may span several lines.
   */
  setup: readonly string[];
  /** Node command on the compute node: a name on PATH or an absolute path. */
  node: string;
  /** Path of agent.cjs on the cluster. */
  agentPath: string;
  /** Path of the 0600 file holding the cluster token (never the token itself). */
  tokenFile: string;
  /** ws:// or wss:// address the agents dial. */
  url: string;
  certFingerprint?: string | undefined;
  /** One id per node (per node of each element, element after element, for an array). */
  agentIds: readonly string[];
  /**
   * A job array of `count` elements, each a job of `resources.nodes` agents (job-array.ts);
   * element i runs agentIds[i * nodes] to agentIds[(i + 1) * nodes - 1]. Unset: one plain job.
   */
  array?: { count: number } | undefined;
  /** Worker-thread slots per agent; default: resources.cpusPerTask, else the agent's own default. */
  slots?: number | undefined;
}

const DIRECTIVE_PREFIX = { slurm: '#SBATCH', pbs: '#PBS', sge: '#$' } as const;

/** How each scheduler's batch job id reaches the script's environment. */
const JOB_ID_EXPRESSION = {
  slurm: '"${SLURM_JOB_ID:-}"',
  // Torque/PBS Pro set PBS_JOBID; the slurm-torque wrappers run the job as a SLURM job and set only SLURM_JOB_ID.
  pbs: '"${PBS_JOBID:-${SLURM_JOB_ID:-}}"',
  sge: '"${JOB_ID:-}"',
} as const;

export function renderJobScript(spec: JobScriptSpec): string {
  checkSpec(spec);
  const { scheduler, resources } = spec;
  const lines: string[] = ['#!/bin/bash'];
  if (scheduler.kind !== 'ssh') {
    const prefix = DIRECTIVE_PREFIX[scheduler.kind];
    const directives =
      scheduler.kind === 'slurm' ? slurmDirectives(spec) : scheduler.kind === 'pbs' ? pbsDirectives(spec, scheduler.resourceStyle) : sgeDirectives(spec, scheduler);
    for (const d of directives) lines.push(`${prefix} ${d}`);
    for (const extra of resources.extraDirectives) lines.push(`${prefix} ${stripPrefix(extra, prefix)}`);
  }
  const nodes = resources.nodes;
  const what = nodes > 1 ? `one agent on each of ${nodes} nodes` : 'one agent';
  lines.push(
    `# Rendered by clustrix: ${spec.array ? `a job array of ${spec.array.count} elements, each starting ${what}` : `starts ${what}`}, which connects back to the coordinator.`,
    '# The cluster token is not in this file: the agent reads it from CLUSTRIX_TOKEN_FILE (mode 0600).',
    // No `set -u`: site setup lines (module load, conda activate) often read unset variables.
    'set -eo pipefail',
    // sbatch (and qsub -V) copy the submitting environment: an inherited CLUSTRIX_TOKEN would win
    // over the token file, CLUSTRIX_EXIT_WITH_STDIN would stop the agent at once. Start clean.
    'for clustrix_var in $(compgen -e); do case $clustrix_var in CLUSTRIX_*) unset "$clustrix_var" ;; esac; done',
  );
  if (scheduler.kind === 'sge') {
    lines.push('# stdout and stderr: qsub -o/-e on the command line (SGE drops quote characters in #$ lines).');
  }
  if (scheduler.kind === 'ssh') {
    // No scheduler keeps the exit status of a plain process: keep it beside the logs.
    lines.push(`clustrix_exit_file=${shellQuote(scheduler.exitFile)}`, `trap 'echo "$?" > "$clustrix_exit_file"' EXIT`);
  }
  if (resources.timeSeconds !== undefined) {
    // Measured when the job starts, not when it was queued: the walltime clock starts then too.
    lines.push(`export CLUSTRIX_WALLTIME_END="$(( ($(date +%s) + ${resources.timeSeconds}) * 1000 ))"`);
  }
  lines.push(`cd ${shellQuote(spec.workDir)}`, `export CLUSTRIX_URL=${shellQuote(spec.url)}`, `export CLUSTRIX_TOKEN_FILE=${shellQuote(spec.tokenFile)}`);
  if (spec.array && scheduler.kind !== 'ssh') {
    lines.push(...arrayLines(scheduler, spec.agentIds, nodes, spec));
  } else if (nodes > 1) {
    // One id per node, picked by srun's rank below: the pool's ids are opaque strings, so a
    // `{SLURM_PROCID}` placeholder could not turn into them.
    lines.push(jobIdLine(scheduler));
    spec.agentIds.forEach((id, rank) => lines.push(`export CLUSTRIX_AGENT_ID_${rank}=${shellQuote(id)}`));
  } else {
    lines.push(jobIdLine(scheduler), `export CLUSTRIX_AGENT_ID=${shellQuote(spec.agentIds[0] ?? '')}`);
  }
  const slots = spec.slots ?? resources.cpusPerTask;
  if (slots !== undefined) lines.push(`export CLUSTRIX_SLOTS=${slots}`);
  if (spec.certFingerprint !== undefined) lines.push(`export CLUSTRIX_CERT_FINGERPRINT=${shellQuote(spec.certFingerprint)}`);
  if (spec.setup.length > 0) lines.push('# setup: the user\'s lines, verbatim and in order', ...spec.setup);
  lines.push(...nodeCheck(spec.node), ...startAgent(spec));
  return `${lines.join('\n')}\n`;
}

function jobIdLine(scheduler: SchedulerDialect): string {
  return `export CLUSTRIX_JOB_ID=${scheduler.kind === 'ssh' ? `${shellQuote(scheduler.jobIdPrefix)}"$$"` : JOB_ID_EXPRESSION[scheduler.kind]}`;
}

function slurmDirectives(spec: JobScriptSpec): string[] {
  const r = spec.resources;
  // An array element writes <base>.<task>.out: %a is its task id (patterns must stay on, see slurmFilename).
  const file = (path: string): string => (spec.array ? elementPath(slurmFilename(path), '%a') : slurmFilename(path));
  const d = [
    `--job-name=${shellQuote(spec.jobName)}`,
    `--output=${shellQuote(file(spec.stdoutPath))}`,
    `--error=${shellQuote(file(spec.stderrPath))}`,
    `--nodes=${r.nodes}`,
    '--ntasks-per-node=1',
    // The pool replaces lost agents itself; a requeued job would bring back agent ids it gave up on.
    '--no-requeue',
  ];
  if (r.cpusPerTask !== undefined) d.push(`--cpus-per-task=${r.cpusPerTask}`);
  if (r.memoryMb !== undefined) d.push(`--mem=${r.memoryMb}M`);
  if (r.timeSeconds !== undefined) d.push(`--time=${formatSlurmTime(r.timeSeconds)}`);
  if (r.queue !== undefined) d.push(`--partition=${shellQuote(r.queue)}`);
  if (r.account !== undefined) d.push(`--account=${shellQuote(r.account)}`);
  if (r.qos !== undefined) d.push(`--qos=${shellQuote(r.qos)}`);
  if (r.gpus !== undefined) d.push(`--gpus-per-node=${r.gpus}`);
  if (spec.array) d.push(arrayDirective({ kind: 'slurm' }, spec.array.count));
  return d;
}

/**
 * SLURM expands `%j`-style patterns in --output/--error; `%%` is a literal `%`. A backslash anywhere
 * in the name turns pattern expansion off, and then `%%` would stay doubled.
 */
export function slurmFilename(path: string): string {
  return path.includes('\\') ? path : path.replaceAll('%', '%%');
}

function pbsDirectives(spec: JobScriptSpec, style: 'torque' | 'pbspro'): string[] {
  const r = spec.resources;
  // -r n: not rerunnable, as --no-requeue for SLURM
  const d = [`-N ${shellQuote(spec.jobName)}`, `-o ${shellQuote(spec.stdoutPath)}`, `-e ${shellQuote(spec.stderrPath)}`, '-r n'];
  const cpus = r.cpusPerTask ?? 1;
  if (style === 'torque') {
    d.push(`-l nodes=1:ppn=${cpus}${r.gpus !== undefined ? `:gpus=${r.gpus}` : ''}`);
    if (r.memoryMb !== undefined) d.push(`-l mem=${r.memoryMb}mb`);
  } else {
    const mem = r.memoryMb !== undefined ? `:mem=${r.memoryMb}mb` : '';
    d.push(`-l select=1:ncpus=${cpus}${mem}${r.gpus !== undefined ? `:ngpus=${r.gpus}` : ''}`);
  }
  if (r.timeSeconds !== undefined) d.push(`-l walltime=${formatHms(r.timeSeconds)}`);
  if (r.queue !== undefined) d.push(`-q ${shellQuote(r.queue)}`);
  if (r.account !== undefined) d.push(`-A ${shellQuote(r.account)}`);
  if (spec.array) d.push(arrayDirective({ kind: 'pbs', resourceStyle: style }, spec.array.count));
  return d;
}

function sgeDirectives(spec: JobScriptSpec, dialect: Extract<SchedulerDialect, { kind: 'sge' }>): string[] {
  const r = spec.resources;
  const word = (value: string, what: string): string => {
    assertSgeWord(value, what);
    return value;
  };
  const d = ['-S /bin/bash', `-N ${word(spec.jobName, 'jobName')}`, '-r n'];
  const cpus = r.cpusPerTask ?? 1;
  if (r.cpusPerTask !== undefined) d.push(`-pe ${word(dialect.parallelEnvironment, 'parallelEnvironment')} ${cpus}`);
  if (r.timeSeconds !== undefined) d.push(`-l h_rt=${formatHms(r.timeSeconds)}`);
  if (r.memoryMb !== undefined) d.push(`-l ${word(dialect.memoryResource, 'memoryResource')}=${Math.ceil(r.memoryMb / cpus)}M`);
  if (r.gpus !== undefined) d.push(`-l ${word(dialect.gpuResource, 'gpuResource')}=${r.gpus}`);
  if (r.queue !== undefined) d.push(`-q ${word(r.queue, 'resources.queue')}`);
  if (r.account !== undefined) d.push(`-A ${word(r.account, 'resources.account')}`);
  if (spec.array) d.push(arrayDirective({ kind: 'sge' }, spec.array.count));
  return d;
}

/** A plain word, as an SGE #$ directive can hold one (see assertSgeWord); the options schema asks this too. */
export function isSgeWord(value: string): boolean {
  return /^[^\s'"\\`$]+$/.test(value);
}

/**
 * SGE's #$ parser strips every quote character and splits at blanks, so a value cannot be quoted
 * there: it must be a plain word. The launcher checks its options with this at construction.
 */
export function assertSgeWord(value: string, what: string): void {
  if (!isSgeWord(value)) {
    throw new TypeError(`${what} cannot be written in an SGE #$ directive (no blanks, quotes, backslashes, backquotes or $), got ${JSON.stringify(value)}`);
  }
}

function stripPrefix(directive: string, prefix: string): string {
  const trimmed = directive.trim();
  return trimmed.startsWith(`${prefix} `) ? trimmed.slice(prefix.length + 1).trim() : trimmed;
}

/** Exit code 3 and one clear line on stderr when the node has no Node.js 20+ (read back by logs()). */
function nodeCheck(node: string): string[] {
  return [
    `clustrix_node=${shellQuote(node)}`,
    'clustrix_why=',
    'if ! command -v "$clustrix_node" >/dev/null 2>&1; then',
    '  clustrix_why="$clustrix_node: not found"',
    `elif ! clustrix_major=$("$clustrix_node" -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null); then`,
    '  clustrix_why="$clustrix_node: does not run"',
    'elif ! [ "$clustrix_major" -ge 20 ] 2>/dev/null; then',
    '  clustrix_why="$clustrix_node is Node $clustrix_major; clustrix needs 20 or newer"',
    'fi',
    'if [ -n "$clustrix_why" ]; then',
    "  printf 'clustrix: no usable node on %s: set `node` to its path, or add `module load nodejs` to setup (%s)\\n' \"$(hostname 2>/dev/null || uname -n)\" \"$clustrix_why\" >&2",
    '  exit 3',
    'fi',
  ];
}

function startAgent(spec: JobScriptSpec): string[] {
  const agent = shellQuote(spec.agentPath);
  if (spec.scheduler.kind === 'ssh') return [`"$clustrix_node" ${agent}`];
  const n = spec.resources.nodes;
  if (n === 1) return [`exec "$clustrix_node" ${agent}`];
  const cpus = spec.resources.cpusPerTask !== undefined ? ` --cpus-per-task=${spec.resources.cpusPerTask}` : '';
  // srun since 22.05 no longer takes --cpus-per-task from the batch allocation: repeat it.
  // The inner bash is constant text; the node and agent paths reach it as quoted arguments.
  const pick = `'clustrix_id_var=CLUSTRIX_AGENT_ID_\${SLURM_PROCID:?}; export CLUSTRIX_AGENT_ID="\${!clustrix_id_var}"; exec "$@"'`;
  return [`exec srun --nodes=${n} --ntasks=${n} --ntasks-per-node=1${cpus} bash -c ${pick} clustrix-agent "$clustrix_node" ${agent}`];
}

function checkSpec(spec: JobScriptSpec): void {
  const one = (value: string, what: string): void => {
    if (value === '') throw new TypeError(`${what} must be a non-empty string, got ""`);
    assertSingleLine(value, what);
  };
  one(spec.jobName, 'jobName');
  one(spec.stdoutPath, 'stdoutPath');
  one(spec.stderrPath, 'stderrPath');
  one(spec.workDir, 'workDir');
  one(spec.node, 'node');
  one(spec.agentPath, 'agentPath');
  one(spec.tokenFile, 'tokenFile');
  one(spec.url, 'url');
  if (spec.certFingerprint !== undefined) one(spec.certFingerprint, 'certFingerprint');
  if (spec.scheduler.kind === 'ssh') {
    one(spec.scheduler.exitFile, 'exitFile');
    assertSingleLine(spec.scheduler.jobIdPrefix, 'jobIdPrefix');
  }
  spec.agentIds.forEach((id, i) => one(id, `agentIds[${i}]`));
  spec.setup.forEach((s, i) => assertNoNul(s, `setup[${i}]`));
  const count = spec.array?.count ?? 1;
  if (spec.array !== undefined) {
    if (!Number.isSafeInteger(count) || count < 1) throw new TypeError(`array.count must be a positive integer, got ${String(count)}`);
    if (spec.scheduler.kind === 'ssh') throw new TypeError('job arrays need a scheduler (slurm, pbs, sge), got ssh');
    if (spec.scheduler.kind === 'slurm' && (spec.stdoutPath.includes('\\') || spec.stderrPath.includes('\\'))) {
      // a backslash turns SLURM's filename patterns off, and each element needs %a in its file name
      throw new TypeError(`the log paths of a SLURM job array cannot hold a backslash, got ${JSON.stringify(spec.stdoutPath)}`);
    }
  }
  if (spec.agentIds.length !== spec.resources.nodes * count) {
    const per = spec.array ? `per node of each of ${count} elements (${spec.resources.nodes * count})` : `per node (${spec.resources.nodes})`;
    throw new TypeError(`agentIds must hold one id ${per}, got ${spec.agentIds.length}`);
  }
  if (spec.resources.nodes > 1 && spec.scheduler.kind !== 'slurm') {
    throw new TypeError(`several agents in one job need slurm, got ${spec.resources.nodes} agents for ${spec.scheduler.kind}`);
  }
  if (spec.slots !== undefined && (!Number.isSafeInteger(spec.slots) || spec.slots < 1)) {
    throw new TypeError(`slots must be a positive integer, got ${String(spec.slots)}`);
  }
}
