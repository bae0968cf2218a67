/**
 * ScriptedShell, the test double of the launcher tests: it answers each scheduler command from a
 * handler (files and other plumbing go to a real LocalShell) and records everything that crosses
 * the seam, so tests can check every command, stdin and file.
 */
import type { LocalShell } from '../../coordinator/backends/launchers/local-shell.js';
import type { ExecOptions, ExecResult, RemoteShell } from '../../coordinator/backends/launchers/remote-shell.js';

export type Handler = (command: string, stdin: string) => Partial<ExecResult> | undefined;

export class ScriptedShell implements RemoteShell {
  readonly description = 'scripted';
  readonly commands: { command: string; stdin: string }[] = [];
  readonly writes: { path: string; data: string; mode: number | undefined }[] = [];
  constructor(
    private readonly files: LocalShell,
    public handler: Handler,
  ) {}
  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const stdin = typeof options.stdin === 'string' ? options.stdin : Buffer.from(options.stdin ?? '').toString('utf8');
    this.commands.push({ command, stdin });
    // mkdir and other plumbing run for real; scheduler commands are answered by the handler
    const answer = this.handler(command, stdin);
    if (answer === undefined) return this.files.exec(command, options);
    return Promise.resolve({ stdout: '', stderr: '', code: 0, ...answer });
  }
  writeFile(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
    this.writes.push({ path, data: typeof data === 'string' ? data : Buffer.from(data).toString('utf8'), mode });
    return this.files.writeFile(path, data, mode);
  }
  readTail(path: string, maxBytes: number): Promise<string> {
    return this.files.readTail(path, maxBytes);
  }
  exists(path: string): Promise<boolean> {
    return this.files.exists(path);
  }
  home(): Promise<string> {
    return this.files.home();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  scheduler(name: string): string[] {
    return this.commands.map((c) => c.command).filter((c) => new RegExp(`(^|[/' ])${name}'? `).test(c));
  }
}

