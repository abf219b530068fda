"""The `mysql` plugin: connect time, threads, slow queries and replication of MySQL or MariaDB."""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass, field
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

# SHOW GLOBAL STATUS name -> (metric, unit); counters since start-up end in `_total`.
_STATUS: dict[str, tuple[str, str]] = {
    "Threads_connected": ("mysql_threads_connected", "count"),
    "Threads_running": ("mysql_threads_running", "count"),
    "Max_used_connections": ("mysql_max_used_connections", "count"),
    "Uptime": ("mysql_uptime_seconds", "seconds"),
    "Slow_queries": ("mysql_slow_queries_total", "count"),
    "Questions": ("mysql_questions_total", "count"),
    "Aborted_connects": ("mysql_aborted_connects_total", "count"),
    "Connections": ("mysql_connections_total", "count"),
}

# Error numbers from the server (1xxx) and from the client library (2xxx).
_ACCESS_DENIED = 1045
_NO_PRIVILEGE = {1044, 1142, 1227, 1370}
_CANNOT_CONNECT = {2003, 2006}
_LOST = 2013
_NO_TLS = 2026

GRANT_HINT = (
    "GRANT PROCESS, REPLICATION CLIENT ON *.* TO 'unity'@'%' on MySQL, "
    "or GRANT PROCESS, SLAVE MONITOR ON *.* TO 'unity'@'%' on MariaDB 10.5 and later"
)


class MysqlConfig(PluginConfig):
    host: HostName = Field(
        ...,
        title="Host",
        description="Host name or IP address of the MySQL or MariaDB server.",
        examples=["db.lan", "192.168.1.31"],
    )
    port: int = Field(3306, title="Port", description="TCP port of the server.", ge=1, le=65535)
    user: str = Field(
        "unity",
        title="User",
        description="Account to log in as; it needs the PROCESS and REPLICATION CLIENT "
        "(MariaDB: SLAVE MONITOR) privileges and nothing else.",
        min_length=1,
        max_length=80,
    )
    password: str | None = SecretField(
        None,
        title="Password",
        description="Password of that account. Stored encrypted.",
        max_length=500,
    )
    tls: bool = Field(
        False,
        title="Require TLS",
        description="Refuse to connect without TLS. Off: TLS is still used when the server "
        "offers it, but its certificate is not checked.",
    )
    verify_tls: bool = Field(
        True,
        title="Verify TLS",
        description="Check the server certificate and host name. Turn off for self-signed.",
    )
    timeout_seconds: float = TimeoutField(
        10.0, 120, "A server that has not answered within this time is reported down."
    )


@dataclass
class _Reading:
    connect_seconds: float
    status: dict[str, str]
    variables: dict[str, str]
    replica: dict[str, Any] | None = field(default=None)


def _read(cfg: MysqlConfig) -> _Reading:
    """One blocking round trip with PyMySQL; runs in the plugin thread pool."""
    import pymysql  # only where used (house style 15)
    import pymysql.cursors

    context: ssl.SSLContext | None = None
    if cfg.tls:
        context = ssl.create_default_context()
        if not cfg.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    start = time.perf_counter()
    conn = pymysql.connect(
        host=cfg.host,
        port=cfg.port,
        user=cfg.user,
        password=cfg.password or "",
        connect_timeout=cfg.timeout_seconds,
        read_timeout=cfg.timeout_seconds,
        write_timeout=cfg.timeout_seconds,
        ssl=context,
        autocommit=True,
        cursorclass=pymysql.cursors.Cursor,
    )
    connect_seconds = time.perf_counter() - start
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW GLOBAL STATUS")
            status = {str(k): str(v) for k, v in cur.fetchall()}
            cur.execute(
                "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('max_connections', 'version')"
            )
            variables = {str(k): str(v) for k, v in cur.fetchall()}
        with conn.cursor(pymysql.cursors.DictCursor) as dcur:
            try:
                dcur.execute("SHOW REPLICA STATUS")  # MySQL 8.0.22+, MariaDB 10.5.1+
            except pymysql.err.ProgrammingError:  # older servers only know the old words
                dcur.execute("SHOW SLAVE STATUS")
            replica = dcur.fetchone()
    finally:
        conn.close()
    return _Reading(connect_seconds, status, variables, replica)


class MysqlPlugin(Plugin[MysqlConfig]):
    type = "mysql"
    name = "MySQL / MariaDB"
    description = (
        "Connects to a MySQL or MariaDB server and reports connect time, threads against "
        "max_connections, slow queries, questions and, on a replica, its lag and threads."
    )
    category = "service"
    Config = MysqlConfig
    default_interval_seconds = 60

    async def collect_data(self) -> list[Sample]:
        cfg = self.config
        # the SSRF policy first; the connection uses the name (TLS checks it)
        await allowed_target(self, cfg.host, cfg.port, cfg.timeout_seconds)
        try:
            reading = await self.ctx.run_blocking(_read, cfg)
        except Exception as exc:
            raise self._error(exc) from exc
        if "Threads_connected" not in reading.status:
            raise target_down(
                self,
                f"{cfg.host}:{cfg.port}: SHOW GLOBAL STATUS gave no Threads_connected; "
                "is this a MySQL-compatible server?",
                [up_sample(False)],
            )
        return [
            up_sample(True),
            Sample("mysql_connect_seconds", round(reading.connect_seconds, 6), "seconds"),
            *_samples(reading),
        ]

    def _error(self, exc: BaseException) -> PluginError:
        cfg = self.config
        where = f"{cfg.host}:{cfg.port}"
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        text = describe_exc(exc)
        if code == _ACCESS_DENIED:
            return PluginError(
                f"{where}: the server refused user {cfg.user!r} ({exc.args[1]}); check the "
                "password, and that the account may log in from Unity's address "
                "(CREATE USER 'unity'@'%' IDENTIFIED BY '…')"
            )
        if code in _NO_PRIVILEGE:
            return PluginError(
                f"{where}: user {cfg.user!r} lacks a privilege ({exc.args[1]}); {GRANT_HINT}"
            )
        if code == _NO_TLS and "doesn't support" in text:
            return PluginError(
                f"{where}: the server does not offer TLS; turn off tls, or configure "
                "ssl_cert and ssl_key on the server"
            )
        if code in _CANNOT_CONNECT:
            detail = str(exc.args[1]) if len(exc.args) > 1 else text
            if "timed out" in detail:
                reason = f"{where}: no answer within {cfg.timeout_seconds:g} s; {NO_ANSWER_HINT}"
            elif "Connection refused" in detail:
                reason = (
                    f"{where} refused the connection: is MySQL/MariaDB running and "
                    "listening on that address (bind-address in my.cnf)?"
                )
            elif "Name or service not known" in detail or "resolve" in detail:
                reason = f"cannot resolve {cfg.host}: {detail}; {RESOLVE_HINT}"
            elif "SSL" in detail or "certificate" in detail.lower():
                reason = (
                    f"{where}: TLS failed ({detail}); turn off verify_tls for a "
                    "self-signed certificate, or tls if the server has none"
                )
            else:
                reason = f"{where} is unreachable: {detail}; {ROUTE_HINT}"
        elif (code == _LOST and "timed out" in text) or isinstance(exc, TimeoutError):
            reason = f"{where}: no answer within {cfg.timeout_seconds:g} s; {NO_ANSWER_HINT}"
        else:
            reason = (
                f"{where} did not answer like a MySQL or MariaDB server ({text}); "
                "check the host and port"
            )
        return target_down(self, reason, [up_sample(False)])


def _number(value: object) -> float | None:
    try:
        return float(str(value))
    except ValueError:
        return None


def _samples(reading: _Reading) -> list[Sample]:
    samples: list[Sample] = []
    for key, (metric, unit) in _STATUS.items():
        value = _number(reading.status.get(key, ""))
        if value is not None:
            samples.append(Sample(metric, value, unit))
    max_conn = _number(reading.variables.get("max_connections", ""))
    threads = _number(reading.status.get("Threads_connected", ""))
    if max_conn:
        samples.append(Sample("mysql_max_connections", max_conn, "count"))
        if threads is not None:
            used = round(100.0 * threads / max_conn, 3)
            samples.append(Sample("mysql_connections_used_percent", used, "percent"))
    samples += replica_samples(reading.replica)
    return samples


def replica_samples(row: dict[str, Any] | None) -> list[Sample]:
    """Samples from one SHOW REPLICA/SLAVE STATUS row (None or empty on a server that is not
    a replica). MySQL 8 says Source/Replica where older servers and MariaDB say Master/Slave."""
    if not row:
        return [Sample("mysql_replica", 0.0, "bool")]

    def pick(*names: str) -> Any:
        for n in names:
            if n in row:
                return row[n]
        return None

    io = pick("Replica_IO_Running", "Slave_IO_Running")
    sql = pick("Replica_SQL_Running", "Slave_SQL_Running")
    lag = pick("Seconds_Behind_Source", "Seconds_Behind_Master")
    samples = [
        Sample("mysql_replica", 1.0, "bool"),
        Sample("mysql_replica_io_running", 1.0 if io == "Yes" else 0.0, "bool"),
        Sample("mysql_replica_sql_running", 1.0 if sql == "Yes" else 0.0, "bool"),
    ]
    lag_value = _number(lag) if lag is not None else None
    if lag_value is not None:  # NULL while a replication thread is stopped: no honest number
        samples.append(Sample("mysql_replica_lag_seconds", lag_value, "seconds"))
    return samples


PLUGIN = MysqlPlugin
