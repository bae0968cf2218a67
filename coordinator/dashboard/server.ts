import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import { closeSocket } from '../../protocol/close.js';
import type { DashboardAccess } from '../../protocol/rows.js';
import { CloseCode } from '../../protocol/version.js';
import { WsEndpoint } from '../engine/endpoint.js';
import type { Logger } from '../util/logger.js';
import { DashboardAuth, SESSION_COOKIE } from './auth.js';
import { LIVE_MAX_FRAME_BYTES } from './live.js';
import { METRICS_CONTENT_TYPE, renderMetrics, type MetricsSource } from './metrics.js';

/** What the dashboard's server needs from the engine. */
export interface DashboardHost {
  metrics(): MetricsSource;
  /** A browser opened the live socket (its session cookie checked). */
  live(ws: WebSocket): void;
}

export interface DashboardServerOptions {
  host: string;
  port: number;
}

/** The files esbuild bundles from web/ into dist/web at build time, and their types. */
const ASSETS: Record<string, string> = {
  '/': 'index.html',
  '/app.js': 'app.js',
  '/app.css': 'app.css',
};
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };


const HEADERS = {
  // The login token is in the URL: it must not leave in a Referer header.
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
};

/**
 * The dashboard's HTTP server (127.0.0.1 by default): the page and its bundle, `/login?token=` that
 * trades a one-time token for an HttpOnly session cookie, `/metrics` in Prometheus' text format
 * (the cookie or the read token), and the live WebSocket `/live`. Everything else is refused
 * without a session: 401 for requests, close 4003 for sockets.
 */
export class DashboardServer {
  readonly auth = new DashboardAuth();
  url = '';
  private readonly assets = new Map<string, Buffer>();

  private constructor(
    private readonly host: DashboardHost,
    private readonly endpoint: WsEndpoint,
    private readonly log: Logger,
  ) {}

  static async start(host: DashboardHost, options: DashboardServerOptions, log: Logger): Promise<DashboardServer> {
    const ready: { server?: DashboardServer } = {};
    const endpoint = new WsEndpoint(
      { tls: null, maxFrameBytes: LIVE_MAX_FRAME_BYTES, handshakeTimeoutMs: 30_000, request: (req, res) => ready.server?.request(req, res) },
      ({ ws, request, authenticated }) => {
        if (!ready.server?.mayOpenLive(request)) {
          closeSocket(ws, CloseCode.authFailed, 'log in through the dashboard URL first');
          return;
        }
        authenticated();
        host.live(ws);
      },
    );
    const server = new DashboardServer(host, endpoint, log);
    ready.server = server;
    server.loadAssets();
    const { host: address, port } = await endpoint.listen(options.host, options.port);
    server.url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
    log.info(`dashboard at ${server.url} (log in with the URL from cluster.dashboard() or \`clustrix dashboard\`)`);
    return server;
  }

  /** A fresh one-time login URL, the metrics address and its read token. */
  access(): DashboardAccess {
    return { url: this.url, loginUrl: `${this.url}/login?token=${this.auth.mintLogin()}`, metricsUrl: `${this.url}/metrics`, metricsToken: this.auth.readToken };
  }

  close(): Promise<void> {
    return this.endpoint.close(200);
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    const url = parseUrl(req.url);
    if (!url) {
      this.send(res, 400, 'text/plain; charset=utf-8', 'bad request\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.send(res, 405, 'text/plain; charset=utf-8', 'the dashboard answers GET only\n');
      return;
    }
    if (url.pathname === '/login') {
      const session = this.auth.login(url.searchParams.get('token') ?? '');
      if (!session) {
        this.log.warn('a dashboard login with an unknown, used or expired token was refused');
        this.send(res, 401, 'text/plain; charset=utf-8', 'This login link was used already or has expired: ask for a new one (cluster.dashboard(), or `clustrix dashboard <profile>`).\n');
        return;
      }
      res.writeHead(303, { ...HEADERS, location: '/', 'set-cookie': `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/` }).end();
      return;
    }
    if (url.pathname === '/metrics') {
      if (!this.auth.mayRead(req)) {
        this.send(res, 401, 'text/plain; charset=utf-8', 'metrics need the dashboard session or `Authorization: Bearer <metricsToken>`\n', { 'www-authenticate': 'Bearer' });
        return;
      }
      this.send(res, 200, METRICS_CONTENT_TYPE, renderMetrics(this.host.metrics()));
      return;
    }
    const file = ASSETS[url.pathname];
    if (file === undefined) {
      this.send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
      return;
    }
    if (!this.auth.hasSession(req)) {
      this.send(res, 401, 'text/plain; charset=utf-8', 'Log in with the one-time URL from cluster.dashboard() or `clustrix dashboard <profile>`.\n');
      return;
    }
    const body = this.assets.get(file);
    if (!body) {
      this.send(res, 503, 'text/plain; charset=utf-8', 'the dashboard page was not built (npm run build)\n');
      return;
    }
    this.send(res, 200, TYPES[file.split('.').pop() ?? ''] ?? 'application/octet-stream', body);
  }

  /** A session cookie, and a page of this server (not another site riding the cookie). */
  private mayOpenLive(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) return false;
    return parseUrl(req.url)?.pathname === '/live' && this.auth.hasSession(req);
  }

  private send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
    res.writeHead(status, { ...HEADERS, ...extra, 'content-type': type, 'content-length': Buffer.byteLength(body) }).end(res.req.method === 'HEAD' ? undefined : body);
  }

  private loadAssets(): void {
    for (const file of Object.values(ASSETS)) {
      try {
        this.assets.set(file, readFileSync(new URL(`../../web/${file}`, import.meta.url)));
      } catch {
        // Not built (a source checkout before `npm run build`): the page answers 503.
      }
    }
  }
}

/** The request's path and query; null for a target no URL parser accepts (`//`, `//x:99999`). */
function parseUrl(target: string | undefined): URL | null {
  try {
    return new URL(target ?? '/', 'http://dashboard');
  } catch {
    return null;
  }
}
