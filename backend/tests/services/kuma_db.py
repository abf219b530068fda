"""An Uptime Kuma database built the way Uptime Kuma lays it out (SQLite, its column names).

The tables and columns follow Uptime Kuma's published schema (db/knex_init_db.js and the
knex migrations that add monitor.timeout and heartbeat.retries); only tables the import reads
are made.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE docker_host (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    docker_daemon VARCHAR(255),
    docker_type VARCHAR(255),
    name VARCHAR(255)
);
CREATE TABLE monitor (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(150),
    active BOOLEAN NOT NULL DEFAULT 1,
    user_id INTEGER,
    interval INTEGER NOT NULL DEFAULT 20,
    url TEXT,
    restart_url TEXT,
    type VARCHAR(20),
    weight INTEGER DEFAULT 2000,
    hostname VARCHAR(255),
    port INTEGER,
    created_date DATETIME NOT NULL DEFAULT (DATETIME('now')),
    keyword VARCHAR(255),
    maxretries INTEGER NOT NULL DEFAULT 0,
    ignore_tls BOOLEAN NOT NULL DEFAULT 0,
    upside_down BOOLEAN NOT NULL DEFAULT 0,
    maxredirects INTEGER NOT NULL DEFAULT 10,
    accepted_statuscodes_json TEXT NOT NULL DEFAULT '["200-299"]',
    dns_resolve_type VARCHAR(5),
    dns_resolve_server VARCHAR(255),
    dns_last_result VARCHAR(255),
    retry_interval INTEGER NOT NULL DEFAULT 0,
    push_token VARCHAR(20) DEFAULT NULL,
    method TEXT NOT NULL DEFAULT 'GET',
    body TEXT DEFAULT NULL,
    headers TEXT DEFAULT NULL,
    basic_auth_user TEXT DEFAULT NULL,
    basic_auth_pass TEXT DEFAULT NULL,
    docker_host INTEGER REFERENCES docker_host(id),
    docker_container VARCHAR(255),
    proxy_id INTEGER,
    expiry_notification BOOLEAN DEFAULT 1,
    mqtt_topic TEXT,
    mqtt_success_message VARCHAR(255),
    mqtt_username VARCHAR(255),
    mqtt_password VARCHAR(255),
    database_connection_string VARCHAR(2000),
    database_query TEXT,
    auth_method VARCHAR(250),
    auth_domain TEXT,
    auth_workstation TEXT,
    grpc_url VARCHAR(255) DEFAULT NULL,
    grpc_protobuf TEXT DEFAULT NULL,
    grpc_body TEXT DEFAULT NULL,
    grpc_metadata TEXT DEFAULT NULL,
    grpc_method TEXT DEFAULT NULL,
    grpc_service_name TEXT DEFAULT NULL,
    grpc_enable_tls BOOLEAN NOT NULL DEFAULT 0,
    radius_username VARCHAR(255),
    radius_password VARCHAR(255),
    radius_calling_station_id VARCHAR(50),
    radius_called_station_id VARCHAR(50),
    radius_secret VARCHAR(255),
    resend_interval INTEGER NOT NULL DEFAULT 0,
    packet_size INTEGER NOT NULL DEFAULT 56,
    game VARCHAR(255),
    http_body_encoding VARCHAR(25),
    description TEXT DEFAULT NULL,
    parent INTEGER REFERENCES monitor(id),
    invert_keyword BOOLEAN NOT NULL DEFAULT 0,
    timeout DOUBLE NOT NULL DEFAULT 0
);
CREATE TABLE heartbeat (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    important BOOLEAN NOT NULL DEFAULT 0,
    monitor_id INTEGER NOT NULL REFERENCES monitor(id) ON DELETE CASCADE ON UPDATE CASCADE,
    status SMALLINT NOT NULL,
    msg TEXT,
    time DATETIME NOT NULL,
    ping INTEGER,
    duration INTEGER NOT NULL DEFAULT 0,
    down_count INTEGER NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX important ON heartbeat (important);
CREATE INDEX monitor_time_index ON heartbeat (monitor_id, time);
CREATE INDEX monitor_important_time_index ON heartbeat (monitor_id, important, time);
"""


def make_kuma_db(path: Path, monitors: Iterable[dict[str, Any]]) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.executescript(SCHEMA)
        conn.execute(
            "INSERT INTO docker_host (id, user_id, docker_daemon, docker_type, name) "
            "VALUES (1, 1, '/var/run/docker.sock', 'socket', 'local')"
        )
        for m in monitors:
            cols = ", ".join(m)
            marks = ", ".join("?" for _ in m)
            conn.execute(f"INSERT INTO monitor ({cols}) VALUES ({marks})", list(m.values()))
        conn.commit()
    finally:
        conn.close()


def add_heartbeats(path: Path, beats: Iterable[tuple[int, int, str, str, int | None]]) -> None:
    """(monitor_id, status, msg, time 'YYYY-MM-DD HH:MM:SS.mmm' UTC, ping ms) rows."""
    conn = sqlite3.connect(path)
    try:
        conn.executemany(
            "INSERT INTO heartbeat (monitor_id, status, msg, time, ping, important, duration) "
            "VALUES (?, ?, ?, ?, ?, 0, 0)",
            list(beats),
        )
        conn.commit()
    finally:
        conn.close()
