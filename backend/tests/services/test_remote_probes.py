"""Remote probes end to end: a real hub on loopback, probes at two locations, a hub outage.

The probes run in process (the same ProbeAgent `python -m app probe` runs) and reach the hub
through a loopback relay the test can cut, as a broken uplink would.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
import ssl
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from app.main import create_app
from app.plugins.registry import PluginRegistry
from app.services.probes.agent import ProbeAgent, ProbeConfigError, ProbeOptions, client_for
from tests.conftest import make_settings, setup_admin
from tests.live import serve_in_process
from tests.plugins.conftest import make_self_signed

BOUND = 60.0  # the longest any wait below may take before the test fails (never a success test)


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + BOUND
    while not await check():
        if loop.time() > give_up:
            raise AssertionError(f"still not true after {BOUND:g} s: {what}")
        await asyncio.sleep(0.1)


class Relay:
    """A loopback TCP relay to the hub: `cut()` refuses and drops connections until restore."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = 0
        self.server: asyncio.Server | None = None
        self.conns: set[asyncio.StreamWriter] = set()

    async def start(self) -> Relay:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.close()
            return
        self.conns |= {writer, up_w}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))
        self.conns -= {writer, up_w}

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in list(self.conns):
            w.transport.abort()
        await self.server.wait_closed()

    async def restore(self) -> None:
        await self.start()


async def make_token(c: httpx.AsyncClient, admin: dict[str, str], location: str) -> str:
    r = await c.post(
        "/api/v1/tokens",
        json={"name": location, "scope": "probe", "location": location},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


async def test_two_probes_ride_out_a_hub_outage_and_k_of_n_follows_them(
    database_url: str, tmp_path: Path
) -> None:
    target = socket.socket()  # the tcp check's target: a real loopback listener
    target.bind(("127.0.0.1", 0))
    target.listen(64)
    port = target.getsockname()[1]
    settings = make_settings(database_url, tmp_path, probe_watch_seconds=1)
    app = create_app(settings)
    async with serve_in_process(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as c:
        admin = await setup_admin(c)
        tokens = {loc: await make_token(c, admin, loc) for loc in ("site-a", "site-b")}
        r = await c.post(
            "/api/v1/plugins",
            json={
                "name": "nas port",
                "type": "tcp",
                "config": {"host": "127.0.0.1", "port": port, "timeout_seconds": 1},
                "interval_seconds": 1,
                "timeout_seconds": 1,
                "locations": ["site-a", "site-b"],
            },
            headers=admin,
        )
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        relay = await Relay(int(host.rsplit(":", 1)[1])).start()
        registry = PluginRegistry().load()
        agents, stops, tasks = {}, {}, {}
        for loc, token in tokens.items():
            options = ProbeOptions(
                hub=f"http://127.0.0.1:{relay.port}",
                token=token,
                location=loc,
                spool_dir=tmp_path / f"spool-{loc}",
                heartbeat_seconds=1,
                flush_seconds=0.2,
            )
            agents[loc] = ProbeAgent(options, settings, registry)
            stops[loc] = asyncio.Event()
            tasks[loc] = asyncio.create_task(agents[loc].run(stops[loc]))
        try:
            await until(
                lambda: _true(all(a.sent >= 2 for a in agents.values())), "both probes deliver"
            )
            health = (await c.get(f"/api/v1/plugins/{pid}/health", headers=admin)).json()
            assert health["status"] == "healthy"

            # The uplink breaks: each probe keeps measuring into its spool.
            await relay.cut()
            cut_at = datetime.now(UTC)
            runs_at_cut = {loc: a.runs for loc, a in agents.items()}
            await until(
                lambda: _true(
                    all(
                        not a.connected and a.runs - runs_at_cut[loc] >= 5
                        for loc, a in agents.items()
                    )
                ),
                "both probes measure five more times while the hub is cut off",
            )
            assert all(a.spool.pending() >= 4 for a in agents.values())
            runs_before = {loc: a.runs for loc, a in agents.items()}
            restored_at = datetime.now(UTC)
            await relay.restore()
            # Every result measured during the outage reaches the hub, oldest first.
            await until(
                lambda: _true(all(a.sent >= runs_before[loc] for loc, a in agents.items())),
                "the spools drain after the hub is back",
            )
            for loc in ("site-b",):  # B goes away entirely (its machine is off)
                stops[loc].set()
                await tasks[loc]
            b = agents["site-b"]
            assert b.spool.dropped_total == 0
            probes = {
                p["location"]: p for p in (await c.get("/api/v1/probes", headers=admin)).json()
            }
            # the hub counted exactly what B sent: nothing lost, nothing twice
            assert probes["site-b"]["results_total"] == b.sent
            assert b.sent + b.spool.pending() == b.runs
            # and the outage's samples are stored, labelled with their location (the hub answers
            # a batch once its samples are buffered: they are read after the writer's flush)
            await app.state.unity.writer.flushed()
            series = (
                await c.get(f"/api/v1/metrics/series?plugin_id={pid}&name=up", headers=admin)
            ).json()["items"]
            (up_b,) = [s for s in series if s["labels"].get("location") == "site-b"]
            q = await c.get(
                "/api/v1/metrics/query",
                params={
                    "series_id": up_b["id"],
                    "start": cut_at.isoformat(),
                    "end": restored_at.isoformat(),
                    "points": 1000,
                },
                headers=admin,
            )
            # at least four runs started after the cut (one may have begun before it)
            assert len(q.json()["series"][0]["points"]) >= 3, q.text

            # B silent for three heartbeats: down on the hub, and (K=1) the plugin is down.
            async def b_down() -> bool:
                r = await c.get("/api/v1/probes", headers=admin)
                return {p["location"]: p["status"] for p in r.json()}.get("site-b") == "down"

            await until(b_down, "probe B shows down once silent for 3 heartbeats")

            async def health_is(status: str) -> bool:
                r = await c.get(f"/api/v1/plugins/{pid}/health", headers=admin)
                return bool(r.json()["status"] == status)

            await until(lambda: health_is("down"), "K=1: B's silence alone makes it down")
            # K=2: one location down out of two is not enough
            r = await c.patch(f"/api/v1/plugins/{pid}", json={"down_quorum": 2}, headers=admin)
            assert r.status_code == 200, r.text
            await until(lambda: health_is("degraded"), "K=2: 1 of 2 down is degraded")
            view = (await c.get(f"/api/v1/plugins/{pid}/locations", headers=admin)).json()
            by = {loc["location"]: loc for loc in view["locations"]}
            assert by["site-a"]["status"] == "healthy" and by["site-b"]["probe_status"] == "down"
            # Now the target itself stops: A sees it down too, 2 of 2.
            target.close()
            await until(lambda: health_is("down"), "K=2: both locations down")
            health = (await c.get(f"/api/v1/plugins/{pid}/health", headers=admin)).json()
            assert health["last_error"].startswith("down from 2 of 2 locations (K=2)")
        finally:
            for loc in agents:
                stops[loc].set()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
            await relay.cut()
            target.close()


async def _true(value: bool) -> bool:
    return value


async def test_the_hub_certificate_is_verified_or_pinned(database_url: str, tmp_path: Path) -> None:
    cert, key = make_self_signed(tmp_path)
    der = x509.load_pem_x509_certificate(cert.read_bytes()).public_bytes(Encoding.DER)
    right = hashlib.sha256(der).hexdigest()
    wrong = hashlib.sha256(b"another certificate").hexdigest()
    settings = make_settings(database_url, tmp_path)
    app = create_app(settings)
    async with serve_in_process(app, ssl_certfile=str(cert), ssl_keyfile=str(key)) as host:
        hub = f"https://{host}"
        pinned = ssl.create_default_context(cafile=str(cert))
        async with httpx.AsyncClient(base_url=hub, verify=pinned) as c:
            admin = await setup_admin(c)
            token = await make_token(c, admin, "site-a")

        async def beat(**extra: Any) -> bool:
            options = ProbeOptions(
                hub=hub, token=token, location="site-a", spool_dir=tmp_path / "s", **extra
            )
            agent = ProbeAgent(options, settings, PluginRegistry())
            try:
                return await agent.heartbeat()
            finally:
                await agent.client.aclose()

        assert await beat() is False  # self-signed, no pin: verification refuses it
        assert await beat(fingerprint=wrong) is False  # pinned to another certificate
        async with httpx.AsyncClient(base_url=hub, verify=pinned) as c:
            probes = (await c.get("/api/v1/probes", headers=admin)).json()
            assert probes == []  # nothing (the token included) reached the hub
        assert await beat(fingerprint=right) is True
        assert await beat(ca_file=cert) is True


def test_plain_http_is_refused_beyond_loopback_unless_allowed(tmp_path: Path) -> None:
    def options(hub: str, **extra: Any) -> ProbeOptions:
        return ProbeOptions(hub=hub, token="t", location="a", spool_dir=tmp_path, **extra)

    with pytest.raises(ProbeConfigError, match="plain http to another machine"):
        client_for(options("http://192.0.2.10:8000"))
    client_for(options("http://127.0.0.1:8000"))
    client_for(options("http://192.0.2.10:8000", allow_http=True))
    with pytest.raises(ProbeConfigError, match="needs an https hub"):
        client_for(options("http://127.0.0.1:8000", fingerprint="00" * 32))
    # the command line says the same, and exits 1 before any connection
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "probe",
            "--hub",
            "http://192.0.2.10",
            "--location",
            "a",
            "--token",
            "unity_x",
            "--spool-dir",
            str(tmp_path / "spool"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 1
    assert "plain http to another machine" in done.stderr
