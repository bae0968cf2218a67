/**
 * Plain hosts without a scheduler, each reached through its own RemoteShell: every agent is a
 * `setsid nohup bash <script> &` process whose pid is its job id (`<host>:<pid>`). The script is
 * the same renderer's output (no directives) and records its exit status beside its logs.
 *
 * Pids are reused, so before signalling or trusting one the launcher checks in /proc that it is
 * alive (not a zombie) and still runs this job's script (its cmdline names the script path).
 * Cancelling signals the whole process group that setsid made: the bash script and its node.
 */
import { createHash } from 'node:crypto';
import { ClusterClosedError } from '../../../errors/errors.js';
import { showOnly } from '../../../util/show-only.js';
import type { JobLogs, JobStatus, LaunchedJob, Launcher, LaunchRequest } from '../launcher.js';
import type { RemoteShell } from '../remote-shell.js';
import { checkLaunchRequest } from './batch-launcher.js';
import { prepareJobDirectory, readJobLogs, resolveRemotePath, writeTokenFile, type JobDirectory } from './bootstrap.js';
import { JobRejectedError, SchedulerCommandError } from './errors.js';
import { renderJobScript } from './job-script.js';
import { checkShell, COMMON_KEYS, compileCommonOptions, safeName, type CommonLauncherOptions, type CompiledCommonOptions } from './options.js';
import { shellQuote } from './shell-quote.js';
import { checkKnownKeys, isPlainObject, line, optionalPositiveInt, show } from './validate.js';

export interface SshHostSpec {
  shell: RemoteShell;
  /** The host's name in job ids and messages. @default shell.description */
  name?: string;
  /** Most agents this launcher runs on the host at once. @default no limit */
  maxAgents?: number;
}

export interface SshHostsLauncherOptions extends CommonLauncherOptions {
  /** The hosts, as shells or `{ shell, name?, maxAgents? }`; each agent goes to the host running the fewest. Not closed by the launcher. */
  hosts: readonly (RemoteShell | SshHostSpec)[];
}

interface Host {
  shell: RemoteShell;
  name: string;
  maxAgents: number;
  directory?: Promise<JobDirectory> | undefined;
  /** sha256 of the token last written there (the token itself is kept nowhere). */
  tokenDigest?: string | undefined;
}

interface AgentProcess {
  host: Host;
  pid: number;
  scriptPath: string;
  stdoutPath: string;
  stderrPath: string;
  exitPath: string;
  cancelRequested: boolean;
  ended: boolean;
}

/** `clx_alive PID SCRIPT`: the pid is alive, not a zombie, and runs SCRIPT (pids get reused). */
const ALIVE_FUNCTION =
  `clx_alive() { [ -d "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null` +
  ` && tr '\\0' '\\n' < "/proc/$1/cmdline" 2>/dev/null | grep -qxF -- "$2"; }`;

export class SshHostsLauncher implements Launcher {
  static {
    // Its hosts keep the token's digest (to notice a new token).
    showOnly(this.prototype, 'SshHostsLauncher', (l) => ({ hosts: l.hosts.map((h) => h.name), agents: l.agents.size }));
  }

  readonly kind = 'ssh';
  private readonly options: CompiledCommonOptions;
  private readonly hosts: Host[];
  private readonly agents = new Map<string, AgentProcess>();
  private readonly usedNames = new Set<string>();
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(options: SshHostsLauncherOptions) {
    if (!isPlainObject(options)) throw new TypeError(`options must be an object, got ${show(options)}`);
    checkKnownKeys(options, [...COMMON_KEYS, 'hosts'], '');
    this.options = compileCommonOptions(options);
    if (!Array.isArray(options.hosts) || options.hosts.length === 0) throw new TypeError(`hosts must be a non-empty array, got ${show(options.hosts)}`);
    this.hosts = options.hosts.map((entry: unknown, i) => {
      // a bare RemoteShell (it has exec), or { shell, name?, maxAgents? }
      const bare = isPlainObject(entry) && typeof entry.exec === 'function';
      const spec = (bare || !isPlainObject(entry) ? { shell: entry } : entry) as unknown as SshHostSpec;
      if (!bare && isPlainObject(entry)) checkKnownKeys(entry, ['shell', 'name', 'maxAgents'], `hosts[${i}]`);
      const shell = checkShell(spec.shell, `hosts[${i}].shell`);
      const name = spec.name === undefined ? shell.description : line(spec.name, `hosts[${i}].name`);
      return { shell, name, maxAgents: optionalPositiveInt(spec.maxAgents, `hosts[${i}].maxAgents`) ?? Infinity };
    });
  }

  async launch(request: LaunchRequest): Promise<LaunchedJob[]> {
    if (this.closed) throw new ClusterClosedError('the ssh launcher is closed');
    checkLaunchRequest(request);
    const launched: LaunchedJob[] = [];
    try {
      for (const agentId of request.agentIds) {
        const jobId = await this.start(this.pickHost(), agentId, request);
        launched.push({ jobId, agentIds: [agentId] });
      }
    } catch (error) {
      if (launched.length > 0) await this.cancel(launched.map((j) => j.jobId)).catch(() => undefined);
      throw error;
    }
    return launched;
  }

  async cancel(jobIds: readonly string[]): Promise<void> {
    for (const [host, agents] of this.byHost(jobIds)) {
      // `kill -TERM -PGID` (no `--`: dash's kill takes none): the session setsid made has pgid = pid
      const checks = agents.map(([, a]) => `if clx_alive ${a.pid} ${shellQuote(a.scriptPath)}; then kill -TERM -${a.pid} || true; fi`);
      const command = [ALIVE_FUNCTION, ...checks].join('\n');
      const result = await host.shell.exec(command, { timeoutMs: this.options.commandTimeoutMs });
      if (result.code !== 0) throw new SchedulerCommandError(`cannot cancel agents on ${host.name}`, { command, stderr: result.stderr, exitCode: result.code });
      for (const [, a] of agents) a.cancelRequested = true;
    }
  }

  async status(jobIds: readonly string[]): Promise<JobStatus[]> {
    const found = new Map<string, JobStatus>();
    for (const [host, agents] of this.byHost(jobIds)) {
      const probes = agents.map(
        ([, a]) =>
          `if clx_alive ${a.pid} ${shellQuote(a.scriptPath)}; then echo "${a.pid} running"; ` +
          `elif [ -f ${shellQuote(a.exitPath)} ]; then echo "${a.pid} exited $(cat ${shellQuote(a.exitPath)})"; else echo "${a.pid} gone"; fi`,
      );
      const command = [ALIVE_FUNCTION, ...probes].join('\n');
      const result = await host.shell.exec(command, { timeoutMs: this.options.commandTimeoutMs });
      if (result.code !== 0) throw new SchedulerCommandError(`cannot read agent processes on ${host.name}`, { command, stderr: result.stderr, exitCode: result.code });
      const said = new Map(result.stdout.split('\n').map((l) => l.trim().split(' ')).map(([pid, ...rest]) => [pid, rest] as const));
      for (const [jobId, a] of agents) found.set(jobId, this.interpret(jobId, a, said.get(String(a.pid)) ?? []));
    }
    return jobIds.map((id) => found.get(id) ?? { jobId: id, state: 'unknown', reason: 'not started by this launcher' });
  }

  async logs(jobId: string, lines: number): Promise<JobLogs> {
    const a = this.agents.get(jobId);
    return readJobLogs(a && { shell: a.host.shell, stdoutPath: a.stdoutPath, stderrPath: a.stderrPath }, lines);
  }

  close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      await this.cancel([...this.agents.entries()].filter(([, a]) => !a.ended && !a.cancelRequested).map(([id]) => id));
    })().catch((error: unknown) => {
      this.closing = undefined;
      throw error;
    });
    return this.closing;
  }

  private interpret(jobId: string, a: AgentProcess, said: readonly string[]): JobStatus {
    let status: JobStatus;
    if (said[0] === 'running') status = { jobId, state: 'running' };
    else if (said[0] === 'exited' && /^\d+$/.test(said[1] ?? '')) {
      const code = Number(said[1]);
      status = code === 0 ? { jobId, state: 'completed', exitCode: 0 } : { jobId, state: 'failed', exitCode: code, reason: `exit status ${code}` };
    } else status = { jobId, state: 'failed', reason: 'the process is gone without recording an exit status (killed?)' };
    if (a.cancelRequested && status.state !== 'running') status = { jobId, state: 'cancelled', reason: 'cancelled by clustrix' };
    if (status.state !== 'running') a.ended = true;
    return status;
  }

  private byHost(jobIds: readonly string[]): Map<Host, [string, AgentProcess][]> {
    const groups = new Map<Host, [string, AgentProcess][]>();
    for (const id of jobIds) {
      const a = this.agents.get(id);
      if (!a) continue; // unknown ids are ignored
      groups.set(a.host, [...(groups.get(a.host) ?? []), [id, a]]);
    }
    return groups;
  }

  private pickHost(): Host {
    const running = (h: Host): number => [...this.agents.values()].filter((a) => a.host === h && !a.ended && !a.cancelRequested).length;
    const open = this.hosts.filter((h) => running(h) < h.maxAgents).sort((x, y) => running(x) - running(y));
    const host = open[0];
    if (!host) {
      throw new JobRejectedError({
        scheduler: 'ssh',
        stderr: `every host already runs its maxAgents (${this.hosts.map((h) => `${h.name}: ${h.maxAgents}`).join(', ')})`,
        exitCode: null,
        scriptPath: '',
        hint: 'raise maxAgents, add hosts, or ask for fewer agents',
      });
    }
    return host;
  }

  private async start(host: Host, agentId: string, request: LaunchRequest): Promise<string> {
    host.directory ??= prepareJobDirectory(host.shell, {
      remoteDir: this.options.remoteDir,
      clusterId: this.options.clusterId,
      ensureAgent: this.options.ensureAgent,
      timeoutMs: this.options.commandTimeoutMs,
    }).catch((error: unknown) => {
      host.directory = undefined;
      throw error;
    });
    const dir = await host.directory;
    const digest = createHash('sha256').update(request.connect.token).digest('hex');
    if (host.tokenDigest !== digest) {
      await writeTokenFile(host.shell, dir.tokenFile, request.connect.token);
      host.tokenDigest = digest;
    }
    const name = this.uniqueName(agentId);
    const base = `${dir.jobDir}/${name}`;
    const files = { scriptPath: `${base}.sh`, stdoutPath: `${base}.out`, stderrPath: `${base}.err`, exitPath: `${base}.exit` };
    const script = renderJobScript({
      scheduler: { kind: 'ssh', exitFile: files.exitPath, jobIdPrefix: `${host.name}:` },
      resources: { nodes: 1, cpusPerTask: undefined, memoryMb: undefined, timeSeconds: undefined, queue: undefined, account: undefined, qos: undefined, gpus: undefined, extraDirectives: [] },
      jobName: name,
      stdoutPath: files.stdoutPath,
      stderrPath: files.stderrPath,
      workDir: this.options.workDir === undefined ? dir.jobDir : resolveRemotePath(this.options.workDir, dir.home),
      setup: this.options.setup,
      node: this.options.node,
      agentPath: dir.agentPath,
      tokenFile: dir.tokenFile,
      url: request.connect.url,
      certFingerprint: request.connect.certFingerprint,
      agentIds: [agentId],
      slots: request.slots,
    });
    await host.shell.writeFile(files.scriptPath, script, 0o700);
    // setsid: its own session, so the agent outlives the SSH channel and one kill reaches its group.
    // `$!` is the script's own pid: a background child of a non-interactive shell is no group
    // leader, so setsid needs no fork, and nohup and bash exec in place.
    const command =
      `rm -f ${shellQuote(files.exitPath)}; setsid nohup bash ${shellQuote(files.scriptPath)}` +
      ` > ${shellQuote(files.stdoutPath)} 2> ${shellQuote(files.stderrPath)} < /dev/null & echo $!`;
    const result = await host.shell.exec(command, { timeoutMs: this.options.commandTimeoutMs });
    const pid = Number(result.stdout.trim());
    if (result.code !== 0 || !Number.isSafeInteger(pid) || pid <= 0) {
      throw new SchedulerCommandError(`cannot start an agent on ${host.name}`, { command, stderr: result.stdout + result.stderr, exitCode: result.code });
    }
    const jobId = `${host.name}:${pid}`;
    this.agents.set(jobId, { host, pid, ...files, cancelRequested: false, ended: false });
    return jobId;
  }

  private uniqueName(agentId: string): string {
    const base = `${this.options.jobName}-${safeName(agentId)}`;
    let name = base;
    for (let n = 2; this.usedNames.has(name); n++) name = `${base}-${n}`;
    this.usedNames.add(name);
    return name;
  }
}
