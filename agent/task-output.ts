import { StringDecoder } from 'node:string_decoder';
import { format } from 'node:util';

export type OutputStream = 'stdout' | 'stderr';
/** Sends lines of a task's output on (`id` null: output outside any task). No trailing newline. */
export type EmitLines = (id: string | null, stream: OutputStream, text: string) => void;

/** A partial line longer than this is sent as it is (a task drawing with `\r` never ends a line). */
const MAX_PARTIAL = 64 * 1024;

interface Partial {
  text: string;
  decoder: StringDecoder | null;
}

/**
 * A task's console output as whole lines, however it was written: pieces of `process.stdout.write`
 * are joined until a newline, so the caller prints `[agent task] line` once per line; the last
 * partial line is sent when the task ends, before its result. Output of a task that has ended
 * already, or of no task, is sent as it comes.
 */
export class TaskOutput {
  /** Tasks running, with their partial lines once they wrote any (most tasks never do: null). */
  private readonly open = new Map<string, Record<OutputStream, Partial> | null>();

  constructor(private readonly emit: EmitLines) {}

  begin(id: string): void {
    this.open.set(id, null);
  }

  /** Sends the task's partial lines and forgets it. True when the task wrote any output. */
  end(id: string): boolean {
    const streams = this.open.get(id);
    this.open.delete(id);
    if (!streams) return false;
    for (const stream of ['stdout', 'stderr'] as const) {
      const partial = streams[stream];
      const rest = partial.text + (partial.decoder?.end() ?? '');
      if (rest.length > 0) this.emit(id, stream, rest);
    }
    return true;
  }

  /** What `console.log(...args)` (stdout) or `console.error(...args)` (stderr) prints. */
  console(id: string | null, stream: OutputStream, args: unknown[]): void {
    this.write(id, stream, `${format(...args)}\n`);
  }

  /** The partial line of a running task's stream; undefined when the task is not running. */
  private partial(id: string, stream: OutputStream): Partial | undefined {
    let streams = this.open.get(id);
    if (streams === undefined) return undefined;
    if (streams === null) this.open.set(id, (streams = { stdout: { text: '', decoder: null }, stderr: { text: '', decoder: null } }));
    return streams[stream];
  }

  write(id: string | null, stream: OutputStream, chunk: string | Uint8Array, encoding?: BufferEncoding): void {
    const partial = id === null ? undefined : this.partial(id, stream);
    if (!partial) {
      const text = decode(chunk, encoding, null);
      if (text.length > 0) this.emit(id, stream, text.endsWith('\n') ? text.slice(0, -1) : text);
      return;
    }
    if (typeof chunk !== 'string') partial.decoder ??= new StringDecoder('utf8');
    const text = partial.text + decode(chunk, encoding, partial.decoder);
    const nl = text.lastIndexOf('\n');
    if (nl >= 0) {
      this.emit(id, stream, text.slice(0, nl));
      partial.text = text.slice(nl + 1);
    } else {
      partial.text = text;
    }
    if (partial.text.length > MAX_PARTIAL) {
      this.emit(id, stream, partial.text);
      partial.text = '';
    }
  }
}

function decode(chunk: string | Uint8Array, encoding: BufferEncoding | undefined, decoder: StringDecoder | null): string {
  if (typeof chunk === 'string') return encoding === undefined || encoding === 'utf8' || encoding === 'utf-8' ? chunk : Buffer.from(chunk, encoding).toString('utf8');
  return decoder ? decoder.write(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
}

type WriteCallback = (err?: Error | null) => void;

/**
 * Replaces `stream.write`: a write `take` accepts goes to it and not to the stream; any other
 * passes through. A write made while `take` runs (a warning printed while sending a line) passes
 * through too, so capturing can never recurse.
 */
export function interceptWrites(stream: NodeJS.WritableStream, take: (chunk: string | Uint8Array, encoding: BufferEncoding | undefined) => boolean): void {
  const original = stream.write.bind(stream) as (chunk: string | Uint8Array, encoding?: BufferEncoding | WriteCallback, cb?: WriteCallback) => boolean;
  let inside = false;
  const write = (chunk: string | Uint8Array, encodingOrCb?: BufferEncoding | WriteCallback, cb?: WriteCallback): boolean => {
    if (inside) return original(chunk, encodingOrCb, cb);
    const encoding = typeof encodingOrCb === 'string' ? encodingOrCb : undefined;
    const callback = typeof encodingOrCb === 'function' ? encodingOrCb : cb;
    inside = true;
    let taken: boolean;
    try {
      taken = take(chunk, encoding);
    } finally {
      inside = false;
    }
    if (!taken) return original(chunk, encodingOrCb, cb);
    if (callback) process.nextTick(callback, null);
    return true;
  };
  stream.write = write as NodeJS.WritableStream['write'];
}
