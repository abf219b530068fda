"""The `docker` plugin: container states, CPU, memory, restarts and health from the Engine API."""

from __future__ import annotations

import asyncio
import os
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from app.plugins.base import Plugin, PluginConfig, PluginContext, PluginError, Sample
from app.plugins.builtin._common import describe_exc
from app.plugins.builtin._events import ContainerWatch

if TYPE_CHECKING:  # httpx loads with the first instance (house style 15)
    import httpx

# Docker's own rule for names, and 12..64 hex digits for ids. Anything else never reaches a
# URL path: "../", "%2e%2e", "/" and "?" are all outside this set.
CONTAINER_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
STATES = ("created", "running", "paused", "restarting", "removing", "exited", "dead")
HEALTH_VALUES = {"healthy": 1.0, "unhealthy": 0.0}
MAX_PARALLEL = 8


def safe_container_ref(ref: str) -> str:
    """Return `ref` if it is a plain container name or id; raise ValueError otherwise."""
    if not isinstance(ref, str) or not CONTAINER_REF.match(ref) or ".." in ref:
        raise ValueError(f"{ref!r} is not a valid container name or id")
    return ref


class DockerConfig(PluginConfig):
    url: str = Field(
        "unix:///var/run/docker.sock",
        title="Docker endpoint",
        description="unix:///path/to/docker.sock, or tcp://host:2375 / http(s)://host:port "
        "for a daemon exposed over the network.",
        examples=["unix:///var/run/docker.sock", "tcp://192.168.1.5:2375"],
        max_length=500,
    )
    containers: list[str] = Field(
        [],
        title="Containers",
        description="Only report these containers (names or ids). Empty means all.",
        examples=[["jellyfin", "home-assistant"]],
        max_length=500,
    )
    include_stopped: bool = Field(
        True,
        title="Include stopped containers",
        description="Report restart count, health and OOM state for stopped containers too.",
    )
    timeout_seconds: float = Field(
        20.0,
        title="Timeout (s)",
        description="Per request to the engine; stats take about a second per container.",
        gt=0,
        le=120,
    )
    discover_labels: bool = Field(
        False,
        title="Create checks from labels",
        description="Containers labelled unity.http.url=…, unity.tcp.port=… (and "
        "unity.interval, unity.name) get their http/tcp checks created, updated and "
        "removed with them.",
    )

    @field_validator("url")
    @classmethod
    def _endpoint(cls, v: str) -> str:
        parts = urlsplit(v.strip())
        if parts.scheme == "unix":
            if not parts.path.startswith("/"):
                raise ValueError(
                    "a unix socket URL needs an absolute path: unix:///run/docker.sock"
                )
        elif parts.scheme in ("tcp", "http", "https"):
            if not parts.hostname:
                raise ValueError("the URL has no host name")
        else:
            raise ValueError("use unix:///path/to/docker.sock, tcp://host:port or http(s)://")
        return v.strip()

    @field_validator("containers")
    @classmethod
    def _refs(cls, v: list[str]) -> list[str]:
        return [safe_container_ref(r) for r in v]


def cpu_percent(stats: dict[str, Any]) -> float | None:
    """CPU % as `docker stats` computes it: container delta over host delta, times CPUs."""
    cpu = stats.get("cpu_stats") or {}
    pre = stats.get("precpu_stats") or {}
    try:
        cpu_delta = cpu["cpu_usage"]["total_usage"] - pre["cpu_usage"]["total_usage"]
        system_delta = cpu["system_cpu_usage"] - pre["system_cpu_usage"]
    except (KeyError, TypeError):
        return None
    online = cpu.get("online_cpus") or len(cpu["cpu_usage"].get("percpu_usage") or []) or 1
    if cpu_delta < 0 or system_delta <= 0:
        return None
    return float(cpu_delta) / float(system_delta) * float(online) * 100.0


def memory_usage(stats: dict[str, Any]) -> tuple[float, float] | None:
    """(usage without page cache, limit) as `docker stats` shows them."""
    mem = stats.get("memory_stats") or {}
    usage = mem.get("usage")
    limit = mem.get("limit")
    if usage is None or not limit:
        return None
    detail = mem.get("stats") or {}
    # cgroup v1 reports total_inactive_file, v2 inactive_file; the CLI subtracts it.
    cache = detail.get("total_inactive_file", detail.get("inactive_file", 0))
    if 0 <= cache < usage:
        usage -= cache
    return float(usage), float(limit)


def _found(summary: dict[str, Any]) -> dict[str, Any]:
    """A container's name, `unity.*` labels and first network address, from the list call."""
    names = summary.get("Names") or []
    cid = str(summary.get("Id", ""))
    networks = ((summary.get("NetworkSettings") or {}).get("Networks") or {}).values()
    address = next((n.get("IPAddress") for n in networks if n and n.get("IPAddress")), None)
    labels = summary.get("Labels") or {}
    return {
        "id": cid,
        "name": names[0].lstrip("/") if names else cid[:12],
        "labels": {k: str(v) for k, v in labels.items() if k.startswith("unity.")},
        "address": address,
    }


class DockerPlugin(Plugin[DockerConfig]):
    type = "docker"
    name = "Docker containers"
    description = (
        "Containers by state, and per container CPU %, memory, restart count, OOM kills "
        "and health, from the Docker Engine API (unix socket or TCP)."
    )
    category = "container"
    Config = DockerConfig
    requires = {"httpx": "httpx"}
    default_interval_seconds = 60

    # What the last run saw, for label discovery (None when discover_labels is off).
    found: list[dict[str, Any]] | None = None

    def __init__(self, config: DockerConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self.watch = ContainerWatch()  # restarts, OOM kills and image changes between runs

    @property
    def cfg(self) -> DockerConfig:
        return self.config

    def _client(self) -> httpx.AsyncClient:
        import httpx

        parts = urlsplit(self.cfg.url)
        timeout = httpx.Timeout(self.cfg.timeout_seconds)
        if parts.scheme == "unix":
            if not os.path.exists(parts.path):
                raise PluginError(
                    f"Docker socket {parts.path} not found. Is Docker running? When Unity runs "
                    "in a container, mount the socket: -v /var/run/docker.sock:/var/run/"
                    "docker.sock:ro"
                )
            transport = httpx.AsyncHTTPTransport(uds=parts.path)
            return httpx.AsyncClient(
                transport=transport, base_url="http://docker", timeout=timeout, trust_env=False
            )
        scheme = "https" if parts.scheme == "https" else "http"
        return httpx.AsyncClient(
            base_url=f"{scheme}://{parts.netloc}", timeout=timeout, trust_env=False
        )

    async def _get(self, client: httpx.AsyncClient, path: str, **params: str) -> Any:
        import httpx

        try:
            resp = await client.get(path, params=params)
        except httpx.TimeoutException as exc:
            raise PluginError(
                f"the Docker engine at {self.cfg.url} did not answer within "
                f"{self.cfg.timeout_seconds:g} s"
            ) from exc
        except httpx.TransportError as exc:
            text = describe_exc(exc)
            if "Permission denied" in text:
                raise PluginError(
                    f"permission denied on {self.cfg.url}: run Unity as a user in the "
                    "`docker` group (or root) to read the Docker socket"
                ) from exc
            raise PluginError(f"cannot reach the Docker engine at {self.cfg.url}: {text}") from exc
        if resp.status_code == 404:
            return None  # container vanished between list and inspect
        if resp.status_code >= 400:
            raise PluginError(
                f"the Docker engine answered {resp.status_code} for {path}: {resp.text[:200]}"
            )
        return resp.json()

    async def _container(
        self, client: httpx.AsyncClient, sem: asyncio.Semaphore, summary: dict[str, Any]
    ) -> list[Sample]:
        try:
            cid = safe_container_ref(str(summary.get("Id", "")))
        except ValueError as exc:
            raise PluginError(f"refusing a container id from the engine: {exc}") from exc
        names = summary.get("Names") or []
        name = names[0].lstrip("/") if names else cid[:12]
        labels = {"container": name}
        running = summary.get("State") == "running"
        out = [Sample("container_running", 1.0 if running else 0.0, "bool", labels)]
        async with sem:
            info = await self._get(client, f"/containers/{cid}/json")
            stats = (
                await self._get(client, f"/containers/{cid}/stats", stream="false")
                if running
                else None
            )
        if info is not None:
            self.watch.observe(self, name, info)
            state = info.get("State") or {}
            out.append(
                Sample(
                    "container_restart_count", float(info.get("RestartCount", 0)), "count", labels
                )
            )
            out.append(
                Sample(
                    "container_oom_killed", 1.0 if state.get("OOMKilled") else 0.0, "bool", labels
                )
            )
            health = (state.get("Health") or {}).get("Status")
            if health in HEALTH_VALUES:
                out.append(Sample("container_healthy", HEALTH_VALUES[health], "bool", labels))
        if stats:
            pct = cpu_percent(stats)
            if pct is not None:
                out.append(Sample("container_cpu_percent", pct, "percent", labels))
            mem = memory_usage(stats)
            if mem is not None:
                usage, limit = mem
                out += [
                    Sample("container_memory_usage", usage, "bytes", labels),
                    Sample("container_memory_limit", limit, "bytes", labels),
                    Sample("container_memory_percent", usage / limit * 100.0, "percent", labels),
                ]
        return out

    async def collect_data(self) -> list[Sample]:
        cfg = self.cfg
        async with self._client() as client:
            listing = await self._get(client, "/containers/json", all="true")
            if not isinstance(listing, list):
                raise PluginError(f"{cfg.url} did not answer like a Docker engine")
            counts = dict.fromkeys(STATES, 0)
            unhealthy = 0
            selected = []
            wanted = set(cfg.containers)
            for c in listing:
                state = str(c.get("State", "")).lower()
                counts[state] = counts.get(state, 0) + 1
                if "(unhealthy)" in str(c.get("Status", "")):
                    unhealthy += 1
                names = {n.lstrip("/") for n in c.get("Names") or []}
                cid = str(c.get("Id", ""))
                if wanted and not (
                    names & wanted or any(cid.startswith(w) for w in wanted if len(w) >= 12)
                ):
                    continue
                if not cfg.include_stopped and state != "running":
                    continue
                selected.append(c)

            samples = [
                Sample("containers", float(n), "count", {"state": s}) for s, n in counts.items()
            ]
            samples.append(Sample("containers_unhealthy", float(unhealthy), "count"))
            self.found = [_found(c) for c in listing] if cfg.discover_labels else None
            sem = asyncio.Semaphore(MAX_PARALLEL)
            for chunk in await asyncio.gather(*(self._container(client, sem, c) for c in selected)):
                samples += chunk
        return samples


PLUGIN = DockerPlugin
