/**
 * Parsers for what the schedulers print, mapped onto JobState with the scheduler's own words as
 * the reason. Pure functions; test/fixtures/launchers holds real outputs they are tested against
 * (SLURM 22.05, SGE 8.1.9, Debian's slurm-wlm-torque PBS wrappers).
 *
 * Job array elements are reported under the ids the launchers give them (job-array.ts): SLURM
 * `123_4`, SGE `123.5`. Where a scheduler prints several pending elements as one line (squeue's
 * `123_[0-7]`, qstat's `<tasks>1-4:1</tasks>`), the line becomes one status per element.
 */
import type { JobState, JobStatus } from '../launcher.js';

// ---------------------------------------------------------------- SLURM

const SLURM_STATES: Readonly<Record<string, JobState>> = {
  PENDING: 'pending',
  CONFIGURING: 'pending', // nodes allocated but still booting
  REQUEUED: 'pending',
  REQUEUE_HOLD: 'pending',
  REQUEUE_FED: 'pending',
  RESV_DEL_HOLD: 'pending',
  SUSPENDED: 'pending', // its agent is frozen, so it serves nothing
  STOPPED: 'pending',
  RUNNING: 'running',
  COMPLETING: 'running',
  RESIZING: 'running',
  SIGNALING: 'running',
  STAGE_OUT: 'running',
  COMPLETED: 'completed',
  CANCELLED: 'cancelled',
  REVOKED: 'cancelled',
  FAILED: 'failed',
  TIMEOUT: 'failed',
  NODE_FAIL: 'failed',
  BOOT_FAIL: 'failed',
  OUT_OF_MEMORY: 'failed',
  DEADLINE: 'failed',
  PREEMPTED: 'failed',
  SPECIAL_EXIT: 'failed',
};

/** States whose name says no more than the JobState they map to; others (TIMEOUT, ...) become the reason. */
const PLAIN_SLURM_STATES = new Set(['PENDING', 'RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED']);

export function slurmJobState(name: string): JobState {
  return SLURM_STATES[name] ?? 'unknown';
}

function slurmStatus(jobId: string, stateWord: string, reason: string | undefined, exit: string | undefined): JobStatus {
  const name = stateWord.split(/[\s+]/)[0] ?? ''; // sacct: "CANCELLED by 1000"; flags: "RUNNING+"
  const state = name === '' ? 'unknown' : slurmJobState(name);
  const said = reason === undefined || reason === 'None' || reason === '(null)' || reason === '' ? undefined : reason;
  const parts = [name === '' ? 'no state reported' : PLAIN_SLURM_STATES.has(name) ? undefined : name, said].filter(Boolean);
  const status: JobStatus = { jobId, state };
  if (parts.length > 0) status.reason = parts.join(': ');
  const ended = state === 'completed' || state === 'failed' || state === 'cancelled';
  if (ended && exit !== undefined) {
    const code = parseSlurmExitCode(exit);
    if (code !== undefined) status.exitCode = code;
  }
  return status;
}

/** SLURM's `code:signal`: a signal becomes 128 + signal, as a shell reports it. */
export function parseSlurmExitCode(text: string): number | undefined {
  const m = /^(\d+):(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  const signal = Number(m[2]);
  return signal > 0 ? 128 + signal : Number(m[1]);
}

/**
 * The ids one SLURM id stands for: itself, or for the pending elements of an array printed
 * together, `123_[0-3,7%2]` (`%2`: at most 2 at once), one `123_<task>` each.
 */
export function slurmJobIds(id: string): string[] {
  const m = /^(\d+)_\[([^\]]+)\]$/.exec(id);
  if (!m?.[1] || !m[2]) return [id];
  const base = m[1];
  return expandTaskList(m[2].replace(/%\d+$/, '')).map((t) => `${base}_${t}`);
}

/**
 * Task ids of a list like `0-3,7` (SLURM), `1-4:1`, `1,2,4` or `5-9:2` (SGE's start-end:step).
 * A malformed part is left out: the job then counts as unknown, not as some other element.
 */
export function expandTaskList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
    if (!m?.[1]) continue;
    const start = Number(m[1]);
    const end = m[2] === undefined ? start : Number(m[2]);
    const step = m[3] === undefined ? 1 : Math.max(1, Number(m[3]));
    // bounded: a range of a million ids from a garbled line would not help anyone
    for (let t = start; t <= end && out.length < 100_000; t += step) out.push(t);
  }
  return out;
}

/** `squeue -h -r -o '%i|%T|%r'`: one `id|STATE|reason` line per job (or per collapsed array, see slurmJobIds). */
export function parseSqueue(text: string): JobStatus[] {
  const out: JobStatus[] = [];
  for (const row of text.split('\n')) {
    const [id, state, reason] = row.trim().split('|');
    if (id && state) for (const one of slurmJobIds(id)) out.push(slurmStatus(one, state, reason, undefined));
  }
  return out;
}

/**
 * `scontrol show job -o <id>` (one line per job, `Key=Value` pairs; values may hold spaces, e.g.
 * JobName). An array element (`JobId=141 ArrayJobId=140 ArrayTaskId=2`) is reported as `140_2`;
 * the record of its still pending elements (`ArrayTaskId=0-1,3`) as one status each.
 */
export function parseScontrolJobs(text: string): JobStatus[] {
  const out: JobStatus[] = [];
  for (const row of text.split('\n')) {
    const id = /^JobId=(\S+)/.exec(row)?.[1];
    const state = /\sJobState=(\S+)/.exec(row)?.[1];
    if (!id || !state) continue;
    const arrayJob = /\sArrayJobId=(\d+)/.exec(row)?.[1];
    const tasks = /\sArrayTaskId=(\S+)/.exec(row)?.[1];
    const ids = arrayJob && tasks ? slurmJobIds(/^\d+$/.test(tasks) ? `${arrayJob}_${tasks}` : `${arrayJob}_[${tasks}]`) : [id];
    for (const one of ids) out.push(slurmStatus(one, state, /\sReason=(\S+)/.exec(row)?.[1], /\sExitCode=(\S+)/.exec(row)?.[1]));
  }
  return out;
}

/** `MaxArraySize = 1001` of `scontrol show config`; undefined when the line is missing. */
export function parseScontrolMaxArraySize(text: string): number | undefined {
  const m = /^MaxArraySize\s*=\s*(\d+)\s*$/m.exec(text);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/**
 * `sacct -c -n -P -j <ids> -o JobID,State,ExitCode` (the jobcomp file; no accounting daemon).
 * Steps (`123.batch`) are skipped. SLURM 22.05's filetxt reader prints an empty State for a job
 * cancelled while pending (and complains on stderr): that becomes 'unknown'. With slurmdbd, array
 * elements are `123_4` (pending ones `123_[5-7]`); the jobcomp file knows elements only by their
 * own job ids, so there an element that slurmctld forgot (MinJobAge) stays unknown.
 */
export function parseSacct(text: string): JobStatus[] {
  const out: JobStatus[] = [];
  for (const row of text.split('\n')) {
    const [id, state, exit] = row.trim().split('|');
    if (!id || id.includes('.') || state === undefined) continue;
    for (const one of slurmJobIds(id)) out.push(slurmStatus(one, state, undefined, exit));
  }
  return out;
}

/** `sbatch --parsable`: `<id>` or `<id>;<cluster>` (for an array too: its elements are `<id>_<task>`). */
export function parseSbatchParsable(stdout: string): string | undefined {
  const last = lastLine(stdout);
  const id = last?.split(';')[0];
  return id && /^\d+(_\d+)?$/.test(id) ? id : undefined;
}

// ---------------------------------------------------------------- PBS

/** The id `qsub` prints: `123.server` (Torque, PBS Pro), `123` (slurm-torque wrapper), or SGE's `-terse` `123`. */
export function parseQsubJobId(stdout: string): string | undefined {
  const last = lastLine(stdout);
  return last && /^\d+(\[\d*\])?(\.[\w.-]+)?$/.test(last) ? last : undefined;
}

/**
 * `qstat -f <ids>`: blocks starting `Job Id: <id>` then `key = value` lines; Torque wraps long
 * values onto tab-indented lines. Keys are matched case-insensitively (Torque `exit_status`,
 * PBS Pro `Exit_status`).
 */
export function parsePbsQstatFull(text: string): JobStatus[] {
  const jobs: { id: string; attrs: Map<string, string> }[] = [];
  let lastKey: string | undefined;
  for (const row of text.split('\n')) {
    const start = /^Job Id:\s*(\S+)/.exec(row);
    if (start?.[1]) {
      jobs.push({ id: start[1], attrs: new Map() });
      lastKey = undefined;
      continue;
    }
    const job = jobs[jobs.length - 1];
    if (!job) continue;
    const attr = /^\s+([\w.]+) = (.*)$/.exec(row);
    if (attr?.[1] !== undefined && attr[2] !== undefined) {
      lastKey = attr[1].toLowerCase();
      job.attrs.set(lastKey, attr[2].trim());
    } else if (lastKey && /^\s+\S/.test(row)) {
      job.attrs.set(lastKey, `${job.attrs.get(lastKey) ?? ''}${row.trim()}`);
    }
  }
  return jobs.map(({ id, attrs }) => pbsStatus(id, attrs.get('job_state') ?? '', attrs.get('exit_status'), attrs.get('comment')));
}

function pbsStatus(jobId: string, code: string, exitText: string | undefined, comment: string | undefined): JobStatus {
  const s = (state: JobState, reason?: string, exitCode?: number): JobStatus => {
    const status: JobStatus = { jobId, state };
    if (reason) status.reason = reason;
    if (exitCode !== undefined) status.exitCode = exitCode;
    return status;
  };
  switch (code) {
    case 'Q':
      return s('pending', comment);
    case 'H':
      return s('pending', comment ?? 'held');
    case 'W':
      return s('pending', comment ?? 'waiting for its start time');
    case 'T':
      return s('pending', 'in transit');
    case 'S':
    case 'U':
      return s('pending', 'suspended');
    case 'R':
    case 'B':
      return s('running', comment);
    case 'E':
      return s('running', 'exiting');
    case 'C':
    case 'F':
    case 'X': {
      if (exitText === undefined || !/^-?\d+$/.test(exitText.trim())) {
        return s('completed', 'ended; this qstat reports no exit_status');
      }
      const exit = Number(exitText);
      if (exit === 0) return s('completed', undefined, 0);
      // Torque/PBS Pro: negative = the server could not start the job; above 256 = killed by signal (exit - 256).
      if (exit < 0) return s('failed', `PBS could not start the job (exit_status ${exit})`, exit);
      if (exit > 256) return s('failed', `killed by signal ${exit - 256}`, 128 + (exit - 256));
      return s('failed', comment, exit);
    }
    default:
      return s('unknown', code ? `job_state ${code}` : 'no job_state');
  }
}

// ---------------------------------------------------------------- SGE

/**
 * `qstat -xml` (the submitting user's jobs): `<job_list>` entries with `<JB_job_number>` and a
 * state code such as `r`, `qw`, `hqw`, `Eqw`, `dr`, `t`, `s`. An array task is `<job>.<task>`:
 * a running one has an entry of its own (`<tasks>2</tasks>`), pending ones share one
 * (`<tasks>1-4:1</tasks>`, `<tasks>1,3</tasks>`).
 */
export function parseSgeQstatXml(text: string): JobStatus[] {
  const out: JobStatus[] = [];
  for (const m of text.matchAll(/<job_list\b[^>]*>([\s\S]*?)<\/job_list>/g)) {
    const body = m[1] ?? '';
    const id = /<JB_job_number>\s*(\d+)\s*<\/JB_job_number>/.exec(body)?.[1];
    const code = /<state>\s*([^<]*?)\s*<\/state>/.exec(body)?.[1];
    if (id === undefined || code === undefined) continue;
    const tasks = /<tasks>\s*([^<]*?)\s*<\/tasks>/.exec(body)?.[1];
    const ids = tasks ? expandTaskList(tasks).map((t) => `${id}.${t}`) : [id];
    const state = sgeJobState(code);
    for (const jobId of ids) {
      const status: JobStatus = { jobId, state };
      if (code !== 'r' && code !== 'qw') status.reason = sgeReason(code);
      out.push(status);
    }
  }
  return out;
}

/** `qsub -terse` prints `123` for a job and `123.1-4:1` for an array: the job number either way. */
export function parseSgeSubmitted(stdout: string): string | undefined {
  const last = lastLine(stdout);
  return last === undefined ? undefined : /^(\d+)(?:\.\d+-\d+:\d+)?$/.exec(last)?.[1];
}

/** SGE state codes combine letters: E(rror) and d(eleting) decide first, then r/t (running), q/w (waiting). */
export function sgeJobState(code: string): JobState {
  if (code.includes('E')) return 'failed'; // stays queued in Eqw until someone clears it: it will not run
  if (code.includes('d')) return 'cancelled';
  if (/[sST]/.test(code)) return 'pending';
  if (/[rt]/.test(code)) return 'running';
  if (/[qw]/.test(code)) return 'pending';
  return 'unknown';
}

function sgeReason(code: string): string {
  if (code.includes('E')) return `error state (${code})`;
  if (code.includes('d')) return `being deleted (${code})`;
  if (/[sST]/.test(code)) return `suspended (${code})`;
  if (code.includes('h')) return `held (${code})`;
  if (code.includes('t')) return `starting (${code})`;
  if (code.includes('R')) return `restarted (${code})`;
  return code;
}

/** The `error reason` line of `qstat -j <id>` (why a job sits in Eqw), without its timestamp prefix. */
export function parseSgeErrorReason(text: string): string | undefined {
  const m = /^error reason\s+\d+:\s*(.*)$/m.exec(text);
  if (!m?.[1]) return undefined;
  return m[1].replace(/^\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d \[[^\]]*\]:\s*/, '').trim();
}

/**
 * `qacct -j <id>` (`qacct -j <job> -t <task>` for an array task `<job>.<task>`): one block per
 * run (a rescheduled job has several; the last counts; of an array, only the task's).
 * `failed` non-zero means SGE itself failed the job (e.g. `28 : changing into working directory`,
 * `100 : assumedly after job` for a kill); otherwise `exit_status` is the script's exit code.
 */
export function parseQacct(text: string, jobId?: string): JobStatus | undefined {
  const task = jobId === undefined ? undefined : /^\d+\.(\d+)$/.exec(jobId)?.[1];
  const blocks = text
    .split(/^=+\s*$/m)
    .filter((b) => /^jobnumber\s/m.test(b))
    .filter((b) => task === undefined || new RegExp(`^taskid\\s+${task}\\s*$`, 'm').test(b));
  const last = blocks[blocks.length - 1];
  if (!last) return undefined;
  const field = (name: string): string | undefined => new RegExp(`^${name}\\s+(.*)$`, 'm').exec(last)?.[1]?.trim();
  const id = jobId ?? field('jobnumber') ?? '';
  const failed = /^(\d+)\s*(?::\s*(.*))?$/.exec(field('failed') ?? '');
  const exitMatch = /^(\d+)/.exec(field('exit_status') ?? '');
  const exitCode = exitMatch?.[1] !== undefined ? Number(exitMatch[1]) : undefined;
  const status: JobStatus = { jobId: id, state: 'unknown' };
  if (exitCode !== undefined) status.exitCode = exitCode;
  if (failed?.[1] !== undefined && failed[1] !== '0') {
    status.state = 'failed';
    status.reason = `failed ${failed[1]}${failed[2] ? `: ${failed[2].trim()}` : ''}`;
  } else if (exitCode !== undefined) {
    status.state = exitCode === 0 ? 'completed' : 'failed';
  }
  return status;
}

function lastLine(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1];
}
