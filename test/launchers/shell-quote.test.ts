import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { assertSingleLine, shellJoin, shellQuote } from '../../coordinator/backends/launchers/batch/shell-quote.js';

/** What bash hands to a command as its arguments when given `line`. */
function argvThroughShell(shell: string, line: string): string[] {
  // printf '%s\0' prints each argument NUL-terminated, so blanks and newlines stay visible
  const result = spawnSync(shell, ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8' });
  expect(result.status).toBe(0);
  return result.stdout.split('\0').slice(0, -1);
}

const AWKWARD = [
  '',
  'plain',
  'with space',
  "it's",
  "''",
  '"double"',
  '$HOME and ${PATH} and $(id) and `id`',
  'back\\slash \\n',
  'semi; rm -rf / & echo | cat > x < y',
  '*?[a-z]{1,2}~',
  'new\nline',
  'tab\there',
  '-n',
  'é ✓ 日本',
  "a'b\"c$d`e\\f!g#h",
  'x=1',
];

describe('shellQuote', () => {
  test.each(['/bin/bash', '/bin/sh'])('every awkward value reaches a command intact through %s', (shell) => {
    expect(argvThroughShell(shell, shellJoin(AWKWARD))).toEqual(AWKWARD);
  });

  test('every byte from 1 to 255 survives, one value per run', () => {
    const all = Array.from({ length: 255 }, (_, i) => String.fromCharCode(i + 1)).join('');
    expect(argvThroughShell('/bin/bash', shellQuote(all))).toEqual([all]);
  });

  test('safe words stay bare; everything else is single-quoted with quotes as \'\\\'\'', () => {
    expect(shellQuote('/opt/slurm/bin/sbatch')).toBe('/opt/slurm/bin/sbatch');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    // `a=b` as a first word would be an assignment, so it is quoted
    expect(shellQuote('a=b')).toBe("'a=b'");
    expect(shellQuote('~/x')).toBe("'~/x'");
  });

  test('rejects NUL, which no argv or file line can carry', () => {
    expect(() => shellQuote('a\0b')).toThrow(new TypeError('a shell word must not contain a NUL character, got "a\\u0000b"'));
  });
});

describe('assertSingleLine', () => {
  test('names the value and shows it', () => {
    expect(() => assertSingleLine('a\nb', 'resources.account')).toThrow(
      new TypeError('resources.account must be a single line (no newline or carriage return), got "a\\nb"'),
    );
    expect(() => assertSingleLine('a\rb', 'jobName')).toThrow(TypeError);
    expect(() => assertSingleLine('a\0b', 'node')).toThrow(new TypeError('node must not contain a NUL character, got "a\\u0000b"'));
    expect(() => assertSingleLine("fine 'value' $x", 'x')).not.toThrow();
  });
});
