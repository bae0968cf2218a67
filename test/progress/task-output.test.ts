// process.stdout.write / process.stderr.write inside a task: captured like console.log, attributed
// to the task, and delivered as whole lines (pieces joined, the last partial line flushed when the
// task ends, before its result) — in worker threads, inline tasks and actor threads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, type LogEntry } from 'clustrix';

const entries: LogEntry[] = [];
let cluster: Cluster;
beforeAll(async () => {
  cluster = await Cluster.start({ agents: 1, slots: 2, onLog: (entry) => entries.push(entry) });
});
afterAll(async () => {
  await cluster?.close();
});

/** Writes `tag` in pieces on both streams, mixed with console.log, ending with a partial line. */
function writePieces(tag: string): string {
  process.stdout.write(`a ${tag} `);
  process.stdout.write(Buffer.from(`b ${tag}\nc ${tag} `));
  console.log(`d ${tag}`);
  process.stderr.write(`e ${tag}`, () => undefined);
  process.stdout.write(`tail ${tag}`);
  return tag;
}

/** What reached onLog for `tag` by the time the call resolved, as [stream, text] per entry. */
function linesOf(tag: string): [string, string][] {
  return entries.filter((e) => e.text.includes(tag)).map((e) => [e.stream, e.text]);
}

// Whole lines as they end; at the task's end its partial lines, stdout's then stderr's.
const expected = (tag: string): [string, string][] => [
  ['stdout', `a ${tag} b ${tag}`],
  ['stdout', `c ${tag} d ${tag}`],
  ['stdout', `tail ${tag}`],
  ['stderr', `e ${tag}`],
];

describe('process.stdout.write in a task', () => {
  it('in a worker thread: whole lines, the partial one flushed before the result', async () => {
    expect(await cluster.run(writePieces, 'w1')).toBe('w1');
    expect(linesOf('w1')).toEqual(expected('w1'));
    const ids = new Set(entries.filter((e) => e.text.includes('w1')).map((e) => e.taskId));
    expect(ids.size).toBe(1);
    expect(ids.has(null)).toBe(false);
  });

  it('in an inline task: attributed per task through its async context', async () => {
    const inline = cluster.remote(
      async (tag: string, ms: number) => {
        process.stdout.write(`start ${tag} `);
        await new Promise((r) => setTimeout(r, ms));
        process.stdout.write(`end ${tag}\n`);
        process.stdout.write(`tail ${tag}`);
      },
      { inline: true },
    );
    await Promise.all([inline('i1', 30), inline('i2', 5)]);
    for (const tag of ['i1', 'i2']) expect(linesOf(tag)).toEqual([['stdout', `start ${tag} end ${tag}`], ['stdout', `tail ${tag}`]]);
    const taskOf = (tag: string): string | null | undefined => entries.find((e) => e.text.includes(tag))?.taskId;
    expect(taskOf('i1')).not.toBe(taskOf('i2'));
  });

  it('in an actor call', async () => {
    class Printer {
      say(tag: string): string {
        process.stdout.write(`a ${tag} `);
        process.stdout.write(`b ${tag}\nc ${tag} `);
        console.log(`d ${tag}`);
        process.stderr.write(`e ${tag}`);
        process.stdout.write(`tail ${tag}`);
        return tag;
      }
    }
    const printer = await cluster.actor(Printer);
    expect(await printer.call('say', 'x1')).toBe('x1');
    expect(linesOf('x1')).toEqual(expected('x1'));
    await printer.kill();
  });
});
