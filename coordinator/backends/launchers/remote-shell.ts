/**
 * Where batch launchers run their commands: over SSH on a login node (coordinator/ssh), or on this
 * machine when the program itself runs on the login node (LocalShell). Launchers call only this.
 */
export interface ExecOptions {
  /** Written to the command's stdin, then closed (e.g. an SGE job script for `qsub`). */
  stdin?: string | Uint8Array | undefined;
  /** Kills the command (and fails with a timeout error) after this long. Default 60 s. */
  timeoutMs?: number | undefined;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code; null when killed by a signal. */
  code: number | null;
}

export interface RemoteShell {
  /** For messages: `user@host:port`, or `localhost`. */
  readonly description: string;
  /** Runs a command line through the remote user's shell (`sh -c` semantics); never rejects on a non-zero exit. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Writes a file atomically (temp name + rename) with the given mode (default 0600), making parent dirs. */
  writeFile(path: string, data: string | Uint8Array, mode?: number): Promise<void>;
  /** Reads up to maxBytes from the end of a file; '' when it does not exist. */
  readTail(path: string, maxBytes: number): Promise<string>;
  exists(path: string): Promise<boolean>;
  /** The remote user's home directory, absolute. */
  home(): Promise<string>;
  close(): Promise<void>;
}
