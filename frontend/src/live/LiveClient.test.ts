import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LiveClient, backoffDelay, liveUrl, type LiveStatus } from "./LiveClient";
import { FakeWebSocket } from "../test/fakes";

function make(extra: Partial<ConstructorParameters<typeof LiveClient>[0]> = {}) {
  const statuses: LiveStatus[] = [];
  const messages: unknown[] = [];
  const onReconnect = vi.fn();
  const client = new LiveClient({
    url: () => "ws://unity.test/ws/metrics?token=t",
    onEvent: (m) => messages.push(m),
    onStatus: (s) => statuses.push(s),
    onReconnect,
    WebSocketImpl: FakeWebSocket as unknown as typeof WebSocket,
    baseDelayMs: 500,
    maxDelayMs: 8000,
    random: () => 1, // no jitter: delay = the ceiling
    ...extra,
  });
  return { client, statuses, messages, onReconnect };
}

describe("LiveClient", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeWebSocket.reset();
  });
  afterEach(() => vi.useRealTimers());

  it("subscribes to all plugins once open and forwards messages", () => {
    const { client, statuses, messages } = make();
    client.start();
    const ws = FakeWebSocket.last();
    expect(ws.url).toBe("ws://unity.test/ws/metrics?token=t");
    ws.open();
    expect(JSON.parse(ws.sent[0])).toEqual({ type: "subscribe", plugins: "all" });
    ws.receive({ type: "metrics", plugin_id: 1, ts: "2026-01-01T00:00:00Z", samples: [] });
    expect(messages).toHaveLength(1);
    expect(statuses).toEqual(["connecting", "open"]);
    expect(client.status).toBe("open");
  });

  it("forwards only the event shapes the server documents", () => {
    const { client, messages } = make();
    client.start();
    const ws = FakeWebSocket.last();
    ws.open();
    ws.receive({ type: "run", plugin_id: 1, run_id: 7, status: "success" }); // no `run` object
    ws.receive({ type: "health", plugin_id: 1, status: "down" }); // no `health` object
    ws.receive({ type: "gossip", plugin_id: 1 });
    ws.receive({ type: "health", plugin_id: 1, health: { status: "down", consecutive_failures: 3, last_run_at: null, last_success_at: null, last_error: "x" } });
    expect(messages).toEqual([expect.objectContaining({ type: "health", plugin_id: 1 })]);
  });

  it("answers server pings and does not forward them", () => {
    const { client, messages } = make();
    client.start();
    const ws = FakeWebSocket.last();
    ws.open();
    ws.receive({ type: "ping" });
    expect(messages).toHaveLength(0);
    expect(JSON.parse(ws.sent[1])).toEqual({ type: "pong" });
  });

  it("reconnects with exponential backoff and resets after a successful open", () => {
    const { client, onReconnect } = make();
    client.start();
    FakeWebSocket.last().open();
    FakeWebSocket.last().serverClose();
    expect(client.status).toBe("reconnecting");
    expect(FakeWebSocket.instances).toHaveLength(1);

    // attempt 0 → 500 ms
    vi.advanceTimersByTime(499);
    expect(FakeWebSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.instances).toHaveLength(2);

    // the retry fails too: attempt 1 → 1000 ms, attempt 2 → 2000 ms
    FakeWebSocket.last().serverClose();
    vi.advanceTimersByTime(999);
    expect(FakeWebSocket.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.instances).toHaveLength(3);
    FakeWebSocket.last().serverClose();
    vi.advanceTimersByTime(1999);
    expect(FakeWebSocket.instances).toHaveLength(3);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.instances).toHaveLength(4);

    // success: the next drop waits the base delay again and onReconnect fires
    FakeWebSocket.last().open();
    expect(onReconnect).toHaveBeenCalledTimes(1);
    expect(client.status).toBe("open");
    FakeWebSocket.last().serverClose();
    vi.advanceTimersByTime(500);
    expect(FakeWebSocket.instances).toHaveLength(5);
  });

  it("caps the delay", () => {
    expect(backoffDelay(0, 500, 8000, () => 1)).toBe(500);
    expect(backoffDelay(3, 500, 8000, () => 1)).toBe(4000);
    expect(backoffDelay(10, 500, 8000, () => 1)).toBe(8000);
    // jitter keeps at least half the ceiling
    expect(backoffDelay(10, 500, 8000, () => 0)).toBe(4000);
  });

  it("stops retrying when the server refuses the token", () => {
    const { client } = make();
    client.start();
    FakeWebSocket.last().serverClose(1008);
    expect(client.status).toBe("unauthorized");
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it("retryNow skips the remaining backoff; stop cancels everything", () => {
    const { client } = make({ maxDelayMs: 30_000, baseDelayMs: 10_000 });
    client.start();
    FakeWebSocket.last().serverClose();
    client.retryNow();
    expect(FakeWebSocket.instances).toHaveLength(2);
    FakeWebSocket.last().serverClose();
    client.stop();
    vi.advanceTimersByTime(120_000);
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(client.status).toBe("idle");
  });

  it("builds same-origin ws/wss URLs", () => {
    // No token in the URL (access logs print query strings): the handshake carries the cookie.
    expect(liveUrl({ protocol: "https:", host: "h:8443" } as Location)).toBe("wss://h:8443/ws/metrics");
    expect(liveUrl({ protocol: "http:", host: "h" } as Location)).toBe("ws://h/ws/metrics");
  });
});
