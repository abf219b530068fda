"""The `redis` plugin: connect time, memory, clients, keyspace, throughput and replication role."""

from __future__ import annotations

import socket
import time
from typing import Any

from pydantic import Field

from app.plugins.base import Plugin, PluginConfig, PluginError, Sample, SecretField
from app.plugins.builtin._common import (
    NO_ANSWER_HINT,
    RESOLVE_HINT,
    ROUTE_HINT,
    HostName,
    TimeoutField,
    allowed_target,
    describe_exc,
    target_down,
    up_sample,
)

MAX_DBS = 64  # label cardinality bound for per-database key counts

# INFO field -> (metric, unit); counters since the server started end in `_total`.
_FIELDS: dict[str, tuple[str, str]] = {
    "uptime_in_seconds": ("redis_uptime_seconds", "seconds"),
    "used_memory": ("redis_memory_used_bytes", "bytes"),
    "used_memory_rss": ("redis_memory_rss_bytes", "bytes"),
    "connected_clients": ("redis_connected_clients", "count"),
    "blocked_clients": ("redis_blocked_clients", "count"),
    "instantaneous_ops_per_sec": ("redis_ops_per_second", "ops/s"),
    "total_commands_processed": ("redis_commands_processed_total", "count"),
    "total_connections_received": ("redis_connections_received_total", "count"),
    "rejected_connections": ("redis_rejected_connections_total", "count"),
    "keyspace_hits": ("redis_keyspace_hits_total", "count"),
    "keyspace_misses": ("redis_keyspace_misses_total", "count"),
    "expired_keys": ("redis_expired_keys_total", "count"),
    "evicted_keys": ("redis_evicted_keys_total", "count"),
}


class RedisConfig(PluginConfig):
    host: HostName = Field(
        ...,
        title="Host",
        description="Host name or IP address of the Redis (or Valkey/KeyDB) server.",
        examples=["redis.lan", "192.168.1.40"],
    )
    port: int = Field(6379, title="Port", description="TCP port of the server.", ge=1, le=65535)
    username: str | None = Field(
        None,
        title="User",
        description="ACL user name (Redis 6+). Leave empty to log in as the default user.",
        max_length=200,
        examples=["unity"],
    )
    password: str | None = SecretField(
        None,
        title="Password",
        description="The requirepass password, or the ACL user's password. Stored encrypted.",
        max_length=500,
    )
    tls: bool = Field(False, title="TLS", description="Connect with TLS (e.g. port 6380).")
    verify_tls: bool = Field(
        True,
        title="Verify TLS",
        description="Check the server certificate. Turn off for self-signed certificates.",
    )
    timeout_seconds: float = TimeoutField(
        5.0, 60, "A server that has not answered within this time is reported down."
    )


class RedisPlugin(Plugin[RedisConfig]):
    type = "redis"
    name = "Redis"
    description = (
        "Connects to a Redis server and reports connect time, memory, clients, keys per "
        "database, commands and evictions, and whether it is a master or a replica."
    )
    category = "service"
    Config = RedisConfig
    default_interval_seconds = 30

    async def collect_data(self) -> list[Sample]:
        import redis.asyncio as aioredis  # only where used (house style 15)
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        cfg = self.config
        # the SSRF policy first; the connection uses the name (TLS checks it)
        await allowed_target(self, cfg.host, cfg.port, cfg.timeout_seconds)
        client = aioredis.Redis(
            host=cfg.host,
            port=cfg.port,
            username=cfg.username,
            password=cfg.password,
            ssl=cfg.tls,
            ssl_cert_reqs="required" if cfg.verify_tls else "none",
            ssl_check_hostname=cfg.verify_tls,
            socket_connect_timeout=cfg.timeout_seconds,
            socket_timeout=cfg.timeout_seconds,
            retry=Retry(NoBackoff(), 0),  # a monitor reports the first failure, it does not hide it
            single_connection_client=True,
        )
        try:
            start = time.perf_counter()
            try:
                await client.ping()
                connect_seconds = time.perf_counter() - start
                info = await client.info()
            except Exception as exc:
                raise self._error(exc) from exc
        finally:
            await client.aclose()
        if not isinstance(info, dict) or "redis_version" not in info:
            raise target_down(
                self,
                f"{cfg.host}:{cfg.port}: INFO did not return Redis server information; check "
                "that host and port are a Redis server's (a proxy may not pass INFO through)",
                [up_sample(False)],
            )
        return [
            up_sample(True),
            Sample("redis_connect_seconds", round(connect_seconds, 6), "seconds"),
            *_info_samples(info),
        ]

    def _error(self, exc: BaseException) -> PluginError:
        from redis import exceptions as rex

        cfg = self.config
        where = f"{cfg.host}:{cfg.port}"
        text = describe_exc(exc)
        if isinstance(exc, rex.AuthenticationError) or "NOAUTH" in text or "WRONGPASS" in text:
            who = f"user {cfg.username!r}" if cfg.username else "the default user"
            hint = (
                "set the password (requirepass in redis.conf, or the ACL user's)"
                if not cfg.password
                else "check the user name and password"
            )
            return PluginError(f"{where}: Redis refused to log in {who} ({text}); {hint}")
        if isinstance(exc, rex.NoPermissionError):
            return PluginError(
                f"{where}: the user may not run INFO or PING ({text}); allow them, e.g. "
                "ACL SETUSER unity on >password +ping +info"
            )
        cause = exc.__cause__ or exc.__context__
        if isinstance(exc, rex.TimeoutError) or isinstance(cause, TimeoutError):
            reason = f"{where}: no answer within {cfg.timeout_seconds:g} s"
            if cfg.tls:  # a plain port waits for a command and never answers a TLS hello
                reason += "; if the port is plain (no TLS), turn off tls"
            else:
                reason += f"; {NO_ANSWER_HINT}"
        elif isinstance(cause, socket.gaierror):
            reason = f"cannot resolve {cfg.host}: {describe_exc(cause)}; {RESOLVE_HINT}"
        elif isinstance(cause, ConnectionRefusedError) or "Connection refused" in text:
            reason = f"{where} refused the connection: is Redis running and bound to that address?"
        elif "SSL" in text or "certificate" in text.lower():
            reason = (
                f"{where}: TLS failed ({text}); turn off verify_tls for a self-signed "
                "certificate, or tls if the port is plain"
            )
        elif isinstance(exc, rex.ConnectionError) and isinstance(cause, OSError):
            reason = f"{where} is unreachable: {text}; {ROUTE_HINT}"
        else:
            reason = f"{where} did not answer like a Redis server ({text}); check host and port"
        return target_down(self, reason, [up_sample(False)])


def _info_samples(info: dict[str, Any]) -> list[Sample]:
    """Samples from a parsed INFO reply; fields an older server lacks are left out."""
    samples = [
        Sample(metric, float(info[key]), unit)
        for key, (metric, unit) in _FIELDS.items()
        if isinstance(info.get(key), int | float)
    ]
    maxmemory = info.get("maxmemory")
    if isinstance(maxmemory, int) and maxmemory > 0:  # 0 means no limit
        samples.append(Sample("redis_memory_max_bytes", float(maxmemory), "bytes"))
    is_master = info.get("role") == "master"
    samples.append(Sample("redis_role_master", 1.0 if is_master else 0.0, "bool"))
    if is_master:
        samples.append(
            Sample("redis_connected_replicas", float(info.get("connected_slaves", 0)), "count")
        )
    else:
        up = info.get("master_link_status") == "up"
        samples.append(Sample("redis_master_link_up", 1.0 if up else 0.0, "bool"))
        last_io = info.get("master_last_io_seconds_ago")
        if isinstance(last_io, int) and last_io >= 0:
            samples.append(Sample("redis_master_last_io_seconds", float(last_io), "seconds"))
    dbs = sorted(
        (k for k in info if k.startswith("db") and k[2:].isdigit()), key=lambda k: int(k[2:])
    )
    for db in dbs[:MAX_DBS]:
        stats = info[db]
        if isinstance(stats, dict):
            labels = {"db": db[2:]}
            samples.append(Sample("redis_keys", float(stats.get("keys", 0)), "count", labels))
            samples.append(
                Sample("redis_keys_expiring", float(stats.get("expires", 0)), "count", labels)
            )
    return samples


PLUGIN = RedisPlugin
