"""The latest-value view: every series' newest value in memory, for GET /metrics/latest.

Loaded once from `series.last_ts/last_value` (the database stays the truth after a restart),
then kept current by the hub's `metrics` events: this replica's own and, with Redis, every
other replica's, so a replica that runs no plugins answers as fresh as the one that does.
Each answer is encoded once and reused until one of its plugin's values changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.db.session import Database
from app.models import Series
from app.schemas.common import iso_utc
from app.services.metrics.series_cache import labels_key


@dataclass(slots=True)
class Latest:
    series_id: int
    plugin_id: int
    name: str
    unit: str
    labels: dict[str, str]
    order: tuple[str, str]  # (name, labels key): the answer's order within a plugin
    ts: datetime
    value: float

    def wire(self) -> dict[str, Any]:
        return {
            "series_id": self.series_id,
            "plugin_id": self.plugin_id,
            "name": self.name,
            "unit": self.unit,
            "labels": self.labels,
            "ts": iso_utc(self.ts),
            "value": self.value,
        }


class LatestView:
    def __init__(self) -> None:
        self._plugins: dict[int, dict[int, Latest]] = {}  # plugin -> series -> newest
        self._encoded: dict[int | None, bytes] = {}  # plugin (None: all) -> the JSON answer

    async def load(self, db: Database) -> None:
        """Read every series' stored newest value; values already seen here stay if newer."""
        async with db.session() as session:
            rows = await session.scalars(select(Series).where(Series.last_ts.is_not(None)))
            for s in rows:
                assert s.last_ts is not None and s.last_value is not None
                order = (s.name, s.labels_key)
                self._put(
                    Latest(
                        s.id, s.plugin_id, s.name, s.unit, s.labels, order, s.last_ts, s.last_value
                    )
                )

    def on_event(self, event: dict[str, Any]) -> None:
        """A hub event; `metrics` ones move their series' newest value."""
        if event.get("type") != "metrics":
            return
        plugin_id = int(event["plugin_id"])
        ts = event["ts"]
        if isinstance(ts, str):  # through Redis: JSON text
            ts = datetime.fromisoformat(ts)
        for s in event["samples"]:
            labels = dict(s["labels"])
            order = (s["name"], labels_key(labels))
            self._put(
                Latest(
                    s["series_id"], plugin_id, s["name"], s["unit"], labels, order, ts, s["value"]
                )
            )

    def forget_plugin(self, plugin_id: int) -> None:
        self._plugins.pop(plugin_id, None)
        self._changed(plugin_id)

    def encoded(self, plugin_id: int | None) -> bytes:
        """`{"items": [...]}` for one plugin or all, ordered by plugin, name and labels."""
        cached = self._encoded.get(plugin_id)
        if cached is None:
            pids = sorted(self._plugins) if plugin_id is None else [plugin_id]
            items = [
                row.wire()
                for pid in pids
                for row in sorted(self._plugins.get(pid, {}).values(), key=_order)
            ]
            cached = json.dumps({"items": items}, separators=(",", ":")).encode()
            self._encoded[plugin_id] = cached
        return cached

    def _put(self, row: Latest) -> None:
        series = self._plugins.setdefault(row.plugin_id, {})
        old = series.get(row.series_id)
        if old is None or row.ts >= old.ts:
            series[row.series_id] = row
            self._changed(row.plugin_id)

    def _changed(self, plugin_id: int) -> None:
        self._encoded.pop(plugin_id, None)
        self._encoded.pop(None, None)


def _order(row: Latest) -> tuple[tuple[str, str], int]:
    return row.order, row.series_id
