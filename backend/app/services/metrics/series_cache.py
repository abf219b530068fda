"""The writer's series cache: a sample's (plugin, name, labels) to its series id and unit."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.session import Database
from app.models import PluginInstance, Series
from app.plugins.base import Sample

if TYPE_CHECKING:
    from app.services.metrics.batch import Batch

SeriesKey = tuple[int, str, str]  # plugin_id, name, labels_key
SERIES_CHUNK = 1000  # new series per INSERT (5 parameters each) and per id lookup
YIELD_EVERY = 5000  # samples processed between yields to the event loop in big writes
SAMPLE_KEYS_MAX = 100_000  # (plugin, name, labels) lookups the writer remembers


def labels_key(labels: Any) -> str:
    """Canonical "k=v,k=v" form: computed only for samples the writer has not seen before."""
    return ",".join([f"{k}={labels[k]}" for k in sorted(labels)]) if labels else ""


class SeriesCache:
    """Finds or creates the series of each sample, remembering ids so most runs need no query."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._series: dict[SeriesKey, tuple[int, str]] = {}
        # (plugin, name, labels items as the plugin ordered them) -> the same (id, unit)
        self._by_sample: dict[tuple[int, str, tuple[tuple[str, str], ...]], tuple[int, str]] = {}

    def forget_plugin(self, plugin_id: int) -> None:
        self._series = {k: v for k, v in self._series.items() if k[0] != plugin_id}
        self._by_sample = {k: v for k, v in self._by_sample.items() if k[0] != plugin_id}

    def known(self, plugin_id: int, samples: list[Sample]) -> list[tuple[int, str]] | None:
        """Each sample's (series id, unit) when all are known already, without a query."""
        fast = self._by_sample
        try:
            refs = [fast.get((plugin_id, x.name, tuple(x.labels.items()))) for x in samples]
        except TypeError:  # an unhashable label value
            return None
        return None if None in refs else refs  # type: ignore[return-value]

    async def resolve(self, batches: list[Batch]) -> None:
        """Set each batch's `refs`: per sample its (series id, unit), None if its plugin is gone.

        A sample is looked up by (plugin, name, its labels as given) first, which needs no
        canonical key; only unseen ones get one and, if new, a series row.
        """
        fast = self._by_sample
        if len(fast) > SAMPLE_KEYS_MAX:
            fast.clear()
        wanted: dict[SeriesKey, Sample] = {}
        unresolved: list[tuple[Batch, list[int], list[SeriesKey], list[Any] | None]] = []
        n = 0
        for b in batches:
            pid, samples = b.plugin_id, b.samples
            raw: list[Any] | None
            try:
                raw = [(pid, x.name, tuple(x.labels.items())) for x in samples]
                b.refs = [fast.get(k) for k in raw]
            except TypeError:  # an unhashable label value: canonical keys only
                raw, b.refs = None, [None] * len(samples)
            if None in b.refs:
                missing = [i for i, r in enumerate(b.refs) if r is None]
                keys = [(pid, samples[i].name, labels_key(samples[i].labels)) for i in missing]
                unresolved.append((b, missing, keys, raw))
                for i, key in zip(missing, keys, strict=True):
                    if key not in self._series:
                        wanted.setdefault(key, samples[i])
            n += len(samples)
            if n >= YIELD_EVERY:
                n = 0
                await asyncio.sleep(0)  # a 100,000-sample run must not hold the loop
        if wanted:
            async with self.db.engine.connect() as conn:
                await self._create(conn, wanted)
                await conn.commit()
        for b, missing, keys, raw in unresolved:
            for i, key in zip(missing, keys, strict=True):
                ref = b.refs[i] = self._series.get(key)
                if ref is not None and raw is not None:
                    fast[raw[i]] = ref

    async def _create(self, conn: AsyncConnection, wanted: dict[SeriesKey, Sample]) -> None:
        """Insert the series not seen before (or read back those another replica made)."""
        plugin_ids = {k[0] for k in wanted}
        alive = set(
            await conn.scalars(select(PluginInstance.id).where(PluginInstance.id.in_(plugin_ids)))
        )
        values = [
            {
                "plugin_id": k[0],
                "name": k[1],
                "labels_key": k[2],
                "unit": s.unit[:32],
                "labels": dict(s.labels),
            }
            for k, s in wanted.items()
            if k[0] in alive
        ]
        new_keys = [k for k in wanted if k[0] in alive]  # in the order of `values`
        ins = pg_insert(Series) if not self.db.is_sqlite else sqlite_insert(Series)
        cols = (Series.id, Series.plugin_id, Series.name, Series.labels_key, Series.unit)
        # Chunked: one statement may carry at most 32767 parameters (asyncpg, SQLite).
        for start in range(0, len(values), SERIES_CHUNK):
            rows = values[start : start + SERIES_CHUNK]
            created = await conn.execute(
                ins.on_conflict_do_nothing(
                    index_elements=["plugin_id", "name", "labels_key"]
                ).returning(*cols),
                rows,  # executemany: one cached statement, sent in pages of rows
            )
            for sid, pid, name, lk, unit in created:
                self._series[(pid, name, lk)] = (sid, unit)
            # Those created meanwhile by another replica (or before a restart) are read back.
            keys = [k for k in new_keys[start : start + SERIES_CHUNK] if k not in self._series]
            if keys:
                found = await conn.execute(
                    select(*cols).where(
                        tuple_(Series.plugin_id, Series.name, Series.labels_key).in_(keys)
                    )
                )
                for sid, pid, name, lk, unit in found:
                    self._series[(pid, name, lk)] = (sid, unit)
