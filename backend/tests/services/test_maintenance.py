"""Maintenance windows: occurrences across daylight-saving changes, cron weekdays, muting alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.core.errors import InvalidInput
from app.models import MaintenanceWindow
from app.services.alerts import maintenance
from tests.services.test_alerts import Env, settings  # noqa: F401 - fixtures
from tests.services.test_alerts import env as env  # a fixture

BERLIN = "Europe/Berlin"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def window(**fields: object) -> MaintenanceWindow:
    values: dict[str, object] = {
        "name": "w",
        "kind": "weekly",
        "starts_at": utc(2026, 1, 1),
        "ends_at": None,
        "weekdays": [6],
        "start_time": "03:00",
        "duration_seconds": 3600,
        "cron": None,
        "timezone": BERLIN,
        "all_plugins": True,
        "plugin_ids": [],
    }
    values.update(fields)
    return MaintenanceWindow(**values)


def starts(w: MaintenanceWindow, lo: datetime, hi: datetime) -> list[datetime]:
    return [s for s, _ in maintenance.occurrences(w, lo, hi)]


def test_weekly_local_time_keeps_its_wall_clock_across_both_dst_changes() -> None:
    w = window()  # Sundays 03:00 Berlin
    # Spring: CET (+1) on 22 March, CEST (+2) from 29 March.
    spring = [utc(2026, 3, 22, 2), utc(2026, 3, 29, 1)]
    assert starts(w, utc(2026, 3, 21), utc(2026, 4, 1)) == spring
    # Autumn: CEST until 25 October 03:00, then CET.
    assert starts(w, utc(2026, 10, 17), utc(2026, 10, 27)) == [
        utc(2026, 10, 18, 1),
        utc(2026, 10, 25, 2),
    ]
    # The duration is real time: one hour, even on the night the clock jumps.
    [(s, e)] = maintenance.occurrences(w, utc(2026, 3, 29), utc(2026, 3, 30))
    assert e - s == timedelta(hours=1)


def test_a_start_in_the_spring_gap_or_the_autumn_repeat_is_well_defined() -> None:
    w = window(start_time="02:30")
    # 02:30 does not exist on 29 March in Berlin: it begins when it would have (03:30 CEST).
    assert starts(w, utc(2026, 3, 29), utc(2026, 3, 30)) == [utc(2026, 3, 29, 1, 30)]
    # 02:30 happens twice on 25 October: the first one (still CEST) counts, once.
    assert starts(w, utc(2026, 10, 25), utc(2026, 10, 26)) == [utc(2026, 10, 25, 0, 30)]


def test_cron_weekdays_count_from_sunday_and_follow_the_zone() -> None:
    w = window(kind="cron", cron="0 3 * * 0", weekdays=[], start_time=None)
    spring = [utc(2026, 3, 22, 2), utc(2026, 3, 29, 1)]
    assert starts(w, utc(2026, 3, 21), utc(2026, 4, 1)) == spring
    weekdays = window(kind="cron", cron="30 22 * * 1-5", timezone="UTC")
    found = starts(weekdays, utc(2026, 3, 2), utc(2026, 3, 9))  # Monday to Monday
    assert [d.weekday() for d in found] == [0, 1, 2, 3, 4]
    with pytest.raises(InvalidInput, match="5 fields"):
        maintenance.cron_trigger("0 3 * *", maintenance.zone("UTC"))
    with pytest.raises(InvalidInput, match="IANA"):
        maintenance.zone("Mars/Olympus")


def test_occurrences_are_clipped_to_the_window_and_overlaps_are_found() -> None:
    w = window(starts_at=utc(2026, 3, 22, 2, 30), ends_at=utc(2026, 3, 29, 1, 15))
    assert maintenance.occurrences(w, utc(2026, 3, 20), utc(2026, 4, 10)) == [
        (utc(2026, 3, 22, 2, 30), utc(2026, 3, 22, 3)),
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 15)),
    ]
    # An occurrence that began before the range still overlaps it.
    assert maintenance.occurrences(window(), utc(2026, 3, 22, 2, 30), utc(2026, 3, 22, 2, 31))
    once = window(kind="once", starts_at=utc(2026, 5, 1, 20), ends_at=utc(2026, 5, 1, 22))
    assert maintenance.is_active(once, utc(2026, 5, 1, 21))
    assert not maintenance.is_active(once, utc(2026, 5, 1, 22))
    assert maintenance.next_start(once, utc(2026, 5, 1)) == utc(2026, 5, 1, 20)


async def test_maintenance_mutes_notices_until_it_ends(env: Env) -> None:
    await env.rule(for_seconds=0, keep_firing_seconds=0)
    now = env.clock()
    async with env.state.db.session() as s:
        await maintenance.create_window(
            s,
            {
                "name": "NAS firmware",
                "kind": "once",
                "starts_at": now - timedelta(minutes=1),
                "ends_at": now + timedelta(hours=1),
                "plugin_ids": [env.plugin_id],
                "timezone": "UTC",
            },
            "admin",
            now,
        )
    await env.sample(95)
    [incident] = await env.incidents()
    assert incident.status == "firing" and incident.silenced and not incident.notified
    assert incident.silence_id is None  # muted by maintenance, not by a silence
    await env.sample(96, advance=2 * 3600)  # maintenance is over, still firing: announced now
    await env.tick()
    [notice] = env.receiver.delivered
    assert notice["title"].startswith("[FIRING]")


def _expanded_next_start(w: MaintenanceWindow, now: datetime) -> datetime | None:
    """The old way: expand a year of occurrences and take the first that begins after now."""
    if w.kind == "once":
        return w.starts_at if w.starts_at > now else None
    return next(
        (s for s, _ in maintenance.occurrences(w, now, now + timedelta(days=370)) if s > now), None
    )


def test_next_start_is_computed_directly_and_matches_expanding_occurrences() -> None:
    cron = {"kind": "cron", "cron": "0 3 * * 0", "weekdays": [], "start_time": None}
    cases = [
        window(),
        window(start_time="02:30"),
        window(**cron),
        window(**{**cron, "cron": "*/5 * * * *"}),
        window(starts_at=utc(2026, 3, 29, 1, 30)),  # opens during a running occurrence
        window(**cron, starts_at=utc(2026, 3, 29, 1, 30)),
        window(starts_at=utc(2026, 1, 1), ends_at=utc(2026, 3, 29, 1, 15)),
        window(**cron, ends_at=utc(2026, 3, 29, 1, 15)),
    ]
    moments = [utc(2026, 3, 21), utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 20), utc(2026, 10, 25)]
    for w in cases:
        for now in moments:
            assert maintenance.next_start(w, now) == _expanded_next_start(w, now), (w.cron, now)
    ended = window(**{**cron, "cron": "* * * * *"}, ends_at=utc(2026, 2, 1))
    assert maintenance.next_start(ended, utc(2026, 3, 1)) is None
    assert maintenance.occurrences(ended, utc(2026, 3, 1), utc(2027, 3, 1)) == []


async def test_muted_names_a_silence_first_then_a_window_loaded_once_or_per_call(env: Env) -> None:
    from app.models import AlertSilence
    from app.services.alerts import silences

    now = env.clock()
    async with env.state.db.session() as s:
        assert await silences.muted(s, now, env.plugin_id, None) is None
        w = await maintenance.create_window(
            s,
            {
                "name": "NAS firmware",
                "kind": "once",
                "starts_at": now - timedelta(minutes=1),
                "ends_at": now + timedelta(hours=1),
                "plugin_ids": [env.plugin_id],
                "timezone": "UTC",
            },
            "admin",
            now,
        )
        windows = await silences.in_force_windows(s, now)
        for loaded in (None, windows):
            found = await silences.muted(s, now, env.plugin_id, None, loaded)
            assert isinstance(found, MaintenanceWindow) and found.id == w.id
            assert await silences.muted(s, now, env.plugin_id + 1, None, loaded) is None
        await silences.create_silence(
            s,
            {
                "plugin_id": None,
                "rule_id": None,
                "starts_at": now - timedelta(minutes=1),
                "ends_at": now + timedelta(hours=1),
                "comment": "upgrade",
            },
            "admin",
        )
        assert isinstance(await silences.muted(s, now, env.plugin_id, None), AlertSilence)
