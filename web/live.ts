// The page's end of the live socket: the same frames as every clustrix socket (a msgpack array of
// messages), each message checked against the protocol's schema before the page sees it.
import { Packr } from 'msgpackr';
import { DashboardServerMessage, type DashboardClientMessage } from '../protocol/dashboard-messages.js';

const envelope = new Packr({ useRecords: false, mapsAsObjects: true });
/** The server's close code for a missing or stale session (CloseCode.authFailed). */
const AUTH_FAILED = 4003;

export interface LiveHandlers {
  message(m: DashboardServerMessage): void;
  state(state: 'connecting' | 'open' | 'closed' | 'logged-out', detail: string): void;
}

/** Keeps one socket to /live open (reconnecting with backoff), until the session is refused. */
export class Live {
  private ws: WebSocket | null = null;
  private backoff = 500;

  constructor(private readonly handlers: LiveHandlers) {
    this.open();
  }

  send(message: DashboardClientMessage): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(envelope.pack([message]));
    return true;
  }

  private open(): void {
    this.handlers.state('connecting', '');
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/live`);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      this.backoff = 500;
      this.handlers.state('open', '');
    };
    ws.onmessage = (event: MessageEvent<ArrayBuffer>) => {
      let raw: unknown;
      try {
        raw = envelope.unpack(new Uint8Array(event.data));
      } catch {
        ws.close(4000, 'a frame is not msgpack');
        return;
      }
      if (!Array.isArray(raw)) return;
      for (const item of raw) {
        const parsed = DashboardServerMessage.safeParse(item);
        if (parsed.success) this.handlers.message(parsed.data);
      }
    };
    ws.onclose = (event) => {
      this.ws = null;
      if (event.code === AUTH_FAILED) {
        this.handlers.state('logged-out', event.reason);
        return;
      }
      this.handlers.state('closed', event.reason || `connection closed (${event.code})`);
      setTimeout(() => this.open(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 10_000);
    };
  }
}
