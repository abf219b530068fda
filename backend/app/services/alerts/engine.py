"""Alert evaluation (as events arrive and on a timer), incidents, silences and rule CRUD.

States per rule and series (metric rules) or plugin (health rules):

    (nothing) --condition true--> pending --true for `for_seconds`--> firing
    pending --condition false--> (nothing: the pending row is dropped, no incident)
    firing --false for `keep_firing_seconds`--> resolved (a true value meanwhile resets the wait)
    resolved --condition true--> pending (a new incident when it fires again)

The resolve hysteresis is a "keep firing for" window, like Prometheus' `keep_firing_for`: a value
that dips under the threshold for one sample does not resolve and re-fire the alert. It is measured
on the clock, so it works the same for plugins that report every 10 s or every 10 minutes (the timer
re-reads the latest value of every matching series while it is fresh).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.worker import Outage
from app.db.session import Database, is_unavailable
from app.models import (
    AlertIncident,
    AlertRule,
    AlertSilence,
    AlertState,
    MaintenanceWindow,
    PluginInstance,
)
from app.models.enums import IncidentEventKind
from app.services.alerts import dependencies, network, notices
from app.services.alerts import observations as observations_of
from app.services.alerts.incidents import add_event
from app.services.alerts.messages import summary
from app.services.alerts.observations import Observation
from app.services.alerts.rules import ACTIVE
from app.services.alerts.silences import in_force_windows, muted
from app.services.notify.notifier import Clock, Notifier, utc_now

log = logging.getLogger(__name__)

EVENT_QUEUE = 10_000


class AlertService:
    """Turns metrics and health into alert states and incidents; hands notices to the Notifier."""

    def __init__(
        self, db: Database, settings: Settings, notifier: Notifier, clock: Clock = utc_now
    ) -> None:
        self.db = db
        self.settings = settings
        self.notifier = notifier
        self.clock = clock
        self.dropped_events = 0
        self._outage = Outage(
            log, "alert evaluation", lambda: "events are not evaluated until it is back"
        )
        self.evaluations = 0
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(EVENT_QUEUE)
        self._worker: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._any_rules: bool | None = None  # None: not known, look in the database
        self._wake = False

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        self._worker = asyncio.create_task(self._work(), name="alert-evaluator")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self.notifier.close()

    async def on_event(self, event: dict[str, Any]) -> None:
        """Hub listener: queue metrics and health events; never blocks the publisher."""
        if event.get("type") not in ("metrics", "health"):
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            # The timer re-reads the latest values, so a dropped event only delays evaluation.
            self.dropped_events += 1

    async def idle(self) -> None:
        """Wait until every queued event is evaluated and woken deliveries are attempted."""
        await self._queue.join()
        await self.notifier.idle()

    async def _work(self) -> None:
        while True:
            events = [await self._queue.get()]
            while len(events) < 500:
                try:
                    events.append(self._queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
            try:
                await self.evaluate_events(events)
            except Exception as exc:
                if not is_unavailable(exc):
                    log.exception("alert evaluation failed")
                else:  # the database is away: a few lines for the outage, not a traceback each
                    self._outage.failed(exc)
            else:
                self._outage.recovered()
            finally:
                for _ in events:
                    self._queue.task_done()

    # ----------------------------------------------------------------- evaluation
    def rules_changed(self) -> None:
        """A rule was created or changed here: look them up again with the next events."""
        self._any_rules = None

    async def evaluate_events(self, events: Iterable[dict[str, Any]]) -> None:
        if self._any_rules is False:
            # No enabled rule at the last look (the timer looks every ALERT_EVAL_SECONDS, and a
            # change through this replica's API at once): no session for every run's events.
            return
        async with self._lock, self.db.session() as session:
            rules = await _enabled_rules(session)
            self._any_rules = bool(rules)
            if not rules:
                return
            now = self.clock()
            for event in events:
                plugin_id = event.get("plugin_id")
                for rule in rules:
                    if rule.plugin_id is not None and rule.plugin_id != plugin_id:
                        continue
                    for obs in observations_of.from_event(rule, event):
                        await self._observe(session, rule, obs, now)
            await self._commit(session)

    async def tick(self) -> None:
        """The timer: re-evaluate every rule against current data, then send what is due."""
        try:
            async with self._lock, self.db.session() as session:
                now = self.clock()
                rules = await _enabled_rules(session)
                self._any_rules = bool(rules)
                for rule in rules:
                    await self._evaluate_rule(session, rule, now)
                await self._close_inactive_rules(session, {r.id for r in rules}, now)
                await self._close_orphans(session, now)
                await self._notify_after_silence(session, now)
                if await notices.queue_repeats(session, now, self.settings.notify_group_seconds):
                    self._wake = True
                if await network.announce_due(session, now, self.settings):
                    self._wake = True
                await self._prune(session, now)
                await self._commit(session)
        finally:
            await self.notifier.process_due()

    async def _commit(self, session: AsyncSession) -> None:
        await session.commit()
        if self._wake:
            self._wake = False
            self.notifier.wake()

    async def _evaluate_rule(self, session: AsyncSession, rule: AlertRule, now: datetime) -> None:
        observations, known = await observations_of.current(
            session, rule, now, self.settings.alert_eval_seconds
        )
        for obs in observations:
            await self._observe(session, rule, obs, now)
        seen = {o.key for o in observations}
        states = await session.scalars(
            select(AlertState).where(AlertState.rule_id == rule.id, AlertState.state.in_(ACTIVE))
        )
        for st in states:
            if st.key in seen or st.key in known:
                continue  # observed, or a stale series of an enabled plugin: keep as is
            why = (
                "the series is no longer reported"
                if rule.kind == "metric"
                else "the plugin is gone"
            )
            gone = Observation(st.key, st.plugin_id, st.series_id, st.labels, False, st.value, why)
            await self._end(session, rule, st, gone, now)

    async def _observe(
        self, session: AsyncSession, rule: AlertRule, obs: Observation, now: datetime
    ) -> None:
        self.evaluations += 1
        st = await session.scalar(
            select(AlertState).where(AlertState.rule_id == rule.id, AlertState.key == obs.key)
        )
        if st is None or st.state == "resolved":
            if not obs.active:
                return
            if st is None:
                st = AlertState(rule_id=rule.id, key=obs.key)
                session.add(st)
            st.plugin_id, st.series_id, st.labels = obs.plugin_id, obs.series_id, obs.labels
            st.state, st.active_since, st.firing_since = "pending", now, None
            st.clear_since = st.resolved_at = st.incident_id = None
            st.value, st.evaluated_at = obs.value, now
            if rule.for_seconds <= 0:
                await self._fire(session, rule, st, now)
            return
        st.value, st.evaluated_at = obs.value, now
        if st.state == "pending":
            if not obs.active:
                await session.delete(st)
            elif st.active_since is None or now - st.active_since >= timedelta(
                seconds=rule.for_seconds
            ):
                await self._fire(session, rule, st, now)
            return
        # firing
        incident = await session.get(AlertIncident, st.incident_id) if st.incident_id else None
        if incident is not None:
            incident.last_value = obs.value
        if obs.active:
            st.clear_since = None
            return
        if st.clear_since is None:
            st.clear_since = now
        if now - st.clear_since >= timedelta(seconds=rule.keep_firing_seconds):
            await self._end(session, rule, st, obs, now)

    async def _fire(
        self, session: AsyncSession, rule: AlertRule, st: AlertState, now: datetime
    ) -> None:
        plugin = (
            await session.get(PluginInstance, st.plugin_id) if st.plugin_id is not None else None
        )
        # Planned maintenance mutes like a silence does (it is also left out of uptime).
        muted_by = await muted(session, now, st.plugin_id, rule.id)
        silence = muted_by if isinstance(muted_by, AlertSilence) else None
        # A parent that is down explains this: record it, tell nobody (the parent's notice does).
        parent = await dependencies.down_parent(session, st.plugin_id) if st.plugin_id else None
        # Unity's own network is down (the canary): this failure may be ours, not the check's.
        offline = await network.is_down(session)
        held = offline and self.settings.canary_hold_notifications
        incident = AlertIncident(
            rule_id=rule.id,
            rule_name=rule.name,
            rule=rule.snapshot(),
            kind=rule.kind,
            severity=rule.severity,
            plugin_id=st.plugin_id,
            plugin_name=plugin.name if plugin else None,
            series_id=st.series_id,
            metric=rule.metric if rule.kind == "metric" else None,
            labels=dict(st.labels or {}),
            status="firing",
            started_at=st.active_since or now,
            fired_at=now,
            value=st.value,
            last_value=st.value,
            silenced=muted_by is not None,
            silence_id=silence.id if silence else None,
            notified=muted_by is None and parent is None and not held,
            network_down=offline,
            suppressed_by_id=parent.id if parent else None,
            suppressed_by=parent.name if parent else None,
        )
        incident.summary = summary(incident)
        session.add(incident)
        await session.flush()
        await dependencies.record_opened(session, incident, parent, now)
        if offline:
            note = network.UNKNOWN_NOTE + ("; notice held" if held else "")
            add_event(session, incident.id, IncidentEventKind.UNKNOWN, note, now)
        st.state, st.firing_since, st.incident_id, st.clear_since = "firing", now, incident.id, None
        log.warning(
            "alert firing: %s",
            incident.summary,
            extra={
                "rule_id": rule.id,
                "incident_id": incident.id,
                "plugin_id": st.plugin_id,
                "silenced": incident.silenced,
                "suppressed_by": incident.suppressed_by_id,
                "network_down": offline,
            },
        )
        if incident.notified:
            await self._enqueue(session, incident, "firing", now)

    async def _end(
        self,
        session: AsyncSession,
        rule: AlertRule | None,
        st: AlertState,
        obs: Observation,
        now: datetime,
    ) -> None:
        """Leave the active state: a pending one disappears, a firing one resolves its incident."""
        if st.state == "pending":
            await session.delete(st)
            return
        st.state, st.resolved_at, st.clear_since = "resolved", now, None
        incident = await session.get(AlertIncident, st.incident_id) if st.incident_id else None
        if incident is not None and incident.status == "firing":
            await self._resolve(session, incident, obs.value, obs.reason, now)

    async def _resolve(
        self,
        session: AsyncSession,
        incident: AlertIncident,
        value: float | None,
        reason: str,
        now: datetime,
    ) -> None:
        incident.status, incident.resolved_at = "resolved", now
        incident.resolved_value, incident.resolved_reason = value, reason[:200]
        add_event(session, incident.id, IncidentEventKind.RESOLVED, reason, now)
        log.info(
            "alert resolved: %s (%s)",
            incident.summary,
            reason,
            extra={
                "rule_id": incident.rule_id,
                "incident_id": incident.id,
                "plugin_id": incident.plugin_id,
            },
        )
        if incident.notified:  # a resolved notice only follows a firing notice
            await self._enqueue(session, incident, "resolved", now)

    async def _enqueue(
        self, session: AsyncSession, incident: AlertIncident, kind: str, now: datetime
    ) -> None:
        if await notices.queue(session, incident, kind, now, self.settings.notify_group_seconds):
            self._wake = True

    async def _close_inactive_rules(
        self, session: AsyncSession, enabled: set[int], now: datetime
    ) -> None:
        """Rules that were disabled end their pending and firing states."""
        q = select(AlertState, AlertRule).join(AlertRule).where(AlertState.state.in_(ACTIVE))
        if enabled:
            q = q.where(AlertState.rule_id.not_in(enabled))
        for st, rule in (await session.execute(q)).all():
            obs = Observation(
                st.key,
                st.plugin_id,
                st.series_id,
                st.labels,
                False,
                st.value,
                "the rule was disabled",
            )
            await self._end(session, rule, st, obs, now)

    async def _close_orphans(self, session: AsyncSession, now: datetime) -> None:
        """Firing incidents whose state is gone (rule or plugin deleted) resolve."""
        owned = select(AlertState.incident_id).where(
            AlertState.incident_id.is_not(None), AlertState.state == "firing"
        )
        orphans = await session.scalars(
            select(AlertIncident).where(
                AlertIncident.status == "firing", AlertIncident.id.not_in(owned)
            )
        )
        for incident in orphans:
            await self._resolve(
                session, incident, incident.last_value, "its rule or plugin was deleted", now
            )

    async def _notify_after_silence(self, session: AsyncSession, now: datetime) -> None:
        """An alert that fired during a silence, or while a parent was down, and still fires
        after that ends is announced then."""
        held = await session.scalars(
            select(AlertIncident).where(
                AlertIncident.status == "firing", AlertIncident.notified.is_(False)
            )
        )
        windows: list[MaintenanceWindow] | None = None  # loaded once per tick, if any are held
        for incident in held:
            if await dependencies.still_held(session, incident, now):
                continue
            if await network.holding(session, incident):
                continue  # the outage's notice releases it
            if windows is None:
                windows = await in_force_windows(session, now)
            if await muted(session, now, incident.plugin_id, incident.rule_id, windows) is None:
                incident.notified = True
                await self._enqueue(session, incident, "firing", now)

    async def _prune(self, session: AsyncSession, now: datetime) -> None:
        cutoff = now - timedelta(days=self.settings.alert_history_days)
        await session.execute(
            delete(AlertIncident).where(
                AlertIncident.status == "resolved", AlertIncident.fired_at < cutoff
            )
        )
        await session.execute(delete(AlertSilence).where(AlertSilence.ends_at < cutoff))


async def _enabled_rules(session: AsyncSession) -> list[AlertRule]:
    return list(await session.scalars(select(AlertRule).where(AlertRule.enabled.is_(True))))
