/**
 * test/fixtures/native-project: a project of its own (package.json + package-lock.json) whose
 * module imports @node-rs/xxhash, a prebuilt native addon (napi-rs: the binary is the optional
 * dependency @node-rs/xxhash-<platform>). Installed with `npm ci` inside the fixture, never into
 * clustrix's own dependencies; .ci/run does it, and so does the first test that needs it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const nativeProjectDir = fileURLToPath(new URL('../fixtures/native-project/', import.meta.url));
export const nativeModuleUrl = new URL('../fixtures/native-project/work.mjs', import.meta.url);

/** xxh32('clustrix') with seed 0, as the addon computes it on this machine. */
export const XXH32_OF_CLUSTRIX = 0xf2203c73;

export type NativeTasks = {
  hash(text: string): number;
  loadedFrom(): string[];
};

/** Runs `npm ci` in the fixture unless its install is there; returns the real path of its node_modules. */
export function installNativeFixture(): string {
  if (!existsSync(`${nativeProjectDir}node_modules/@node-rs/xxhash/package.json`)) {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: nativeProjectDir, stdio: 'pipe', timeout: 300_000 });
  }
  return realpathSync(`${nativeProjectDir}node_modules`);
}
