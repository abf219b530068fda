"""The compose topology without containers: nginx (frontend/nginx.conf) -> backend -> PostgreSQL.

The backend runs as `python -m app serve` with the environment docker-compose.yml gives it (secrets
from `make env`), on a fresh PostgreSQL database; nginx runs the project's own nginx.conf with only
the upstream address, the listen port and the root replaced. Everything is driven through nginx,
as a browser on port 80 would: /health, the SPA, setup, login, a plugin and its runs, /ws/metrics.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import websockets

from tests.conftest import skip_or_fail
from tests.live import free_port

from .conftest import BACKEND, REPO, need, resolved

PASSWORD = "correct-horse-battery"
SPA_INDEX = (
    '<!doctype html><html><head><script type="module" src="/assets/app-1a2b.js"></script>'
    '</head><body><div id="root"></div></body></html>'
)


def wait_for(
    url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60
) -> httpx.Response:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"process exited with {proc.returncode} before {url} answered:\n{tail(log)}"
            )
        try:
            r = httpx.get(url, timeout=2)
            if r.status_code == 200:
                return r
            last = r.status_code
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer 200 within {timeout:.0f} s (last: {last}):\n{tail(log)}")


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, grace: float = 10) -> float:
    """Send `sig`, wait up to `grace` seconds (then kill); returns how long the stop took."""
    start = time.monotonic()
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return time.monotonic() - start


@dataclass
class Stack:
    backend: str
    web: str
    backend_proc: subprocess.Popen[bytes]
    backend_log: Path
    root: Path  # what nginx serves (the built SPA's place)


def compose_backend_env(compose_bin: Path, env_file: Path) -> dict[str, str]:
    model = resolved(compose_bin, "docker-compose.yml", env_file)
    env: dict[str, str] = model["services"]["backend"]["environment"]
    return {k: "" if v is None else str(v) for k, v in env.items()}


def nginx_site(conf: str, backend_port: int, listen_port: int, root: Path) -> str:
    """frontend/nginx.conf with exactly three things replaced: upstream, listen port and root."""
    conf, v6 = re.subn(r"listen \[::\]:80;", "", conf)  # optional; the test listens on loopback
    assert v6 <= 1
    replacements = [
        (r"listen 80;", f"listen 127.0.0.1:{listen_port};"),
        (r"root /usr/share/nginx/html;", f"root {root};"),
        (r"http://backend:8000", f"http://127.0.0.1:{backend_port}"),
    ]
    for pattern, new in replacements:
        conf, count = re.subn(pattern, new, conf)
        assert count == 1, f"frontend/nginx.conf: expected one {pattern!r}, found {count}"
    return conf


def nginx_main(tmp: Path, site: Path) -> str:
    # As root, workers would drop to `nobody`, who cannot read pytest's private temp dirs.
    user = "user root;" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {tmp / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}
daemon off;
worker_processes 1;
pid {tmp / "nginx.pid"};
error_log {tmp / "error.log"} info;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {tmp / "access.log"};
{temp}
    include {site};
}}
"""


@pytest.fixture
def stack(compose_bin: Path, env_file: Path, pg_url: str, tmp_path: Path) -> Iterator[Stack]:
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/bin/nginx") if Path(p).exists()), None
    )
    need(
        nginx is not None,
        "nginx is not installed (apt-get install -y nginx); topology test SKIPPED",
    )
    conf = REPO / "frontend" / "nginx.conf"
    need(conf.is_file(), "frontend/nginx.conf does not exist yet; topology test SKIPPED")
    assert nginx is not None

    # The backend, exactly as compose configures it, except where the database and data live.
    env = compose_backend_env(compose_bin, env_file)
    assert env["DEBUG"] == "false", "production compose must not run in debug mode"
    env["DATABASE_URL"] = pg_url
    env["DATA_DIR"] = str(tmp_path / "data")
    backend_port, web_port = free_port(), free_port()
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    backend_log = tmp_path / "backend.log"
    with backend_log.open("wb") as out:
        backend = subprocess.Popen(  # cwd outside backend/: no stray .env is read
            [
                sys.executable,
                "-m",
                "app",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(backend_port),
            ],
            cwd=tmp_path,
            env={**base, **env, "PYTHONPATH": str(BACKEND)},
            stdout=out,
            stderr=out,
        )
    nginx_proc = None
    try:
        wait_for(f"http://127.0.0.1:{backend_port}/health", backend, backend_log)

        root = tmp_path / "html"
        (root / "assets").mkdir(parents=True)
        (root / "index.html").write_text(SPA_INDEX)
        (root / "assets" / "app-1a2b.js").write_text("console.log('unity');\n" * 100)
        (root / "manifest.webmanifest").write_text('{"name": "Unity", "short_name": "Unity"}')
        (root / "sw.js").write_text("self.addEventListener('fetch', () => {});\n")
        ngx = tmp_path / "nginx"
        ngx.mkdir()
        site = ngx / "default.conf"
        site.write_text(nginx_site(conf.read_text(), backend_port, web_port, root))
        (ngx / "nginx.conf").write_text(nginx_main(ngx, site))
        cmd = [nginx, "-p", str(ngx), "-c", str(ngx / "nginx.conf")]
        check = subprocess.run(
            [*cmd, "-t"], capture_output=True, text=True, timeout=30, check=False
        )
        assert check.returncode == 0, f"nginx -t:\n{check.stderr}"
        nginx_log = ngx / "error.log"
        with (ngx / "stderr.log").open("wb") as out:
            nginx_proc = subprocess.Popen(cmd, stdout=out, stderr=out)
        wait_for(f"http://127.0.0.1:{web_port}/index.html", nginx_proc, nginx_log, timeout=15)
        yield Stack(
            f"http://127.0.0.1:{backend_port}",
            f"http://127.0.0.1:{web_port}",
            backend,
            backend_log,
            root,
        )
    finally:
        if nginx_proc is not None:
            stop(nginx_proc, signal.SIGQUIT)
        stop(backend)


async def first_metrics_event(ws_url: str, origin: str, trigger: object) -> dict[str, object]:
    async with websockets.connect(ws_url, origin=origin, open_timeout=10) as ws:  # type: ignore[arg-type]
        hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert hello["type"] == "hello", hello
        await asyncio.to_thread(trigger)  # type: ignore[arg-type]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            event = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
            if event["type"] == "metrics":
                return event  # type: ignore[no-any-return]
    raise AssertionError("no metrics event through nginx within 30 s")


def test_through_nginx(stack: Stack) -> None:
    web = httpx.Client(base_url=stack.web, timeout=15)

    # /health: the seed's body, through nginx.
    health = web.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "healthy"
    assert health.json()["scheduler"] == "running"

    # The SPA: shell, history fallback for client routes, long-cached hashed assets.
    index = web.get("/")
    assert index.status_code == 200 and 'id="root"' in index.text
    assert index.headers["x-frame-options"] == "DENY"
    assert web.get("/plugins/3").text == index.text
    asset = web.get("/assets/app-1a2b.js")
    assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
    assert asset.headers["content-encoding"] == "gzip"  # httpx asks for it, as browsers do
    # The build's own .gz copy beside a file goes out as it is (gzip_static), not recompressed.
    root = stack.root
    bundle = "export const dashboard = 'unity';\n" * 200
    (root / "assets" / "dash-9f8e.js").write_text(bundle)
    node = shutil.which("node")
    if node is None:
        skip_or_fail("node is needed to run frontend/scripts/precompress.mjs")
    done = subprocess.run(
        [node, str(REPO / "frontend" / "scripts" / "precompress.mjs"), str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    copy = (root / "assets" / "dash-9f8e.js.gz").read_bytes()
    with web.stream("GET", "/assets/dash-9f8e.js") as r:
        assert r.headers["content-encoding"] == "gzip" and r.headers["vary"] == "Accept-Encoding"
        assert "immutable" in r.headers["cache-control"]
        assert r.headers["content-type"].startswith("application/javascript")
        assert b"".join(r.iter_raw()) == copy  # level 9 by the build; nginx's own would be level 6
    assert gzip.decompress(copy).decode() == bundle
    plain = web.get("/assets/dash-9f8e.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == bundle
    # The installable app: its manifest with the type browsers require, its worker never stale.
    manifest = web.get("/manifest.webmanifest")
    assert manifest.headers["content-type"] == "application/manifest+json"
    assert manifest.json()["short_name"] == "Unity"
    worker = web.get("/sw.js")
    assert worker.status_code == 200 and worker.headers["cache-control"] == "no-cache"

    # First-run setup, login, a plugin, a run, its history: all through nginx's /api proxy.
    r = web.post("/api/v1/auth/setup", json={"username": "admin", "password": PASSWORD})
    assert r.status_code == 201, r.text
    r = web.post("/api/v1/auth/login", data={"username": "admin", "password": PASSWORD})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    port = int(stack.backend.rsplit(":", 1)[1])
    r = web.post(
        "/api/v1/plugins",
        json={
            "name": "backend port",
            "type": "tcp",
            "config": {"host": "127.0.0.1", "port": port},
            "interval_seconds": 3600,
        },
        headers=auth,
    )
    assert r.status_code == 201, r.text
    plugin_id = r.json()["id"]

    # /ws/metrics through nginx, with the Origin a browser on the nginx port would send.
    def run_now() -> None:
        run = web.post(f"/api/v1/plugins/{plugin_id}/run", headers=auth)
        assert run.status_code == 200, run.text

    ws_url = stack.web.replace("http://", "ws://") + f"/ws/metrics?token={token}"
    event = asyncio.run(first_metrics_event(ws_url, stack.web, run_now))
    assert event["samples"], event

    runs = web.get(f"/api/v1/plugins/{plugin_id}/runs", headers=auth)
    assert runs.status_code == 200, runs.text
    items = runs.json()["items"]
    assert items and items[0]["status"] == "success", items

    # Graceful stop inside compose's stop_grace_period (10 s).
    took = stop(stack.backend_proc)
    # uvicorn re-raises the signal once it has shut down cleanly (exit 143 in a container).
    assert stack.backend_proc.returncode in (0, -signal.SIGTERM), tail(stack.backend_log)
    assert took < 10, f"backend took {took:.1f} s to stop"
    assert "Unity stopped" in stack.backend_log.read_text()
