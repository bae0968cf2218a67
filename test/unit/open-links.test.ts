// The scheduler's round robin of links with room (coordinator/engine/open-links.ts): a link that
// takes a task and still has room goes to the back (or keeps its turn when told to stay), a full
// one leaves the turn until its load drops, one whose tasks came back goes to the front, and a
// deleted one is gone.
import { describe, expect, it } from 'vitest';
import { OpenLinks } from '../../coordinator/engine/open-links.js';
import type { AgentLink } from '../../coordinator/engine/link.js';

const link = (id: string): AgentLink => ({ id }) as AgentLink;

describe('OpenLinks', () => {
  it('turns round robin, drops full links and takes them back', () => {
    const room = new Map<AgentLink, number>();
    const open = new OpenLinks((l) => room.get(l) ?? 0);
    const [a, b, c] = [link('a'), link('b'), link('c')];
    for (const l of [a, b, c]) {
      room.set(l, 2);
      open.update(l);
    }
    open.update(a);
    expect(open.size).toBe(3);
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      const l = open.first()!;
      order.push(l.id);
      room.set(l, room.get(l)! - 1);
      open.took(l);
    }
    expect(order).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(open.size).toBe(0);
    expect(open.first()).toBeUndefined();
    room.set(b, 1);
    open.update(b);
    room.set(a, 1);
    open.update(a);
    expect([open.first()?.id, open.size, open.has(a), open.has(c)]).toEqual(['b', 2, true, false]);
    open.delete(b);
    expect([open.first()?.id, open.size, open.has(b)]).toEqual(['a', 1, false]);
    room.set(a, 0);
    open.update(a);
    expect(open.size).toBe(0);
  });

  it('keeps a link that takes a task with room left at the back, alone or not', () => {
    const open = new OpenLinks(() => 5);
    const [a, b] = [link('a'), link('b')];
    open.update(a);
    open.took(a);
    expect([open.first()?.id, open.size]).toEqual(['a', 1]);
    open.update(b);
    open.took(b);
    expect([open.first()?.id, open.size]).toEqual(['a', 2]);
    open.took(a);
    expect(open.first()?.id).toBe('b');
  });

  it('keeps the front link when it is to stay, and puts a freed link at the front', () => {
    const room = new Map<AgentLink, number>();
    const open = new OpenLinks((l) => room.get(l) ?? 0);
    const [a, b, c] = [link('a'), link('b'), link('c')];
    for (const l of [a, b, c]) {
      room.set(l, 3);
      open.update(l);
    }
    open.took(a, true);
    expect(open.first()?.id).toBe('a');
    open.took(b, true);
    expect(open.first()?.id).toBe('a');
    open.took(a, false);
    expect(open.first()?.id).toBe('c');
    open.freed(b);
    expect([open.first()?.id, open.size]).toEqual(['b', 3]);
    room.set(c, 0);
    open.freed(c);
    expect([open.first()?.id, open.size, open.has(c)]).toEqual(['b', 2, false]);
    room.set(c, 1);
    open.freed(c);
    expect([open.first()?.id, open.size]).toEqual(['c', 3]);
    open.freed(c);
    expect(open.size).toBe(3);
  });
});
