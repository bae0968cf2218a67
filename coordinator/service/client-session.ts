import { createHash, timingSafeEqual } from 'node:crypto';
import type WebSocket from 'ws';
import type { ClientMessage, ServiceMessage } from '../../protocol/client-messages.js';
import { decodeClientFrame, encodeClientFrame } from '../../protocol/client-codec.js';
import { ProtocolError } from '../../protocol/errors.js';
import { CloseCode, PROTOCOL_VERSION } from '../../protocol/version.js';
import { toWireError } from '../client/wire-errors.js';
import { CancelledError, ClustrixError } from '../errors.js';
import type { Submission } from '../submit.js';
import type { ShippedCode } from '../task.js';
import type { ServiceHost } from './service-host.js';

const AUTH_TIMEOUT_MS = 5_000;

/**
 * The service's side of one client connection: authenticates it, caches the code it ships, runs
 * its tasks on the shared pool, and on disconnect drops its queued tasks and cancels its running
 * ones, touching no other client's work.
 */
export class ClientSession {
  id = '';
  name = '';
  readonly connectedAt = Date.now();
  /** Tasks of this client not settled yet, by the client's id. */
  readonly tasks = new Map<string, Submission[]>();
  /** Agent (or job) whose every log line this client wants; undefined: none, null: all. */
  follow: string | null | undefined = undefined;
  private authed = false;
  private closed = false;
  private readonly code = new Map<string, ShippedCode>();
  private outbox: ServiceMessage[] = [];
  private flushQueued = false;
  private readonly authTimer: NodeJS.Timeout;

  constructor(
    private readonly ws: WebSocket,
    private readonly host: ServiceHost,
  ) {
    this.authTimer = setTimeout(() => this.close(CloseCode.authTimeout, 'no client-hello in time'), AUTH_TIMEOUT_MS);
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
    ws.on('close', () => this.onClosed());
    ws.on('error', () => undefined);
  }

  send(message: ServiceMessage): void {
    if (this.closed) return;
    this.outbox.push(message);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flush);
    }
  }

  close(code: number, reason: string): void {
    this.flush();
    this.ws.close(code, reason.slice(0, 120));
    this.onClosed();
  }

  private readonly flush = (): void => {
    this.flushQueued = false;
    if (this.outbox.length === 0 || this.ws.readyState !== this.ws.OPEN) return;
    const batch = this.outbox;
    this.outbox = [];
    this.ws.send(encodeClientFrame(batch));
  };

  private receive(data: Buffer, isBinary: boolean): void {
    let messages: ClientMessage[];
    try {
      if (!isBinary) throw new ProtocolError('a client frame must be binary', CloseCode.protocolError);
      messages = decodeClientFrame(data, this.host.maxFrameBytes);
    } catch (err) {
      const closeCode = err instanceof ProtocolError ? err.closeCode : CloseCode.protocolError;
      this.host.log.warn(`client ${this.id || '(unauthenticated)'}: ${(err as Error).message}`);
      this.close(closeCode, (err as Error).message);
      return;
    }
    for (const m of messages) {
      if (this.closed) return;
      this.handle(m);
    }
  }

  private handle(m: ClientMessage): void {
    if (!this.authed) {
      if (m.type !== 'client-hello' || !sameSecret(m.credential, this.host.credential)) {
        this.host.log.warn('a client presented a wrong credential');
        this.close(CloseCode.authFailed, 'wrong credential');
        return;
      }
      clearTimeout(this.authTimer);
      this.authed = true;
      this.name = m.name;
      this.id = this.host.register(this);
      this.send({ type: 'client-welcome', protocol: PROTOCOL_VERSION, clientId: this.id, ...this.host.describe() });
      return;
    }
    switch (m.type) {
      case 'client-hello':
        this.close(CloseCode.protocolError, 'a second client-hello');
        return;
      case 'client-code':
        this.code.set(m.hash, { hash: m.hash, kind: m.kind, source: m.source, name: m.name });
        return;
      case 'submit': {
        const code = this.codeFor(m.id, m.code);
        if (!code) return;
        const options = { timeoutMs: m.timeoutMs, retries: m.retries, retryExceptions: m.retryExceptions, signal: null, inline: m.inline };
        this.track(m.id, [this.host.submit(this, code, m.export, m.args, options, { chunk: m.chunk })], (values) => {
          const value = values[0];
          if (value) this.send({ type: 'task-done', id: m.id, value });
        });
        return;
      }
      case 'broadcast': {
        const code = this.codeFor(m.id, m.code);
        if (!code) return;
        const options = { timeoutMs: m.timeoutMs, retries: 0, retryExceptions: m.retryExceptions, signal: null, inline: m.inline };
        const subs = this.host.readyAgents().map((agent) => this.host.submit(this, code, m.export, m.args, options, { pinned: agent }));
        this.track(m.id, subs, (values) => this.send({ type: 'broadcast-done', id: m.id, values }));
        return;
      }
      case 'cancel-task':
        for (const s of this.tasks.get(m.id) ?? []) s.cancel(new CancelledError(`task ${m.id} was cancelled by its client`));
        return;
      case 'status':
        this.send({ type: 'status-reply', id: m.id, ...this.host.status() });
        return;
      case 'scale':
        this.host.scale(m.agents).then(
          () => this.send({ type: 'ack', id: m.id }),
          (err: unknown) => this.send({ type: 'ack', id: m.id, error: toWireError(err) }),
        );
        return;
      case 'stop':
        this.send({ type: 'ack', id: m.id });
        this.flush();
        void this.host.stop(`stopped by client ${this.name}`);
        return;
      case 'follow-logs':
        this.follow = m.target;
        this.send({ type: 'ack', id: m.id });
        return;
      default: {
        const unreachable: never = m;
        throw new Error(`unhandled client message ${JSON.stringify(unreachable)}`);
      }
    }
  }

  private codeFor(taskId: string, hash: string): ShippedCode | undefined {
    const code = this.code.get(hash);
    if (!code) this.send({ type: 'task-failed', id: taskId, error: toWireError(new ClustrixError('PROTOCOL_ERROR', `task ${taskId} names code ${hash} that was never sent`)) });
    return code;
  }

  private track(id: string, subs: Submission[], done: (values: Uint8Array[]) => void): void {
    this.tasks.set(id, subs);
    Promise.all(subs.map((s) => s.result as Promise<Uint8Array>)).then(
      (values) => {
        this.tasks.delete(id);
        done(values);
      },
      (err: unknown) => {
        this.tasks.delete(id);
        for (const s of subs) s.cancel(new CancelledError('another agent of the same broadcast failed'));
        this.send({ type: 'task-failed', id, error: toWireError(err) });
      },
    );
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.authTimer);
    const error = new CancelledError(`client ${this.name || this.id} disconnected`);
    let n = 0;
    for (const subs of this.tasks.values()) {
      for (const s of subs) {
        s.result.catch(() => undefined);
        s.cancel(error);
        n++;
      }
    }
    this.tasks.clear();
    if (this.authed) this.host.unregister(this, n);
  }
}

/** Constant-time comparison of two secrets of any length (hashed first, so lengths do not leak). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
