"""The `postgres` plugin: connect time, connections, sizes, replication and long queries."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from typing import Any, Literal

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

MAX_REPLICAS = 20  # label cardinality bound for per-standby lag on a primary

_OVERVIEW = """
SELECT current_setting('max_connections')::int AS max_connections,
       (SELECT count(*) FROM pg_stat_activity
         WHERE backend_type = 'client backend') AS connections,
       (SELECT count(*) FROM pg_stat_activity
         WHERE backend_type = 'client backend' AND state <> 'idle'
           AND pid <> pg_backend_pid()
           AND now() - query_start > make_interval(secs => $1)) AS long_running,
       pg_is_in_recovery() AS in_recovery
"""

# Sizes need CONNECT on each database or the pg_read_all_stats role (part of pg_monitor).
_SIZES = """
SELECT datname, pg_database_size(datname) AS size FROM pg_database
 WHERE NOT datistemplate AND datallowconn
   AND (cardinality($1::text[]) = 0 OR datname = ANY($1::text[]))
 ORDER BY datname LIMIT $2
"""

# On a standby with nothing left to replay, lag is 0, not "time since the last commit".
_STANDBY_LAG = """
SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()
            THEN 0
            ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END AS lag
"""

_REPLICAS = """
SELECT coalesce(nullif(application_name, ''), host(client_addr), 'pid ' || pid) AS replica,
       EXTRACT(EPOCH FROM replay_lag) AS replay_lag
  FROM pg_stat_replication ORDER BY 1 LIMIT $1
"""


class PostgresConfig(PluginConfig):
    host: HostName = Field(
        ...,
        title="Host",
        description="Host name or IP address of the PostgreSQL server.",
        examples=["db.lan", "192.168.1.30"],
    )
    port: int = Field(5432, title="Port", description="TCP port of the server.", ge=1, le=65535)
    user: str = Field(
        "postgres",
        title="User",
        description="Role to log in as. Give it the pg_monitor role to see every statistic.",
        min_length=1,
        max_length=63,
        examples=["unity"],
    )
    password: str | None = SecretField(
        None,
        title="Password",
        description="Password of that role. Stored encrypted. Leave empty for trust auth.",
        max_length=500,
    )
    database: str = Field(
        "postgres",
        title="Database",
        description="Database to connect to (any one the role may open).",
        min_length=1,
        max_length=63,
    )
    databases: list[str] = Field(
        [],
        title="Databases to size",
        description="Report the size of only these databases. Empty means all of them.",
        max_length=50,
        examples=[["nextcloud", "immich"]],
    )
    max_databases: int = Field(
        50,
        title="Most databases sized",
        description="At most this many databases get a size chart, in name order.",
        ge=1,
        le=200,
    )
    long_query_seconds: float = Field(
        60.0,
        title="Long query threshold (s)",
        description="A query running longer than this counts as long-running.",
        gt=0,
        le=86400,
    )
    ssl: Literal["prefer", "disable", "require", "verify-full"] = Field(
        "prefer",
        title="TLS",
        description="prefer: use TLS when the server offers it; require: refuse plain "
        "connections; verify-full: also check the certificate and host name.",
    )
    timeout_seconds: float = TimeoutField(
        10.0, 120, "A server that has not answered within this time is reported down."
    )


class PostgresPlugin(Plugin[PostgresConfig]):
    type = "postgres"
    name = "PostgreSQL"
    description = (
        "Connects to a PostgreSQL server and reports connect time, connections against "
        "max_connections, database sizes, replication lag and long-running queries."
    )
    category = "service"
    Config = PostgresConfig
    default_interval_seconds = 60

    @property
    def _where(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    async def collect_data(self) -> list[Sample]:
        import asyncpg  # type: ignore[import-untyped]  # only where used (house style 15)

        cfg = self.config
        # the SSRF policy first; the connection uses the name (TLS checks it)
        await allowed_target(self, cfg.host, cfg.port, cfg.timeout_seconds)
        start = time.perf_counter()
        try:
            conn = await asyncio.wait_for(
                asyncpg.connect(
                    host=cfg.host,
                    port=cfg.port,
                    user=cfg.user,
                    password=cfg.password,
                    database=cfg.database,
                    # asyncpg's own verify-full wants libpq's ~/.postgresql/root.crt; the
                    # system's CA store is what people expect.
                    ssl=ssl.create_default_context() if cfg.ssl == "verify-full" else cfg.ssl,
                    timeout=cfg.timeout_seconds,
                    command_timeout=cfg.timeout_seconds,
                ),
                cfg.timeout_seconds,
            )
        except Exception as exc:
            raise self._connect_error(exc) from exc
        connect_seconds = time.perf_counter() - start
        try:
            samples = await asyncio.wait_for(self._measure(conn), cfg.timeout_seconds)
        except TimeoutError as exc:
            raise target_down(
                self,
                f"{self._where}: the statistics queries took longer than {cfg.timeout_seconds:g} s",
                [up_sample(False)],
            ) from exc
        except asyncpg.InsufficientPrivilegeError as exc:
            raise PluginError(
                f"{self._where}: role {cfg.user!r} may not read the statistics "
                f"({describe_exc(exc)}); grant it the monitoring role: "
                f"GRANT pg_monitor TO {cfg.user};"
            ) from exc
        except asyncpg.PostgresError as exc:
            raise PluginError(
                f"{self._where}: a statistics query failed: {describe_exc(exc)}"
            ) from exc
        finally:
            await conn.close(timeout=cfg.timeout_seconds)
        return [
            up_sample(True),
            Sample("postgres_connect_seconds", round(connect_seconds, 6), "seconds"),
            *samples,
        ]

    async def _measure(self, conn: Any) -> list[Sample]:
        cfg = self.config
        row = await conn.fetchrow(_OVERVIEW, cfg.long_query_seconds)
        max_conn = float(row["max_connections"])
        conns = float(row["connections"])
        standby = bool(row["in_recovery"])
        samples = [
            Sample("postgres_connections", conns, "count"),
            Sample("postgres_max_connections", max_conn, "count"),
            Sample(
                "postgres_connections_used_percent",
                round(100.0 * conns / max_conn, 3) if max_conn else 0.0,
                "percent",
            ),
            Sample("postgres_long_running_queries", float(row["long_running"]), "count"),
            Sample("postgres_in_recovery", 1.0 if standby else 0.0, "bool"),
        ]
        for rec in await conn.fetch(_SIZES, cfg.databases, cfg.max_databases):
            samples.append(
                Sample(
                    "postgres_database_size_bytes",
                    float(rec["size"]),
                    "bytes",
                    {"database": rec["datname"]},
                )
            )
        if standby:
            lag = await conn.fetchval(_STANDBY_LAG)
            if lag is not None:  # nothing replayed yet: no honest number to give
                samples.append(Sample("postgres_replication_lag_seconds", float(lag), "seconds"))
        else:
            replicas = await conn.fetch(_REPLICAS, MAX_REPLICAS)
            samples.append(Sample("postgres_replicas", float(len(replicas)), "count"))
            for rec in replicas:
                if rec["replay_lag"] is not None:  # NULL without pg_read_all_stats, or idle
                    samples.append(
                        Sample(
                            "postgres_replica_lag_seconds",
                            float(rec["replay_lag"]),
                            "seconds",
                            {"replica": str(rec["replica"])[:100]},
                        )
                    )
        return samples

    def _connect_error(self, exc: BaseException) -> PluginError:
        import asyncpg

        cfg = self.config
        where = self._where
        if isinstance(exc, asyncpg.InvalidPasswordError):
            return PluginError(
                f"{where}: password authentication failed for role {cfg.user!r}; "
                "check the password (or the server's pg_hba.conf)"
            )
        if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):
            return PluginError(
                f"{where}: the server refused role {cfg.user!r} ({describe_exc(exc)}); "
                "create the role (CREATE ROLE unity LOGIN PASSWORD '…'; GRANT pg_monitor "
                "TO unity;) or allow it in pg_hba.conf"
            )
        if isinstance(exc, asyncpg.InvalidCatalogNameError):
            return PluginError(
                f"{where}: database {cfg.database!r} does not exist; set `database` to one "
                "that does (postgres always exists)"
            )
        if isinstance(exc, asyncpg.PostgresError) and not isinstance(
            exc, asyncpg.PostgresConnectionError
        ):
            return PluginError(f"{where}: the server refused the connection: {describe_exc(exc)}")
        if "rejected SSL upgrade" in str(exc):
            return PluginError(
                f"{where}: the server does not offer TLS but ssl is {cfg.ssl!r}; set ssl to "
                "prefer or disable, or turn on ssl in postgresql.conf"
            )
        if isinstance(exc, ssl.SSLError):
            return PluginError(
                f"{where}: TLS failed ({describe_exc(exc)}); with a self-signed server "
                "certificate use ssl=require (encrypts without checking the certificate)"
            )
        if isinstance(exc, TimeoutError):
            reason = f"{where}: no answer within {cfg.timeout_seconds:g} s; {NO_ANSWER_HINT}"
        elif isinstance(exc, socket.gaierror):
            reason = f"cannot resolve {cfg.host}: {describe_exc(exc)}; {RESOLVE_HINT}"
        elif isinstance(exc, ConnectionRefusedError):
            reason = (
                f"{where} refused the connection: is PostgreSQL running and listening on "
                "that address (listen_addresses in postgresql.conf)?"
            )
        elif isinstance(exc, OSError):
            reason = f"{where} is unreachable: {describe_exc(exc)}; {ROUTE_HINT}"
        else:
            reason = (
                f"{where} did not answer like a PostgreSQL server "
                f"({describe_exc(exc)}); check the host and port"
            )
        return target_down(self, reason, [up_sample(False)])


PLUGIN = PostgresPlugin
