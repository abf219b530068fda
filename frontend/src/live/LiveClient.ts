// The single WebSocket to /ws/metrics: subscribes to every plugin, reconnects with
// exponential backoff and jitter, and reports its status so the UI can say when live data stops.
import { parseLiveEvent, type LiveEvent } from "./events";

export type LiveStatus = "idle" | "connecting" | "open" | "reconnecting" | "unauthorized";

export interface LiveClientOptions {
  /** Returns the ws(s):// URL, or null when logged out. */
  url: () => string | null;
  /** Called with each documented server event; pings are answered here, anything else dropped. */
  onEvent: (event: LiveEvent) => void;
  onStatus?: (status: LiveStatus, info: { attempt: number; retryInMs: number | null }) => void;
  /** Called after a connection opens that follows an earlier one (data may have been missed). */
  onReconnect?: () => void;
  WebSocketImpl?: typeof WebSocket;
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
}

/** Close codes a server uses when the token is rejected; retrying will not help. */
const AUTH_CLOSE_CODES = new Set([1008, 4001, 4003, 4401, 4403]);

export function backoffDelay(attempt: number, base: number, max: number, random: () => number): number {
  const ceiling = Math.min(max, base * 2 ** attempt);
  // "Equal jitter": half fixed, half random, so many tabs do not reconnect in lockstep.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The socket's URL. It carries no token: the handshake sends the session cookie, and a
 * token in the query string would land in access logs. */
export function liveUrl(loc: Location = window.location): string {
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${loc.host}/ws/metrics`;
}

export class LiveClient {
  private ws: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private everOpened = false;
  private stopped = true;
  private _status: LiveStatus = "idle";
  private readonly opts: Required<Omit<LiveClientOptions, "onStatus" | "onReconnect">> &
    Pick<LiveClientOptions, "onStatus" | "onReconnect">;

  constructor(opts: LiveClientOptions) {
    this.opts = {
      WebSocketImpl: globalThis.WebSocket,
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      random: Math.random,
      ...opts,
    };
  }

  get status(): LiveStatus {
    return this._status;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null;
      try {
        ws.close(1000, "client stopped");
      } catch {
        /* already closed */
      }
    }
    this.everOpened = false;
    this.setStatus("idle", null);
  }

  /** Skip the remaining backoff (e.g. the tab became visible or the network came back). */
  retryNow(): void {
    // A socket still handshaking (or open) is the connection; do not open a second one.
    if (this.stopped || this.ws) return;
    this.clearTimer();
    this.connect();
  }

  send(msg: unknown): void {
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(msg));
  }

  private connect(): void {
    const url = this.opts.url();
    if (!url) {
      this.setStatus("unauthorized", null);
      return;
    }
    this.setStatus(this.everOpened || this.attempt > 0 ? "reconnecting" : "connecting", null);
    let ws: WebSocket;
    try {
      ws = new this.opts.WebSocketImpl(url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.attempt = 0;
      ws.send(JSON.stringify({ type: "subscribe", plugins: "all" }));
      this.setStatus("open", null);
      if (reconnected) this.opts.onReconnect?.();
    };
    ws.onmessage = (ev: MessageEvent) => {
      let msg: unknown;
      try {
        msg = JSON.parse(typeof ev.data === "string" ? ev.data : "");
      } catch {
        return;
      }
      if ((msg as { type?: unknown } | null)?.type === "ping") {
        this.send({ type: "pong" });
        return;
      }
      const event = parseLiveEvent(msg);
      if (event) this.opts.onEvent(event);
    };
    ws.onerror = () => {
      /* a close event always follows; reconnect is handled there */
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (AUTH_CLOSE_CODES.has(ev.code)) {
        this.setStatus("unauthorized", null);
        return;
      }
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    const delay = backoffDelay(this.attempt, this.opts.baseDelayMs, this.opts.maxDelayMs, this.opts.random);
    this.attempt += 1;
    this.setStatus("reconnecting", delay);
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.connect();
    }, delay);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private setStatus(status: LiveStatus, retryInMs: number | null): void {
    this._status = status;
    this.opts.onStatus?.(status, { attempt: this.attempt, retryInMs });
  }
}
