"""The real-time hub: fans events out to WebSocket clients, locally or through Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from app.core.config import Settings
from app.core.worker import Backoff, error_text

log = logging.getLogger(__name__)

CLOSE_POLICY = 1008  # authentication or origin refused
CLOSE_TOO_SLOW = 1013  # "try again later": the client's send queue overflowed
CLOSE_GOING_AWAY = 1001  # server shutting down
STOP_SEND_SECONDS = 2.0  # at shutdown, how long events still waiting for Redis may take
REDIS_CONNECTIONS = 32  # publishing connections at most (and the subscription's)
REDIS_POOL_WAIT_SECONDS = 5.0


class Socket(Protocol):
    """What the hub needs of an accepted WebSocket (the API layer adapts Starlette's)."""

    async def send_text(self, data: str) -> None: ...
    async def receive_text(self) -> str: ...
    async def close(self, code: int, reason: str) -> None: ...


@dataclass(eq=False)
class Client:
    ws: Socket
    user: str
    queue: asyncio.Queue[str]
    plugins: set[int] | None = None  # None means all
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    close_code: int = 1000
    close_reason: str = ""

    def wants(self, plugin_id: int | None) -> bool:
        return self.plugins is None or plugin_id is None or plugin_id in self.plugins

    def close(self, code: int, reason: str) -> None:
        if not self.closed.is_set():
            self.close_code, self.close_reason = code, reason
            self.closed.set()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def encode(event: dict[str, Any]) -> str:
    return json.dumps(event, default=_json_default, separators=(",", ":"))


class Hub:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clients: set[Client] = set()
        self.instance_id = uuid.uuid4().hex
        self.dropped_clients = 0
        self.events_published = 0
        # In-process consumers of this replica's own events (alert evaluation, for instance).
        self.listeners: list[Callable[[dict[str, Any]], Awaitable[None]]] = []
        # Views of every replica's events (the latest values): each event once, from Redis
        # when it is set (this replica's own come back through it too), else as published.
        self.views: list[Callable[[dict[str, Any]], None]] = []
        self._redis: Any = None
        self._listener: asyncio.Task[None] | None = None
        self.redis_error: str | None = None
        # Events waiting for Redis, sent by one task in one pipeline each time it gets the loop:
        # one round trip for a burst (a worker finishing hundreds of runs) instead of one each.
        self._outbox: list[tuple[int | None, str, dict[str, Any]]] = []
        self._sender: asyncio.Task[None] | None = None

    # ----------------------------------------------------------------- lifecycle
    async def start(self, listen: bool = True) -> None:
        """`listen=False`: publish only (a worker has no WebSocket clients to deliver to)."""
        if self.settings.redis_url:
            import redis.asyncio as aioredis

            # A bounded pool that waits for a free connection: a burst of publishes (a worker
            # finishing hundreds of runs at once) queues instead of failing past the limit.
            pool = aioredis.BlockingConnectionPool.from_url(
                self.settings.redis_url,
                decode_responses=True,
                max_connections=REDIS_CONNECTIONS,
                timeout=REDIS_POOL_WAIT_SECONDS,
            )
            self._redis = aioredis.Redis(connection_pool=pool)
            if listen:
                self._listener = asyncio.create_task(self._listen(), name="ws-redis-listener")

    async def stop(self) -> None:
        if self._sender is not None:  # what was published before the stop still goes out
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._sender, STOP_SEND_SECONDS)
        for client in list(self.clients):
            client.close(CLOSE_GOING_AWAY, "server shutting down")
        if self._listener:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        if self._redis is not None:
            await self._redis.aclose()

    # ----------------------------------------------------------------- publishing
    async def publish_metrics(self, plugin_id: int, ts: datetime, samples: list[Any]) -> None:
        await self.publish(
            {
                "type": "metrics",
                "plugin_id": plugin_id,
                "ts": ts,
                "samples": [
                    {
                        "series_id": sid,
                        "name": s.name,
                        "value": float(s.value),
                        "unit": unit,
                        "labels": s.labels,
                    }
                    for (sid, unit), s in samples
                ],
            }
        )

    async def publish(self, event: dict[str, Any]) -> None:
        """Send an event to every interested client (on every replica when Redis is set)."""
        for listener in self.listeners:
            try:
                await listener(event)
            except Exception:
                log.exception("event listener failed")
        self.events_published += 1
        if self._redis is None and not self.clients:
            self._view(event)
            return  # nobody to send it to: do not encode it
        data = encode(event)
        if self._redis is None:
            self._view(event)
            self.deliver(event.get("plugin_id"), data)
            return
        self._outbox.append((event.get("plugin_id"), data, event))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_outbox(), name="ws-redis-publisher")

    async def _send_outbox(self) -> None:
        """Publish what waits, in order, one pipeline per turn, until nothing waits."""
        while self._outbox:
            batch, self._outbox = self._outbox, []
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for _, data, _ in batch:
                        pipe.publish(self.settings.redis_channel, data)
                    await pipe.execute()
                self.redis_error = None
            except Exception as exc:  # Redis down: at least this replica's clients get them
                if self.redis_error is None:
                    log.warning("Redis publish failed, delivering locally only: %s", exc)
                self.redis_error = error_text(exc)
                for plugin_id, data, event in batch:
                    self._view(event)
                    self.deliver(plugin_id, data)

    def _view(self, event: dict[str, Any]) -> None:
        for view in self.views:
            try:
                view(event)
            except Exception:
                log.exception("event view failed")

    def deliver(self, plugin_id: int | None, data: str) -> None:
        for client in list(self.clients):
            if client.closed.is_set() or not client.wants(plugin_id):
                continue
            try:
                client.queue.put_nowait(data)
            except asyncio.QueueFull:
                self.dropped_clients += 1
                log.warning("dropping a slow WebSocket client", extra={"user": client.user})
                client.close(CLOSE_TOO_SLOW, "send queue full: client too slow, reconnect")

    async def _listen(self) -> None:
        backoff = Backoff()
        while True:
            try:
                pubsub = self._redis.pubsub()
                await pubsub.subscribe(self.settings.redis_channel)
                backoff.reset()
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    data = message["data"]
                    try:
                        event = json.loads(data)
                    except ValueError:
                        continue
                    self._view(event)
                    self.deliver(event.get("plugin_id"), data)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.redis_error = error_text(exc)
                delay = backoff.failed()
                log.warning("Redis subscription lost, retrying in %.1fs: %s", delay, exc)
                await asyncio.sleep(delay)

    # ----------------------------------------------------------------- one connection
    async def serve(self, ws: Socket, user: str) -> None:
        """Pump events to an authenticated, accepted socket and read its subscriptions."""
        client = Client(ws, user, asyncio.Queue(self.settings.ws_queue_size))
        self.clients.add(client)
        log.info("WebSocket client connected", extra={"user": user, "clients": len(self.clients)})
        tasks = [
            asyncio.create_task(self._send_loop(client)),
            asyncio.create_task(self._receive_loop(client)),
            asyncio.create_task(self._ping_loop(client)),
        ]
        try:
            await client.closed.wait()
        finally:
            self.clients.discard(client)
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            try:
                await asyncio.wait_for(ws.close(client.close_code, client.close_reason), 2)
            except Exception as exc:  # already gone: nothing to close
                log.debug("closing a WebSocket failed: %s", exc, extra={"user": user})
            log.info(
                "WebSocket client disconnected",
                extra={
                    "user": user,
                    "code": client.close_code,
                    "reason": client.close_reason or "-",
                },
            )

    async def _send_loop(self, client: Client) -> None:
        try:
            while True:
                data = await client.queue.get()
                await client.ws.send_text(data)
        except Exception as exc:  # the client went away: the usual end of a connection
            log.debug("WebSocket send ended: %s", exc, extra={"user": client.user})
            client.close(1000, "")

    async def _ping_loop(self, client: Client) -> None:
        while True:
            await asyncio.sleep(self.settings.ws_ping_seconds)
            try:
                client.queue.put_nowait(encode({"type": "ping"}))
            except asyncio.QueueFull:
                client.close(CLOSE_TOO_SLOW, "send queue full: client too slow, reconnect")

    async def _receive_loop(self, client: Client) -> None:
        try:
            while True:
                raw = await client.ws.receive_text()
                reply = self.handle_message(client, raw)
                if reply is not None:
                    with contextlib.suppress(asyncio.QueueFull):
                        client.queue.put_nowait(encode(reply))
        except Exception as exc:  # the client went away: the usual end of a connection
            log.debug("WebSocket receive ended: %s", exc, extra={"user": client.user})
            client.close(1000, "")

    @staticmethod
    def handle_message(client: Client, raw: str) -> dict[str, Any] | None:
        try:
            msg = json.loads(raw)
        except ValueError:
            return {"type": "error", "detail": "Messages must be JSON objects with a 'type'."}
        if not isinstance(msg, dict):
            return {"type": "error", "detail": "Messages must be JSON objects with a 'type'."}
        kind = msg.get("type")
        if kind == "subscribe":
            plugins = msg.get("plugins", "all")
            if plugins == "all":
                client.plugins = None
            elif isinstance(plugins, list) and all(
                isinstance(p, int) and not isinstance(p, bool) for p in plugins
            ):
                client.plugins = set(plugins)
            else:
                return {
                    "type": "error",
                    "detail": "'plugins' must be \"all\" or a list of plugin ids.",
                }
            return {
                "type": "subscribed",
                "plugins": "all" if client.plugins is None else sorted(client.plugins),
            }
        if kind == "pong" or kind == "ping":
            return {"type": "pong"} if kind == "ping" else None
        return {"type": "error", "detail": f"Unknown message type {kind!r}; use 'subscribe'."}
