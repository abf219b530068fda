"""Structured logging: one line per event, with context fields such as plugin_id and run_id."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's ANSI duplicate of the message
}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        k: v for k, v in record.__dict__.items() if k not in _RESERVED and not k.startswith("_")
    }


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = (
            datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
        )
        line = f"{ts} {record.levelname:<7} {record.name}: {record.getMessage()}"
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


PUSH_TOKEN_PATH = re.compile(r"(/api/v1/push/)[^/?\s\"]+")


def mask_token_paths(text: str) -> str:
    """Replace every push token inside a logged path with '***'."""
    return PUSH_TOKEN_PATH.sub(r"\1***", text)


class MaskPushTokens(logging.Filter):
    """Access log lines show /api/v1/push/*** instead of the secret in the path."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(
            isinstance(a, str) and "/push/" in a for a in record.args
        ):
            record.args = tuple(
                mask_token_paths(a) if isinstance(a, str) else a for a in record.args
            )
        elif isinstance(record.msg, str) and "/push/" in record.msg:
            record.msg = mask_token_paths(record.msg)
        return True


class DropSkippedRuns(logging.Filter):
    """APScheduler warns each time a job's slot passes while its last run is still going.

    For plugins that is a slow run, which the run's own duration and lateness already show; for
    the leader's jobs it is a database outage, which they log once when it starts and once when
    it ends. One line per missed slot would bury those lines.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in str(record.msg)


def setup_logging(level: str = "info", fmt: str = "text", stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # sqlalchemy.engine would log bound parameters (password hashes, ciphertext) at debug.
    for noisy in ("apscheduler", "httpx", "asyncssh", "aiosqlite", "websockets", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # uvicorn's own handlers would print a second, differently formatted line
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    skipped = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, DropSkippedRuns) for f in skipped.filters):
        skipped.addFilter(DropSkippedRuns())
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, MaskPushTokens) for f in access.filters):
        access.addFilter(MaskPushTokens())
