// Inbox (coordinator/service/inbox.ts): a connection's messages in order, a batch a slice per loop turn.
import { describe, expect, it } from 'vitest';
import { Inbox } from '../../coordinator/service/inbox.js';

type Message = { name: string; items: number };

function inbox(perTurn: number, seen: string[], failOn?: string) {
  let stopped = false;
  const guarded: unknown[] = [];
  const box = new Inbox<Message>(perTurn, {
    size: (m) => m.items,
    handle: (m, from, to) => {
      if (m.name === failOn) throw new Error('boom');
      seen.push(`${m.name}[${from},${to})`);
    },
    guard: (run) => {
      try {
        run();
      } catch (err) {
        guarded.push(err);
        stopped = true;
      }
    },
    stopped: () => stopped,
  });
  return { box, guarded, stop: () => (stopped = true) };
}

/** Resolves after `turns` loop turns (setImmediate callbacks, as the inbox resumes on). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

describe('Inbox', () => {
  it('handles small messages at once, in order', () => {
    const seen: string[] = [];
    inbox(256, seen).box.push([{ name: 'a', items: 1 }, { name: 'b', items: 1 }]);
    expect(seen).toEqual(['a[0,1)', 'b[0,1)']);
  });

  it('takes a batch a slice per loop turn, and lets the next turn in between', async () => {
    const seen: string[] = [];
    const { box } = inbox(256, seen);
    box.push([{ name: 'big', items: 600 }, { name: 'after', items: 1 }]);
    expect(seen).toEqual(['big[0,256)']);
    // Queued after the inbox's own resume: it runs between the second slice and the third.
    setImmediate(() => seen.push('other connection'));
    await turns(3);
    expect(seen).toEqual(['big[0,256)', 'big[256,512)', 'other connection', 'big[512,600)', 'after[0,1)']);
  });

  it('keeps messages of a later frame behind a batch still being taken in', async () => {
    const seen: string[] = [];
    const { box } = inbox(4, seen);
    box.push([{ name: 'big', items: 10 }]);
    box.push([{ name: 'next', items: 1 }]);
    expect(seen).toEqual(['big[0,4)']);
    await turns(3);
    expect(seen).toEqual(['big[0,4)', 'big[4,8)', 'big[8,10)', 'next[0,1)']);
  });

  it('drops what is queued once the connection is gone', async () => {
    const seen: string[] = [];
    const { box, stop } = inbox(4, seen);
    box.push([{ name: 'big', items: 10 }, { name: 'next', items: 1 }]);
    stop();
    await turns(3);
    expect(seen).toEqual(['big[0,4)']);
  });

  it('runs a resumed slice through guard: a handler that throws there costs the connection, not the process', async () => {
    const seen: string[] = [];
    const { box, guarded } = inbox(4, seen, 'bad');
    box.push([{ name: 'big', items: 6 }, { name: 'bad', items: 1 }, { name: 'never', items: 1 }]);
    await turns(3);
    expect(seen).toEqual(['big[0,4)', 'big[4,6)']);
    expect(guarded).toHaveLength(1);
  });
});
