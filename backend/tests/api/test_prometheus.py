"""GET /metrics: access, the exposition format (checked by promtool), and a real Prometheus scrape.

promtool and prometheus come from Debian's `prometheus` package. Outside CI a missing binary skips
loudly; with CI=true it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.config import Settings
from app.plugins.base import Sample
from app.services.metrics import prometheus
from tests.conftest import (
    PASSWORD,
    TEST_JWT,
    TEST_KEY,
    add_plugin,
    asgi_client,
    make_settings,
    running_app,
    skip_or_fail,
)
from tests.live import free_port, stop_process

BACKEND = Path(__file__).resolve().parents[2]


def need(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        message = f"{binary} not found: install Debian's `prometheus` package to run this test"
        sys.stderr.write(f"\nSKIPPED LOUDLY: {message}\n")
        skip_or_fail(message)
    return path


async def _plugin_with_samples(app: Any) -> int:
    state = app.state.unity
    plugin_id = await add_plugin(state.db, 'NAS "main"')
    samples = [
        Sample("cpu.percent", 12.5, "%", {}),
        Sample("disk_used_percent", 81.25, "%", {"mount": "/", "instance": "sda"}),
        Sample("disk_used_percent", 3.0, "%", {"mount": 'C:\\ "data"\nx', "fs.type": "ext4"}),
        Sample("temperature", -4.5e-07, "C", {"0zone": "a", "__secret": "b"}),
        Sample("scheduler_leader", 1.0, "", {}),  # collides with Unity's own name
        Sample("memory_total", 8e9, "bytes", {}),  # a gauge: _total is for counters
        Sample("jobs_total", 2.0, "", {}),
        # Units go into the name in base units; suffixes of other metric types are renamed.
        Sample("http_response_time", 250.0, "ms", {}),
        Sample("tls_cert_days_remaining", 2.0, "days", {}),
        Sample("container_restart_count", 3.0, "count", {"le": "1", "quantile": "q"}),
        Sample("queue_sum", 4.0, "", {}),
    ]
    state.writer.submit(plugin_id, datetime.now(UTC), samples)
    await state.writer.flushed()
    return plugin_id


# ------------------------------------------------------------------------- access
async def test_metrics_need_a_token_unless_public(
    client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    r = await client.get("/metrics")
    assert r.status_code == 401 and r.json()["error"] == "Unauthorized"
    assert (
        await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    ).status_code == 401
    assert (await client.get("/metrics", headers=viewer)).status_code == 200
    r = await client.post("/api/v1/tokens", json={"name": "prometheus"}, headers=admin)
    assert r.status_code == 201, r.text
    api = {"Authorization": f"Bearer {r.json()['token']}"}
    r = await client.get("/metrics", headers=api)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")


async def test_metrics_public_opens_the_endpoint(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'p.db'}", tmp_path, metrics_public=True)
    async with running_app(settings) as app, asgi_client(app) as c:
        r = await c.get("/metrics")
        assert r.status_code == 200 and "unity_build_info" in r.text
        assert (await c.get("/api/v1/plugins")).status_code == 401  # only /metrics opens


# ------------------------------------------------------------------------- content
async def test_series_and_own_health_in_the_text_format(
    client: httpx.AsyncClient, admin: dict[str, str], app: Any
) -> None:
    plugin_id = await _plugin_with_samples(app)
    app.state.unity.scheduler.lateness_ms.extend([5.0, 15.0, 25.0])
    text = (await client.get("/metrics", headers=admin)).text
    lines = text.splitlines()
    base = f'plugin="system",plugin_id="{plugin_id}",instance="NAS \\"main\\""'

    assert (
        "# HELP unity_cpu_percent Latest value of the plugin metric 'cpu.percent' (plugin unit: %)"
        in lines
    )
    assert "# TYPE unity_cpu_percent gauge" in lines
    assert f"unity_cpu_percent{{{base}}} 12.5" in lines
    # A series label named like one of Unity's becomes exported_<name>.
    assert f'unity_disk_used_percent{{{base},exported_instance="sda",mount="/"}} 81.25' in lines
    # Escaped label values, sanitised label names.
    assert (
        f'unity_disk_used_percent{{{base},fs_type="ext4",mount="C:\\\\ \\"data\\"\\nx"}} 3' in lines
    )
    assert f'unity_temperature{{{base},_0zone="a",x__secret="b"}} -4.5e-07' in lines
    assert f"unity_plugin_scheduler_leader{{{base}}} 1" in lines
    assert f"unity_memory_total_bytes{{{base}}} 8000000000" in lines
    assert f"unity_jobs_total_value{{{base}}} 2" in lines
    assert f"unity_http_response_time_seconds{{{base}}} 0.25" in lines
    assert f"unity_tls_cert_remaining_seconds{{{base}}} 172800" in lines
    restarts = f'unity_container_restart_number{{{base},exported_le="1",exported_quantile="q"}} 3'
    assert restarts in lines
    assert f"unity_queue_sum_value{{{base}}} 4" in lines

    # Unity's own health
    assert 'unity_build_info{version="1.0.0"} 1' in lines
    assert "# TYPE unity_scheduler_runs_total counter" in lines
    assert 'unity_scheduler_runs_total{status="success"} 0' in lines
    assert "# TYPE unity_scheduler_lateness_seconds summary" in lines
    assert "unity_scheduler_lateness_seconds_count 3" in lines
    assert 'unity_scheduler_lateness_seconds{quantile="0.5"} 0.015' in lines
    assert any(x.startswith("unity_writer_written_samples_total ") for x in lines)
    assert "unity_writer_buffered_samples 0" in lines
    assert "unity_writer_dropped_samples_total 0" in lines
    assert "unity_websocket_clients 0" in lines
    assert 'unity_alerts_firing{severity="critical"} 0' in lines
    assert f'unity_plugin_health{{{base},status="unknown"}} 1' in lines
    assert f'unity_plugin_health{{{base},status="down"}} 0' in lines


async def test_firing_alerts_are_exported(
    client: httpx.AsyncClient, admin: dict[str, str], app: Any
) -> None:
    plugin_id = await _plugin_with_samples(app)
    r = await client.post(
        "/api/v1/alerts/rules",
        headers=admin,
        json={
            "name": "disk",
            "plugin_id": plugin_id,
            "metric": "disk_used_percent",
            "labels": {"mount": "/"},
            "threshold": 80,
            "for_seconds": 0,
            "severity": "critical",
        },
    )
    assert r.status_code == 201
    await app.state.unity.alerts.tick()
    text = (await client.get("/metrics", headers=admin)).text
    assert 'unity_alerts_firing{severity="critical"} 1' in text
    assert f'unity_alert_active{{rule="disk",severity="critical",plugin_id="{plugin_id}"' in text


def test_names_and_values_are_sanitised() -> None:
    assert prometheus.metric_name("net.rx-bytes/s") == "unity_net_rx_bytes_s"
    assert prometheus.label_name("9lives") == "_9lives"
    assert prometheus.label_name("__name__") == "x__name__"
    assert prometheus.escape_label('a\\b"c\nd') == 'a\\\\b\\"c\\nd'
    assert prometheus.fmt_value(float("nan")) == "NaN"
    assert prometheus.fmt_value(float("inf")) == "+Inf"
    assert prometheus.fmt_value(float("-inf")) == "-Inf"
    assert prometheus.fmt_value(2.0) == "2" and prometheus.fmt_value(0.1) == "0.1"


def promtool_check(text: str) -> None:
    """Fails with promtool's findings unless `promtool check metrics` accepts `text` clean."""
    result = subprocess.run(
        [need("promtool"), "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    findings = (result.stdout + result.stderr).strip()
    # Lint findings (not only errors) count: Unity's output should have none.
    assert result.returncode == 0 and not findings, findings


async def test_promtool_accepts_the_output(
    client: httpx.AsyncClient, admin: dict[str, str], app: Any
) -> None:
    await _plugin_with_samples(app)
    app.state.unity.scheduler.lateness_ms.extend([1.0, 2.0])
    promtool_check((await client.get("/metrics", headers=admin)).text)


# ------------------------------------------------------------------------- a real scrape
class Proc:
    def __init__(
        self, args: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> None:
        self.log = log
        self._fh = log.open("wb")
        self.proc = subprocess.Popen(
            args, stdout=self._fh, stderr=subprocess.STDOUT, env=env, cwd=cwd
        )

    def stop(self) -> None:
        stop_process(self.proc)
        self._fh.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[tuple[str, Proc]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(
        {
            "PYTHONPATH": str(BACKEND),
            "DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'homelab.db'}",
            "ENCRYPTION_KEY": TEST_KEY,
            "JWT_SECRET_KEY": TEST_JWT,
            "LOG_LEVEL": "warning",
            "CREATE_DEFAULT_PLUGIN": "true",
            "FRONTEND_DIST": str(tmp_path / "no-dist"),
        }
    )
    proc = Proc(
        [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
        tmp_path / "backend.log",
        env,
        BACKEND,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.proc.poll() is not None:
                pytest.fail(f"backend exited: {proc.output()}")
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"backend not healthy: {proc.output()}")
            time.sleep(0.2)
        yield url, proc
    finally:
        proc.stop()


@pytest.mark.slow
def test_a_real_prometheus_scrapes_unity(backend: tuple[str, Proc], tmp_path: Path) -> None:
    binary = need("prometheus")
    url, _ = backend
    with httpx.Client(base_url=url, timeout=30) as c:
        assert (
            c.post(
                "/api/v1/auth/setup", json={"username": "admin", "password": PASSWORD}
            ).status_code
            == 201
        )
        jwt = c.post("/api/v1/auth/login", data={"username": "admin", "password": PASSWORD}).json()[
            "access_token"
        ]
        h = {"Authorization": f"Bearer {jwt}"}
        token = c.post("/api/v1/tokens", json={"name": "prometheus"}, headers=h).json()["token"]
        [plugin] = c.get("/api/v1/plugins", headers=h).json()  # the default `system` plugin
        assert (
            c.post(f"/api/v1/plugins/{plugin['id']}/run", headers=h).json()["status"] == "success"
        )

    prom_port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n"
        "  - job_name: unity\n"
        "    honor_labels: true\n"
        "    authorization:\n      type: Bearer\n"
        f"      credentials: {token}\n"
        f"    static_configs:\n      - targets: ['{url.removeprefix('http://')}']\n"
    )
    prom = Proc(
        [
            binary,
            f"--config.file={config}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        ],
        tmp_path / "prometheus.log",
    )
    api = f"http://127.0.0.1:{prom_port}/api/v1/query"
    try:
        deadline = time.monotonic() + 60
        up: list[Any] = []
        ours: list[Any] = []
        while time.monotonic() < deadline:
            if prom.proc.poll() is not None:
                pytest.fail(f"prometheus exited: {prom.output()}")
            try:
                up = httpx.get(api, params={"query": 'up{job="unity"}'}, timeout=2).json()["data"][
                    "result"
                ]
                ours = httpx.get(
                    api, params={"query": '{__name__=~"unity_.+",plugin="system"}'}, timeout=2
                ).json()["data"]["result"]
            except (httpx.HTTPError, KeyError, ValueError):
                pass
            if up and up[0]["value"][1] == "1" and ours:
                break
            time.sleep(0.5)
        assert up and up[0]["value"][1] == "1", f"up={up}\n{prom.output()}"
        assert ours, prom.output()
        names = {r["metric"]["__name__"] for r in ours}
        assert any(n.startswith("unity_") for n in names)
        sample = ours[0]["metric"]
        assert sample["plugin_id"] == str(plugin["id"]) and sample["instance"] == plugin["name"]
        build = httpx.get(api, params={"query": "unity_build_info"}, timeout=2).json()
        assert build["data"]["result"][0]["value"][1] == "1"
    finally:
        prom.stop()


def test_settings_default_keeps_metrics_private() -> None:
    assert Settings.model_fields["metrics_public"].default is False
