import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors/errors.js';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 fingerprint of the certificate, `AB:CD:...`; agents pin it. */
  fingerprint: string;
}

/**
 * A certificate for `wss://`: the user's own PEM files, or a fresh self-signed one (made with the
 * `openssl` command) that lives only in memory. Agents pin its fingerprint, so no CA is involved
 * and a man in the middle cannot present another certificate.
 */
export function loadTls(option: true | { cert: string; key: string }, altNames: readonly string[]): TlsMaterial {
  if (option === true) return selfSigned(altNames);
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(option.cert, 'utf8');
    key = readFileSync(option.key, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read the TLS certificate or key: ${(cause as Error).message}`, { cause, hint: 'options.tls takes { cert, key } paths to PEM files, or true for a self-signed certificate' });
  }
  return { cert, key, fingerprint: fingerprintOf(cert) };
}

export function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

function selfSigned(altNames: readonly string[]): TlsMaterial {
  const dir = mkdtempSync(join(tmpdir(), 'clustrix-tls-'));
  try {
    const names = [...new Set(['localhost', hostname(), ...altNames])];
    const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30', '-subj', '/CN=clustrix coordinator',
        '-addext', `subjectAltName=${san}`, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    return { cert, key: readFileSync(join(dir, 'key.pem'), 'utf8'), fingerprint: fingerprintOf(cert) };
  } catch (cause) {
    throw new ConfigError(`could not make a self-signed certificate with openssl: ${(cause as Error).message}`, {
      cause,
      hint: 'install openssl, or pass options.tls = { cert, key } with your own PEM files',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
