/**
 * Makes the frames of a function shipped by source name the user's file instead of the agent's
 * `eval at … ([worker eval]:1:36539)`. V8 gives a function's text but not its location, so:
 *
 * - the file is the caller's: the first frame of the capture-time stack outside clustrix;
 * - if the function's text occurs in that file (plain JavaScript, or TypeScript the runtime left
 *   as written), the shipped text is padded with newlines and spaces so that it starts at the same
 *   line and column, and named after the file (`//# sourceURL=file:///…/work.js`): a remote
 *   frame then reads `work.js:12:7`, exactly;
 * - otherwise (a function from another file, TypeScript whose compiled text differs) the script
 *   is named `file:///…/work.ts#add`, and its positions count from the function's first line.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** clustrix's own directories (dist/… when installed, the repository in development). */
const OWN_DIRS = ['coordinator/', 'protocol/', 'agent/'].map((d) => fileURLToPath(new URL(`../../${d}`, import.meta.url)));

/** Frames clustrix puts between the user's call and this module, with room to spare. */
const STACK_DEPTH = 40;

const FILE_CACHE_LIMIT = 64;
const files = new Map<string, string | null>();

/**
 * The text to ship for a function or class whose source (from Function.prototype.toString) is
 * `text`: still an expression the agent evaluates as `(` + text + `\n)`, now with its origin.
 */
export function withOrigin(text: string, name: string): string {
  const caller = callerFile();
  if (caller === undefined) return `${text}\n//# sourceURL=shipped-function/${urlSafe(name || 'anonymous')}\n`;
  const position = locate(caller, text);
  const url = pathToFileURL(caller).href;
  if (position === undefined) return `${text}\n//# sourceURL=${url}#${urlSafe(name || 'anonymous')}\n`;
  // The agent's `(` takes column 1 of line 1: on line 1 the text starts one column later.
  const pad = position.line > 1 ? '\n'.repeat(position.line - 1) + ' '.repeat(position.column - 1) : ' '.repeat(Math.max(0, position.column - 2));
  return `${pad}${text}\n//# sourceURL=${url}\n`;
}

/** The file of the first stack frame that is not clustrix's (nor Node's own). */
function callerFile(): string | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = STACK_DEPTH;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  for (const line of stack.split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?\/[^():]+):\d+:\d+\)?\s*$/.exec(line);
    if (!m) continue;
    const file = m[1]!.startsWith('file:') ? fileURLToPath(m[1]!) : m[1]!;
    if (OWN_DIRS.some((dir) => file.startsWith(dir))) continue;
    return file;
  }
  return undefined;
}

/** 1-based line and column of the first occurrence of `text` in `file`. */
function locate(file: string, text: string): { line: number; column: number } | undefined {
  let content = files.get(file);
  if (content === undefined) {
    try {
      content = readFileSync(file, 'utf8');
    } catch {
      content = null;
    }
    if (files.size >= FILE_CACHE_LIMIT) files.delete(files.keys().next().value!);
    files.set(file, content);
  }
  if (content === null) return undefined;
  const at = content.indexOf(text);
  if (at < 0) return undefined;
  const before = content.slice(0, at);
  const line = before.split('\n').length;
  return { line, column: at - before.lastIndexOf('\n') };
}

/** A sourceURL ends at whitespace; a name may hold anything. */
function urlSafe(name: string): string {
  return encodeURIComponent(name);
}
