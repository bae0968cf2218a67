// An exception on the agent reaches the caller as a RemoteError that keeps the remote type name,
// message, stack, code and cause chain.
import { describe, expect, it } from 'vitest';
import { Cluster, ClustrixError, RemoteError } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';

describe.each(MODES)('$name', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 2, slots: 1 }, (c) => (cluster = c));

  /** The error a call rejected with; fails the test if it resolved. */
  async function rejection(promise: Promise<unknown>): Promise<RemoteError> {
    const err = await promise.then(
      (value) => {
        throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RemoteError);
    return err as RemoteError;
  }

  describe('a thrown error', () => {
    it('keeps its type name, message and code REMOTE_ERROR', async () => {
      const err = await rejection(cluster.run(() => {
        throw new RangeError('out of range: 7');
      }));
      expect(err).toBeInstanceOf(ClustrixError);
      expect(err.code).toBe('REMOTE_ERROR');
      expect(err.remoteName).toBe('RangeError');
      expect(err.remoteMessage).toBe('out of range: 7');
      expect(err.message).toContain('RangeError: out of range: 7');
    });

    it('carries the remote stack, which names the function that threw', async () => {
      const err = await rejection(cluster.run(function explodeOnAgent(n: number) {
        throw new Error(`boom ${n}`);
      }, 3));
      expect(err.remoteStack).toMatch(/explodeOnAgent/);
      expect(err.remoteStack).toContain('boom 3');
      expect(err.stack).toContain('remote stack');
      expect(err.stack).toMatch(/explodeOnAgent/);
    });

    it('from an async function is the same', async () => {
      const err = await rejection(cluster.run(async () => {
        await new Promise((r) => setTimeout(r, 1));
        throw new TypeError('async boom');
      }));
      expect(err.remoteName).toBe('TypeError');
      expect(err.remoteMessage).toBe('async boom');
    });

    it('keeps its cause chain, each link a RemoteError with its own type', async () => {
      const err = await rejection(cluster.run(() => {
        throw new Error('outer', { cause: new TypeError('inner', { cause: new SyntaxError('root') }) });
      }));
      expect(err.remoteName).toBe('Error');
      expect(err.remoteMessage).toBe('outer');
      const inner = err.cause as RemoteError;
      expect(inner).toBeInstanceOf(RemoteError);
      expect(inner.remoteName).toBe('TypeError');
      expect(inner.remoteMessage).toBe('inner');
      const root = inner.cause as RemoteError;
      expect(root).toBeInstanceOf(RemoteError);
      expect(root.remoteName).toBe('SyntaxError');
      expect(root.remoteMessage).toBe('root');
    });

    it("keeps the error's own code as remoteCode", async () => {
      const err = await rejection(cluster.run(() => {
        throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      }));
      expect(err.code).toBe('REMOTE_ERROR');
      expect(err.remoteCode).toBe('ENOENT');
    });

    it('of a custom class that sets its name keeps that name', async () => {
      const err = await rejection(cluster.run(() => {
        class QuotaExceededError extends Error {
          constructor(message: string) {
            super(message);
            this.name = 'QuotaExceededError';
          }
        }
        throw new QuotaExceededError('quota of 10 exceeded');
      }));
      expect(err.remoteName).toBe('QuotaExceededError');
      expect(err.remoteMessage).toBe('quota of 10 exceeded');
    });

    it('of a custom class that does not set its name keeps the class name', async () => {
      const err = await rejection(cluster.run(() => {
        class ParseFailure extends Error {}
        throw new ParseFailure('line 3');
      }));
      expect(err.remoteName).toBe('ParseFailure');
      expect(err.remoteMessage).toBe('line 3');
    });

    it('that is not an Error still rejects with a RemoteError', async () => {
      const err = await rejection(cluster.run(() => {
        throw 'just a string';
      }));
      expect(err.code).toBe('REMOTE_ERROR');
      expect(err.remoteMessage).toContain('just a string');
    });

    it('leaves the agent working', async () => {
      const pids = await cluster.broadcast(() => process.pid);
      expect(pids).toEqual((await cluster.agents()).map((a) => a.pid));
    });
  });
});
