"""A remote probe: runs the plugins assigned to its location and reports to the hub over HTTPS.

Only outbound HTTP(S) to the hub. It heartbeats every `heartbeat_seconds` (the answer's etag
says when its assignments changed), runs each plugin with the hub's own runner (timeout, sample
limits, blocking detection), and writes results to an on-disk spool, sent oldest first in gzip
batches. While the hub is unreachable the spool grows up to its size and age limits; what it
drops is counted and reported with the next heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import json
import logging
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import httpx
from pydantic import ValidationError

from app.core.config import Settings
from app.plugins.base import HostPaths, Plugin, PluginContext, Sample
from app.plugins.builtin._tls_pin import pinned_context
from app.plugins.registry import PluginRegistry
from app.services.metrics.writer import MetricsWriter
from app.services.plugins import runner
from app.services.plugins.recorder import RunRecord, RunRecorder
from app.services.probes.spool import Spool

log = logging.getLogger(__name__)

VERSION = "1"
BATCH_RESULTS = 500  # results per request body (a spool file)


@dataclass
class ProbeOptions:
    hub: str
    token: str
    location: str
    spool_dir: Path
    fingerprint: str | None = None
    ca_file: Path | None = None
    allow_http: bool = False
    spool_max_bytes: int = 64 * 1024 * 1024
    spool_max_age_seconds: float = 24 * 3600
    heartbeat_seconds: int = 10
    flush_seconds: float = 2.0


class ProbeConfigError(ValueError):
    """A setting that cannot work; the sentence says what to change."""


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def client_for(options: ProbeOptions) -> httpx.AsyncClient:
    """The HTTP client for the hub: certificate verified, or pinned, or plain http on loopback."""
    url = urlsplit(options.hub)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ProbeConfigError(
            f"--hub must be an http(s) URL like https://unity.example; got {options.hub!r}"
        )
    verify: ssl.SSLContext | bool = True
    if url.scheme == "http":
        if not (_loopback(url.hostname) or options.allow_http):
            raise ProbeConfigError(
                f"--hub {options.hub} is plain http to another machine: the token and every "
                "secret would cross the network readable. Use https, or pass --allow-http if "
                "this link is private (a VPN, a tunnel)."
            )
        if options.fingerprint:
            raise ProbeConfigError("--fingerprint pins a TLS certificate: it needs an https hub.")
    elif options.fingerprint:
        try:
            verify = pinned_context(options.fingerprint)
        except ValueError as exc:
            raise ProbeConfigError(f"--fingerprint {exc}") from None
    elif options.ca_file:
        verify = ssl.create_default_context(cafile=str(options.ca_file))
    return httpx.AsyncClient(
        base_url=options.hub.rstrip("/"),
        verify=verify,
        timeout=httpx.Timeout(15.0, connect=5.0),
        headers={
            "Authorization": f"Bearer {options.token}",
            "User-Agent": f"unity-probe/{VERSION}",
        },
        trust_env=False,
    )


class _Collect:
    """Stands in for the hub's writer and run recorder: the runner hands the run over here."""

    def begin(
        self, plugin_id: int, trigger: str, started: datetime, lateness_ms: float | None
    ) -> RunRecord:
        return RunRecord(plugin_id, trigger, started, lateness_ms)

    async def finish(self, record: RunRecord, *args: Any, **kwargs: Any) -> None:
        record.saved.set()

    def submit(self, plugin_id: int, ts: datetime, samples: list[Sample]) -> _Written:
        return _Written()


class _Written:
    """A batch already "written" (the runner awaits `written` only for manual runs)."""

    def __init__(self) -> None:
        self.written = asyncio.Event()
        self.written.set()


def _sample(s: Sample) -> dict[str, Any]:
    return {"name": s.name, "value": s.value, "unit": s.unit, "labels": dict(s.labels)}


class ProbeAgent:
    def __init__(
        self,
        options: ProbeOptions,
        settings: Settings,
        registry: PluginRegistry,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.options = options
        self.settings = settings
        self.registry = registry
        self.client = client or client_for(options)
        self.spool = Spool(
            options.spool_dir, options.spool_max_bytes, options.spool_max_age_seconds
        )
        self.executor = ThreadPoolExecutor(4, thread_name_prefix="probe")
        self.etag: str | None = None
        self.connected: bool | None = None  # None: not tried yet
        self.sent = 0
        self.runs = 0
        self._pending: list[dict[str, Any]] = []
        self._running: dict[int, tuple[str, asyncio.Task[None], Plugin]] = {}
        self._wake = asyncio.Event()
        self.fatal: str | None = None
        self._stopping = False

    # ----------------------------------------------------------------- lifecycle
    async def run(self, stop: asyncio.Event) -> None:
        loops = [
            asyncio.create_task(self._heartbeat_loop(), name="probe-heartbeat"),
            asyncio.create_task(self._sender_loop(), name="probe-sender"),
        ]
        try:
            await stop.wait()
        finally:
            # The sender finishes the request in flight: cut mid-way, the hub could have taken
            # a batch the spool still holds, and it would be sent twice.
            self._stopping = True
            self._wake.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(loops[1]), 20)
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await self._stop_plugins(list(self._running))
            self._flush()  # nothing measured is lost on a clean stop: it waits in the spool
            await self.client.aclose()
            self.executor.shutdown(wait=False, cancel_futures=True)

    # ----------------------------------------------------------------- talking to the hub
    async def heartbeat(self) -> bool:
        body = {
            "heartbeat_seconds": self.options.heartbeat_seconds,
            "version": VERSION,
            "spooled": self.spool.pending() + len(self._pending),
            "dropped_total": self.spool.dropped_total,
        }
        try:
            r = await self.client.post("/api/v1/probes/heartbeat", json=body)
        except httpx.HTTPError as exc:
            self._unreachable(exc)
            return False
        if r.status_code in (401, 403):
            self._refused(r)
            return False
        if r.status_code != 200:
            self._unreachable(f"HTTP {r.status_code}")
            return False
        answer = r.json()
        if answer.get("location") != self.options.location:
            self.fatal = (
                f"this token belongs to location {answer.get('location')!r}, not "
                f"{self.options.location!r}: start the probe with --location "
                f"{answer.get('location')} or use that location's token"
            )
            log.error("%s", self.fatal)
            return False
        if not self.connected:
            log.info(
                "connected to the hub: %d results waiting in the spool, %d dropped so far",
                body["spooled"],
                self.spool.dropped_total,
                extra={"location": self.options.location},
            )
            self._wake.set()  # send the spool now
        self.connected = True
        if answer.get("etag") != self.etag:
            await self.refresh()
        return True

    def _unreachable(self, why: object) -> None:
        if self.connected is not False:
            log.warning(
                "the hub is unreachable (%s); results wait in the spool (%s)",
                why,
                self.spool.dir,
                extra={"location": self.options.location},
            )
        self.connected = False

    def _refused(self, r: httpx.Response) -> None:
        try:
            detail = r.json().get("detail", r.text)
        except ValueError:
            detail = r.text
        log.error("the hub refused this probe's token (HTTP %d): %s", r.status_code, detail)
        self.connected = False

    async def refresh(self) -> None:
        """Fetch the assignments and start, restart or stop plugin loops to match."""
        r = await self.client.get("/api/v1/probes/assignments")
        if r.status_code != 200:
            self._refused(r)
            return
        answer = r.json()
        wanted: dict[int, tuple[str, dict[str, Any]]] = {}
        for a in answer["plugins"]:
            key = hashlib.sha256(json.dumps(a, sort_keys=True).encode()).hexdigest()
            wanted[int(a["id"])] = (key, a)
        gone = [
            pid for pid, (key, _, _) in self._running.items() if wanted.get(pid, ("",))[0] != key
        ]
        await self._stop_plugins(gone)
        for pid, (key, a) in wanted.items():
            if pid not in self._running:
                impl = self._build(a)
                task = asyncio.create_task(self._plugin_loop(a, impl), name=f"probe-plugin-{pid}")
                self._running[pid] = (key, task, impl)
        self.etag = answer["etag"]
        log.info("running %d assigned plugins", len(self._running))

    async def send_spool(self) -> int:
        """Send waiting batches oldest first until one fails; results delivered."""
        delivered = 0
        for path in self.spool.files():
            try:
                r = await self.client.post(
                    "/api/v1/probes/results",
                    content=path.read_bytes(),
                    headers={
                        "Content-Encoding": "gzip",
                        "Content-Type": "application/json",
                        # Sent again after a lost answer, the batch is not stored twice.
                        "Idempotency-Key": path.name,
                    },
                )
            except httpx.HTTPError as exc:
                self._unreachable(exc)
                break
            except FileNotFoundError:
                continue  # dropped by a limit meanwhile
            if r.status_code == 200:
                count = self.spool.count_of(path)
                self.spool.done(path)
                delivered += count
                self.sent += count
            elif r.status_code in (401, 403):
                self._refused(r)
                break
            elif r.status_code in (400, 413, 422):
                # The hub will never take this batch: keeping it would block all later ones.
                count = self.spool.count_of(path)
                log.error("the hub refused a batch of %d results: %s; dropped", count, r.text)
                self.spool.done(path)
                self.spool.count_dropped(count)
            else:
                self._unreachable(f"HTTP {r.status_code}")
                break
        return delivered

    # ----------------------------------------------------------------- loops
    async def _heartbeat_loop(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                await self.heartbeat()
            await asyncio.sleep(self.options.heartbeat_seconds)

    async def _sender_loop(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.options.flush_seconds)
            self._wake.clear()
            if self._stopping:
                return
            try:
                self._flush()
                self.spool.enforce()
                if self.connected is not False or self.spool.files():
                    await self.send_spool()
            except Exception as exc:
                log.warning("sending results failed: %s", exc)

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for i in range(0, len(pending), BATCH_RESULTS):
            self.spool.put(pending[i : i + BATCH_RESULTS])

    def _build(self, a: dict[str, Any]) -> Plugin:
        entry = self.registry.get(a["type"])
        if entry is None or entry.cls is None or not entry.available:
            why = entry.error if entry else "not installed"
            return runner.BrokenInstance(
                f"plugin type {a['type']!r} is unavailable on this probe: {why}"
            )
        try:
            config = entry.cls.Config.model_validate(a["config"])
        except ValidationError as exc:
            return runner.BrokenInstance(f"the config does not fit this probe's plugin: {exc}")
        ctx = PluginContext(
            int(a["id"]),
            self.settings.data_dir,
            self.executor,
            host=HostPaths(self.settings.host_proc, self.settings.host_root),
        )
        return entry.cls(config, ctx)

    async def _stop_plugins(self, ids: list[int]) -> None:
        for pid in ids:
            _, task, impl = self._running.pop(pid)
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            with contextlib.suppress(Exception):
                await asyncio.wait_for(impl.close(), 5)

    async def _plugin_loop(self, a: dict[str, Any], impl: Plugin) -> None:
        loop = asyncio.get_running_loop()
        interval = float(a["interval_seconds"])
        due = loop.time()
        while True:
            await self.run_once(a, impl)
            due += interval
            if due < loop.time():  # a run longer than the interval: coalesce, like the hub
                due = loop.time()
            await asyncio.sleep(due - loop.time())

    async def run_once(self, a: dict[str, Any], impl: Plugin) -> None:
        sink = _Collect()
        samples: list[Sample] = []
        result = await runner.execute(
            int(a["id"]),
            impl,
            float(a["timeout_seconds"]),
            settings=self.settings,
            writer=cast(MetricsWriter, sink),
            recorder=cast(RunRecorder, sink),
            samples_out=samples,
        )
        self.runs += 1
        self._pending.append(
            {
                "plugin_id": result.plugin_id,
                "started_at": result.started_at.isoformat(),
                "finished_at": result.finished_at.isoformat(),
                "status": result.status,
                "error": result.error,
                "duration_ms": result.duration_ms,
                "samples": [_sample(s) for s in samples],
            }
        )
