// The near-miss suggestion: close enough to be the intended name, never a wild guess.
import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance } from '../../coordinator/config/issues.js';

describe('didYouMean', () => {
  it.each([
    ['hots', ['host', 'port', 'user'], "; did you mean 'host'?"],
    ['Host', ['host', 'port'], "; did you mean 'host'?"],
    ['slrum', ['local', 'slurm', 'pbs'], "; did you mean 'slurm'?"],
    ['cpuPerTask', ['cpusPerTask', 'nodes'], "; did you mean 'cpusPerTask'?"],
    ['hcp', ['hpc', 'local'], "; did you mean 'hpc'?"],
    ['gpu', ['hpc', 'local'], ''],
    ['walltime', ['time', 'nodes'], ''],
    ['vpn', ['direct', 'tunnel'], ''],
  ])('%s among %j', (input, choices, expected) => {
    expect(didYouMean(input, choices)).toBe(expected);
  });
});

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['kitten', 'sitting', 3],
    ['slrum', 'slurm', 1],
    ['hots', 'host', 1],
  ])('%s → %s = %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});
