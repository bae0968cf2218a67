// What the numbers were measured on: machine, Node, package versions, git state; and the Dask
// check (installs Debian's python3-distributed when missing and we are root).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { PYTHON } from './config.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(`${ROOT}package.json`);

function pkgVersion(name) {
  try {
    return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;
  } catch {
    // packages whose exports hide package.json
    try {
      return JSON.parse(readFileSync(`${ROOT}node_modules/${name}/package.json`, 'utf8')).version;
    } catch {
      return null;
    }
  }
}

function sh(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], cwd: ROOT }).trim();
  } catch {
    return null;
  }
}

export async function machineInfo() {
  const cpus = os.cpus();
  let msgpackrNative = null;
  try {
    msgpackrNative = (await import('msgpackr')).isNativeAccelerationEnabled;
  } catch {
    /* not fatal */
  }
  let debian = null;
  try {
    debian = readFileSync('/etc/debian_version', 'utf8').trim();
  } catch {
    /* not Debian */
  }
  const dirtyCore = (sh('git', ['status', '--porcelain', '--', 'agent', 'coordinator', 'protocol', 'scripts', 'package.json']) ?? '')
    .split('\n')
    .filter(Boolean);
  return {
    machine: {
      cpus: cpus.length,
      availableParallelism: os.availableParallelism(),
      model: cpus[0]?.model ?? 'unknown',
      mhz: cpus[0]?.speed ?? null,
      memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      os: `${os.type()} ${os.release()}${debian ? ` (Debian ${debian})` : ''}`,
      arch: process.arch,
    },
    node: process.version,
    versions: {
      clustrix: JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).version,
      ws: pkgVersion('ws'),
      msgpackr: pkgVersion('msgpackr'),
      msgpackrNative,
      piscina: pkgVersion('piscina'),
      tinypool: pkgVersion('tinypool'),
    },
    git: {
      commit: sh('git', ['rev-parse', '--short', 'HEAD']),
      uncommittedCoreFiles: dirtyCore.length,
    },
  };
}

function daskVersions() {
  const r = spawnSync(PYTHON, ['-c', 'import dask, distributed, sys; print(dask.__version__, distributed.__version__, sys.version.split()[0])'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) return null;
  const [dask, distributed, python] = r.stdout.trim().split(/\s+/);
  return { dask, distributed, python };
}

/**
 * Is Debian's Dask importable by /usr/bin/python3? If not, and we are root with apt-get, install
 * python3-distributed python3-dask (after apt-get update). Never throws: { ok, reason, versions }.
 */
export function ensureDask(log) {
  if (process.env.BENCH_NO_DASK === '1') return { ok: false, reason: 'BENCH_NO_DASK=1' };
  let versions = daskVersions();
  if (versions) return { ok: true, versions };
  const canApt = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!canApt) {
    const reason = `Dask is not importable by ${PYTHON} and it cannot be installed here (needs root and apt-get): ` +
      'install it with `apt-get install -y python3-distributed python3-dask`; the Dask rows are skipped';
    log(reason);
    return { ok: false, reason };
  }
  log('Dask missing: apt-get update && apt-get install -y python3-distributed python3-dask ...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const up = spawnSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env, timeout: 300_000 });
  const inst = up.status === 0
    ? spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'python3-distributed', 'python3-dask'], { stdio: ['ignore', 'ignore', 'inherit'], env, timeout: 600_000 })
    : up;
  versions = daskVersions();
  if (versions) return { ok: true, versions, installed: true };
  const reason = `installing python3-distributed failed (apt-get ${up.status !== 0 ? 'update' : 'install'} exit ${inst.status}); the Dask rows are skipped`;
  log(reason);
  return { ok: false, reason };
}
