"""The SQL the roll-up tiers are built with: buckets per dialect, the recent window, dirty ones."""

from __future__ import annotations

from sqlalchemy import Integer, text

from app.models.base import UTCDateTime


def bucket_sql(dialect: str, seconds: int) -> str:
    if dialect == "postgresql":
        return f"date_bin(interval '{seconds} seconds', ts, timestamptz '2000-01-01 00:00:00+00')"
    # same text form SQLAlchemy stores on SQLite, so comparisons stay exact
    return (
        f"strftime('%Y-%m-%d %H:%M:%S', (CAST(strftime('%s', ts) AS INTEGER) / {seconds}) * "
        f"{seconds}, 'unixepoch') || '.000000'"
    )


def window() -> str:
    return "WHERE ts >= :lo AND ts < :hi"


def dirty_join(dialect: str, seconds: int) -> str:
    """Only the source rows of the dirty (series, bucket) keys bound to the statement."""
    if dialect == "postgresql":
        return (
            "JOIN unnest(CAST(:ids AS bigint[]), CAST(:los AS timestamptz[])) AS d(sid, lo) "
            f"ON series_id = d.sid AND ts >= d.lo AND ts < d.lo + interval '{seconds} seconds'"
        )
    return (
        "JOIN (SELECT json_extract(value, '$[0]') AS sid, json_extract(value, '$[1]') AS lo, "
        "json_extract(value, '$[2]') AS hi FROM json_each(:keys)) AS d "
        "ON series_id = d.sid AND ts >= d.lo AND ts < d.hi"
    )


TAKE_DIRTY = text(
    "DELETE FROM rollup_dirty WHERE tier = :tier AND (series_id, bucket) IN "
    "(SELECT series_id, bucket FROM rollup_dirty WHERE tier = :tier LIMIT :batch) "
    "RETURNING series_id, bucket"
).columns(series_id=Integer(), bucket=UTCDateTime())


def rollup_sql(dialect: str, source: str, target: str, seconds: int, scope: str) -> str:
    """Roll `source` rows up into `target` buckets of `seconds`; `scope` picks the rows."""
    bucket = bucket_sql(dialect, seconds)
    raw = source == "samples"
    mn, mx, sm, ct, lv = (
        ("value", "value", "value", "1", "value")
        if raw
        else ("vmin", "vmax", "vsum", "vcount", "vlast")
    )
    upsert = (
        "ON CONFLICT (series_id, ts) DO UPDATE SET vmin = excluded.vmin, vmax = excluded.vmax, "
        "vsum = excluded.vsum, vcount = excluded.vcount, vlast = excluded.vlast"
    )
    if dialect == "postgresql":
        return (
            f"INSERT INTO {target} (series_id, ts, vmin, vmax, vsum, vcount, vlast) "  # noqa: S608 - identifiers are constants  # nosec B608
            f"SELECT series_id, {bucket}, min({mn}), max({mx}), sum({sm}), sum({ct}), "
            f"(array_agg({lv} ORDER BY ts DESC))[1] FROM {source} "
            f"{scope} GROUP BY 1, 2 {upsert}"
        )
    # SQLite: the bare column `lv` comes from the row holding max(ts)
    return (
        f"INSERT INTO {target} (series_id, ts, vmin, vmax, vsum, vcount, vlast) "  # noqa: S608 - identifiers are constants  # nosec B608
        f"SELECT series_id, b, mn, mx, sm, ct, lv FROM ("
        f"SELECT series_id, {bucket} AS b, min({mn}) AS mn, max({mx}) AS mx, sum({sm}) AS sm, "
        f"sum({ct}) AS ct, {lv} AS lv, max(ts) FROM {source} "
        f"{scope} GROUP BY series_id, b) WHERE true {upsert}"
    )
