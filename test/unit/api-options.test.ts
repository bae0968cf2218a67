// Task, actor and connect options: the same schema-made ConfigError as Cluster.start's, never a
// bare TypeError, and durations bounded by the longest timer Node can set.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../coordinator/errors/errors.js';
import { resolveTaskOptions } from '../../coordinator/api/task-options.js';
import { resolveActorOptions } from '../../coordinator/api/actor-options.js';
import { resolveAddress } from '../../coordinator/transport/address.js';

function refusal(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('CONFIG_INVALID');
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, none was thrown');
}

const TIMER = 'a whole number of milliseconds from 1 to 2147483647 (the longest timer Node can set)';

describe('task options', () => {
  it.each([
    [{ timeoutMs: 0 }, `options.timeoutMs: expected ${TIMER}, got 0`],
    [{ timeoutMs: 2 ** 31 }, `options.timeoutMs: expected ${TIMER}, got 2147483648`],
    [{ retries: -1 }, 'options.retries: expected a non-negative integer, got -1'],
    [{ retryExceptions: 0.5 }, 'options.retryExceptions: expected a non-negative integer, got 0.5'],
    [{ signal: {} }, 'options.signal: expected an AbortSignal, got a mapping'],
    [{ inline: 1 }, 'options.inline: expected true or false, got 1'],
    [{ priority: Infinity }, 'options.priority: expected a finite number, got Infinity'],
    [{ priority: '1' }, 'options.priority: expected a finite number, got "1"'],
    [{ weight: 0 }, 'options.weight: expected a number above 0, at most 1000000, got 0'],
    [{ resources: { gpus: -1 } }, 'options.resources: expected a mapping of resource names (cpus, gpus, memory, or custom) to non-negative amounts, e.g. { gpus: 1 }, got a mapping'],
    [{ timeout: 5 }, "options.timeout: unknown key (allowed: timeoutMs, retries, retryExceptions, signal, inline, priority, weight, resources, pool); did you mean 'timeoutMs'?"],
    ['fast', 'options: expected a mapping of task options (timeoutMs, retries, retryExceptions, signal, inline, priority, weight, resources, pool), got "fast"'],
  ])('%j', (options, message) => {
    expect(refusal(() => resolveTaskOptions(options as never, { retries: 3 })).message).toBe(message);
  });

  it('applies the defaults, and accepts the keys a caller checks itself', () => {
    expect(resolveTaskOptions(undefined, { retries: 3 })).toEqual({ timeoutMs: null, retries: 3, retryExceptions: 0, signal: null, inline: false, priority: 0, weight: 1, resources: null, pool: null });
    expect(resolveTaskOptions({ timeoutMs: 5, chunkSize: 'any' } as never, { retries: 1 }, new Set(['chunkSize'])).timeoutMs).toBe(5);
  });
});

describe('actor options', () => {
  it.each([
    [{ args: 'x' }, 'options.args: expected a list of constructor arguments, got "x"'],
    [{ name: '' }, 'options.name: expected a non-empty string, got ""'],
    [{ maxConcurrency: 0 }, 'options.maxConcurrency: expected a positive integer, got 0'],
    [{ agent: 7 }, 'options.agent: expected an agent id, got 7'],
    [{ getIfExists: 'yes' }, 'options.getIfExists: expected true or false, got "yes"'],
    [{ timeoutMs: 3e9 }, `options.timeoutMs: expected ${TIMER}, got 3000000000`],
    [{ resources: { cpus: 1.5 } }, 'options.resources.cpus: expected a non-negative integer, got 1.5'],
    [{ resources: { gpus: 1 } }, "options.resources.gpus: unknown key (allowed: cpus); did you mean 'cpus'?"],
  ])('%j', (options, message) => {
    expect(refusal(() => resolveActorOptions(options as never)).message).toBe(message);
  });
});

describe('connect options', () => {
  const env = { CLUSTRIX_PROFILE: '', CLUSTRIX_ADDRESS: '' };
  it.each([
    [{ address: 'http://h:1', env }, 'options.address: expected a ws:// or wss:// address (ws://host:port), got "http://h:1"'],
    [{ credential: '', address: 'ws://h:1', env }, 'options.credential: expected a non-empty string, got ""'],
    [{ profile: 'a b', env }, "options.profile: expected a profile name (letters, digits, '_' and '-'), got \"a b\""],
    [{ onLog: true, env }, 'options.onLog: expected a function (entry) => void, got true'],
    [{ adress: 'ws://h:1', env }, "options.adress: unknown key (allowed: address, credential, profile, name, onLog, env); did you mean 'address'?"],
    [{ env: { CLUSTRIX_ADDRESS: 'h:1' } }, 'CLUSTRIX_ADDRESS: expected a ws:// or wss:// address (ws://host:port), got "h:1"'],
  ])('%j', async (options, message) => {
    const err = await resolveAddress(options as never).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(message);
  });

  it('an address and credential given pass as they are', async () => {
    expect(await resolveAddress({ address: 'ws://h:1', credential: 'c', env })).toEqual({ address: 'ws://h:1', credential: 'c' });
  });
});
