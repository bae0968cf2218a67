import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** A login URL works once, within this long. */
export const LOGIN_TTL_MS = 10 * 60_000;
/** Most login tokens waiting to be used (older ones are dropped first). */
const MAX_PENDING_LOGINS = 64;
/** Most browser sessions (older ones are logged out first). */
const MAX_SESSIONS = 256;

export const SESSION_COOKIE = 'clustrix_dashboard';

/**
 * The dashboard's credentials: one-time login tokens (in the URL `cluster.dashboard()` and
 * `clustrix dashboard` print), exchanged for a session id kept in an HttpOnly cookie; and a
 * long-lived read token for /metrics (`Authorization: Bearer`). Only digests are kept, so lookups
 * by them leak nothing about the secrets through timing.
 */
export class DashboardAuth {
  readonly readToken: string;
  private readonly logins = new Map<string, number>();
  private readonly sessions = new Set<string>();
  private readonly readDigest: string;

  constructor(readToken?: string) {
    this.readToken = readToken ?? secret();
    this.readDigest = digest(this.readToken);
  }

  /** A new one-time login token. */
  mintLogin(): string {
    const token = secret();
    this.logins.set(digest(token), Date.now() + LOGIN_TTL_MS);
    while (this.logins.size > MAX_PENDING_LOGINS) this.logins.delete(this.logins.keys().next().value!);
    return token;
  }

  /** Spends a login token; a session id for the cookie, or null if the token is unknown, used or stale. */
  login(token: string): string | null {
    const key = digest(token);
    const expires = this.logins.get(key);
    if (expires === undefined) return null;
    this.logins.delete(key);
    if (Date.now() > expires) return null;
    const session = secret();
    this.sessions.add(digest(session));
    while (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.values().next().value!);
    return session;
  }

  /** The request carries a session cookie of this dashboard. */
  hasSession(req: IncomingMessage): boolean {
    const value = cookie(req.headers.cookie, SESSION_COOKIE);
    return value !== null && this.sessions.has(digest(value));
  }

  /** The request may read /metrics: a session, or the read token as a bearer token. */
  mayRead(req: IncomingMessage): boolean {
    const auth = req.headers.authorization;
    if (typeof auth === 'string' && auth.startsWith('Bearer ') && digest(auth.slice(7).trim()) === this.readDigest) return true;
    return this.hasSession(req);
  }
}

function secret(): string {
  return randomBytes(24).toString('base64url');
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

function cookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
