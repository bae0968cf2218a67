/**
 * A coordinator the test plays, for fuzzing a real agent process: a WebSocket server on port 0
 * that hands each connection of the agent to the test (which reads its hello and then sends
 * whatever it likes), or answers the HTTP upgrade itself with junk. And the agent process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeAgentFrame, type AgentMessage } from 'clustrix/protocol';
import { agentBundle } from '../helpers/processes.js';
import type { Observed } from './probe.js';

/** One connection of the agent. */
export interface AgentConnection {
  ws: WebSocket;
  /** The TCP socket under `ws`, for frames written below ws. */
  socket: Socket;
  /** The next message that matches; rejects after `ms`. */
  next<T extends AgentMessage>(match: (m: AgentMessage) => m is T, ms: number): Promise<T>;
  /** How the connection ended (the code of the agent's close frame; 1006 without one). */
  closed: Promise<Observed>;
}

/** Answers an upgrade request without completing it (the fake coordinator's raw TCP modes). */
export type RawAnswer = (socket: Socket) => void;

export class FakeCoordinator {
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 0 });
  private readonly queue: AgentConnection[] = [];
  private readonly waiters: (() => void)[] = [];
  /** Answers for the next upgrades, in order; the rest are accepted. */
  readonly raw: RawAnswer[] = [];
  upgrades = 0;
  url = '';
  /** Upgraded sockets leave the HTTP server's books; they are closed here. */
  private readonly sockets = new Set<Socket>();

  constructor() {
    this.http = createServer((_req, res) => res.writeHead(426).end());
    this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      this.upgrades++;
      socket.on('error', () => undefined);
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      const answer = this.raw.shift();
      if (answer) {
        answer(socket);
        this.wake();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    this.url = `ws://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  /** The agent's next connection (already made, or the next to come); rejects after `ms`. */
  async nextConnection(ms: number): Promise<AgentConnection> {
    const deadline = Date.now() + ms;
    while (this.queue.length === 0) {
      if (!(await this.waitForUpgrade(deadline - Date.now()))) throw new Error(`the agent did not connect within ${ms} ms`);
    }
    return this.queue.shift()!;
  }

  /** Resolves true once an upgrade arrives (or one is waiting), false after `ms`. */
  waitForUpgrade(ms: number, since = this.upgrades): Promise<boolean> {
    if (this.queue.length > 0 || this.upgrades > since) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), Math.max(0, ms));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Drops connections nobody took (an agent that was replaced made them). */
  discardPending(): void {
    for (const c of this.queue.splice(0)) c.ws.terminate();
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    for (const s of this.sockets) s.destroy();
    this.wss.close();
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private accept(ws: WebSocket, socket: Socket): void {
    ws.on('error', () => undefined);
    const inbox: AgentMessage[] = [];
    const listeners: (() => void)[] = [];
    ws.on('message', (data: Buffer) => {
      try {
        inbox.push(...decodeAgentFrame(data, Number.MAX_SAFE_INTEGER));
      } catch (err) {
        // The agent must never send what does not decode; make it visible to whoever waits.
        inbox.push({ type: 'log', id: null, stream: 'stderr', text: `FAKE COORDINATOR: undecodable frame from the agent: ${(err as Error).message}` });
      }
      for (const l of listeners.splice(0)) l();
    });
    const closed = new Promise<Observed>((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ kind: 'closed', code, reason: reason.toString() })));
    const next = async <T extends AgentMessage>(match: (m: AgentMessage) => m is T, ms: number): Promise<T> => {
      const deadline = Date.now() + ms;
      for (;;) {
        const i = inbox.findIndex(match);
        if (i >= 0) return inbox.splice(i, 1)[0] as T;
        const left = deadline - Date.now();
        if (left <= 0 || ws.readyState !== ws.OPEN) throw new Error(`no matching message from the agent within ${ms} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          listeners.push(() => {
            clearTimeout(timer);
            resolve();
          });
          void closed.then(() => resolve());
        });
      }
    };
    this.queue.push({ ws, socket, next, closed });
    this.wake();
  }
}

/** A real agent process (the bundle a user runs), configured by environment variables only. */
export class AgentProcess {
  readonly exited: Promise<number | string>;
  private stderr = '';
  private exit: number | string | null = null;

  private constructor(readonly child: ChildProcess) {
    child.stderr?.setEncoding('utf8').on('data', (t: string) => (this.stderr = (this.stderr + t).slice(-4_000)));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exit = code ?? `signal ${signal}`;
        resolve(this.exit);
      }),
    );
  }

  static start(env: Record<string, string>): AgentProcess {
    return new AgentProcess(spawn(process.execPath, [agentBundle], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] }));
  }

  /** The exit code (or signal) once it has exited; null while it runs. */
  get exitCode(): number | string | null {
    return this.exit;
  }

  /** What it said last on stderr: the last error line (a crash's own), or the last line. */
  tail(): string {
    const lines = this.stderr.trim().split('\n');
    return [...lines].reverse().find((l) => /\w*Error\b/.test(l))?.trim() ?? lines[lines.length - 1] ?? '';
  }

  async stop(): Promise<void> {
    if (this.exit !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
