// The walk that refuses values which cannot travel (issue 12, item 1): paths, cycles, depth, and
// what it lets through, fed values directly.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { findUnsendable } from '../../protocol/sendable.js';
import { ActorRef } from '../../protocol/values.js';

describe('findUnsendable', () => {
  it('lets data through, with cycles and shared parts', () => {
    const shared = { k: 1 };
    const cyclic: Record<string, unknown> = { shared, list: [shared, shared], m: new Map([[shared, new Set([shared])]]) };
    cyclic.self = cyclic;
    const value = [1, 'a', null, undefined, 2n, true, new Date(0), /x/, new Error('e'), new Uint8Array(3), Buffer.from('b'), new ArrayBuffer(2), new URL('http://h'), Object.create(null), cyclic, new ActorRef('a1', null)];
    expect(findUnsendable(value, 'args')).toBeNull();
  });

  it('names the path through arrays, objects, Maps and Sets', () => {
    expect(findUnsendable([0, { a: { 'b c': [() => 1] } }], 'args')?.path).toBe('args[1].a["b c"][0]');
    expect(findUnsendable(new Map([['k', { f: Symbol('s') }]]), 'result')?.path).toBe('result.get("k").f');
    expect(findUnsendable(new Map([[() => 1, 1]]), 'result')?.path).toBe('result (key 0 of the Map)');
    expect(findUnsendable(new Set([1, Promise.resolve()]), 'result')?.path).toBe('result (item 1 of the Set)');
  });

  it('finds a refusal inside a cycle without looping', () => {
    const a: Record<string, unknown> = {};
    a.next = { back: a, bad: new WeakSet() };
    expect(findUnsendable(a, 'result')?.path).toBe('result.next.bad');
  });

  it('walks a list nested 100,000 deep without overflowing the stack', () => {
    let deep: unknown = { end: () => 1 };
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const found = findUnsendable(deep, 'args');
    expect(found?.what).toMatch(/^a function/);
    expect(found?.path).toMatch(/^args(\[0\]){8}\.\.\.\(99977 steps\)\.\.\.(\[0\]){15}\.end$/);
  });

  it('tells apart functions, classes, thenables, emitters and class instances', () => {
    class Account {
      balance = 0;
    }
    expect(findUnsendable(() => 1, 'r')?.what).toBe('a function');
    expect(findUnsendable(Account, 'r')?.what).toBe('a class (Account)');
    expect(findUnsendable({ then: () => undefined }, 'r')?.what).toMatch(/Promise/);
    expect(findUnsendable(new EventEmitter(), 'r')?.what).toMatch(/an EventEmitter/);
    expect(findUnsendable(new Account(), 'r')?.what).toBe('an instance of class Account');
    expect(findUnsendable([1, 2, 3].values(), 'r')?.what).toBe('an iterator');
  });
});
