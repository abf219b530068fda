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
import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import Conflict, InvalidInput, NotFound
from app.db.session import Database
from app.models import (
    AlertIncident,
    AlertRule,
    AlertSilence,
    AlertState,
    NotificationChannel,
    NotificationDelivery,
    Plugin,
    PluginHealth,
    Series,
)
from app.services.notify import notifier as notifications
from app.services.notify.notifier import Clock, Notifier, utc_now

log = logging.getLogger(__name__)

OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
ACTIVE = ("pending", "firing")
EVENT_QUEUE = 10_000


def condition(op: str, value: float | None, threshold: float) -> bool:
    if value is None or math.isnan(value):
        return False
    return OPS[op](value, threshold)


def labels_match(matchers: dict[str, str] | None, labels: dict[str, str] | None) -> bool:
    labels = labels or {}
    return all(labels.get(k) == v for k, v in (matchers or {}).items())


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"


def _labels_text(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


@dataclass
class Observation:
    key: str
    plugin_id: int | None
    series_id: int | None
    labels: dict[str, str]
    active: bool
    value: float | None
    reason: str = "the condition cleared"


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
            except Exception:
                log.exception("alert evaluation failed")
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
                    for obs in _event_observations(rule, event):
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
        observations, known = await self._current(session, rule, now)
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

    async def _current(
        self, session: AsyncSession, rule: AlertRule, now: datetime
    ) -> tuple[list[Observation], set[str]]:
        """Observations from the database, and the keys that exist but have no fresh value."""
        observations: list[Observation] = []
        known: set[str] = set()
        if rule.kind == "health":
            hq = select(PluginHealth, Plugin.enabled).join(
                Plugin, Plugin.id == PluginHealth.plugin_id
            )
            if rule.plugin_id is not None:
                hq = hq.where(PluginHealth.plugin_id == rule.plugin_id)
            for health, enabled in (await session.execute(hq)).all():
                active = enabled and health.status == "down"
                reason = "the plugin is healthy again" if enabled else "the plugin was disabled"
                observations.append(
                    Observation(
                        f"plugin:{health.plugin_id}",
                        health.plugin_id,
                        None,
                        {},
                        active,
                        float(health.consecutive_failures or 0),
                        reason,
                    )
                )
            return observations, known
        q = (
            select(Series, Plugin.interval_seconds)
            .join(Plugin, Plugin.id == Series.plugin_id)
            .where(Series.name == rule.metric, Plugin.enabled.is_(True))
        )
        if rule.plugin_id is not None:
            q = q.where(Series.plugin_id == rule.plugin_id)
        for series, interval in (await session.execute(q)).all():
            if not labels_match(rule.labels, series.labels):
                continue
            key = f"series:{series.id}"
            fresh_for = timedelta(seconds=2 * interval + self.settings.alert_eval_seconds)
            if (
                series.last_ts is None
                or series.last_value is None
                or now - series.last_ts > fresh_for
            ):
                known.add(key)
                continue
            observations.append(
                Observation(
                    key,
                    series.plugin_id,
                    series.id,
                    dict(series.labels or {}),
                    condition(rule.op, series.last_value, rule.threshold),
                    series.last_value,
                )
            )
        return observations, known

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
        plugin = await session.get(Plugin, st.plugin_id) if st.plugin_id is not None else None
        silence = await active_silence(session, now, st.plugin_id, rule.id)
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
            silenced=silence is not None,
            silence_id=silence.id if silence else None,
            notified=silence is None,
        )
        incident.summary = summary(incident)
        session.add(incident)
        await session.flush()
        st.state, st.firing_since, st.incident_id, st.clear_since = "firing", now, incident.id, None
        log.warning(
            "alert firing: %s",
            incident.summary,
            extra={
                "rule_id": rule.id,
                "incident_id": incident.id,
                "plugin_id": st.plugin_id,
                "silenced": incident.silenced,
            },
        )
        if not incident.silenced:
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
        wanted = [int(i) for i in (incident.rule or {}).get("channel_ids", [])]
        if not wanted:
            return
        q = select(NotificationChannel.id).where(
            NotificationChannel.id.in_(wanted), NotificationChannel.enabled.is_(True)
        )
        if kind == "resolved":
            q = q.where(NotificationChannel.send_resolved.is_(True))
        channel_ids = list(await session.scalars(q))
        if not channel_ids:
            return
        title, body, notify_type = message(incident, kind)
        notifications.enqueue(
            session,
            channel_ids,
            incident_id=incident.id,
            kind=kind,
            title=title,
            body=body,
            notify_type=notify_type,
            now=now,
        )
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
        """An alert that fired during a silence and still fires after it ends is announced then."""
        held = await session.scalars(
            select(AlertIncident).where(
                AlertIncident.status == "firing", AlertIncident.notified.is_(False)
            )
        )
        for incident in held:
            rule_id = incident.rule_id
            if await active_silence(session, now, incident.plugin_id, rule_id) is None:
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


def _event_observations(rule: AlertRule, event: dict[str, Any]) -> list[Observation]:
    plugin_id = event.get("plugin_id")
    if rule.kind == "health" and event.get("type") == "health":
        health = event.get("health") or {}
        return [
            Observation(
                f"plugin:{plugin_id}",
                plugin_id,
                None,
                {},
                health.get("status") == "down",
                float(health.get("consecutive_failures") or 0),
                "the plugin is healthy again",
            )
        ]
    if rule.kind != "metric" or event.get("type") != "metrics":
        return []
    out = []
    for s in event.get("samples") or []:
        if s.get("name") != rule.metric or not labels_match(rule.labels, s.get("labels")):
            continue
        value = s.get("value")
        value = float(value) if isinstance(value, int | float) else None
        out.append(
            Observation(
                f"series:{s.get('series_id')}",
                plugin_id,
                s.get("series_id"),
                dict(s.get("labels") or {}),
                condition(rule.op, value, rule.threshold),
                value,
            )
        )
    return out


async def _enabled_rules(session: AsyncSession) -> list[AlertRule]:
    return list(await session.scalars(select(AlertRule).where(AlertRule.enabled.is_(True))))


async def active_silence(
    session: AsyncSession, now: datetime, plugin_id: int | None, rule_id: int | None
) -> AlertSilence | None:
    q = select(AlertSilence).where(AlertSilence.starts_at <= now, AlertSilence.ends_at > now)
    q = q.where((AlertSilence.plugin_id.is_(None)) | (AlertSilence.plugin_id == plugin_id))
    q = q.where((AlertSilence.rule_id.is_(None)) | (AlertSilence.rule_id == rule_id))
    return await session.scalar(q.order_by(AlertSilence.id).limit(1))


def summary(incident: AlertIncident) -> str:
    where = incident.plugin_name or (f"plugin {incident.plugin_id}" if incident.plugin_id else "")
    rule = incident.rule or {}
    if incident.kind == "health":
        return f"{where} is down (for at least {_duration(rule.get('for_seconds', 0))})"
    return (
        f"{incident.metric}{_labels_text(incident.labels)} on {where} is {_fmt(incident.value)} "
        f"({rule.get('op')} {_fmt(rule.get('threshold'))})"
    )


def message(incident: AlertIncident, kind: str) -> tuple[str, str, str]:
    """(title, body, Apprise notify type) for a firing or resolved notice."""
    if kind == "firing":
        title = f"[FIRING] {incident.rule_name}: {incident.plugin_name or 'Unity'}"
        lines = [
            incident.summary,
            f"Severity: {incident.severity}",
            f"Since: {incident.fired_at:%Y-%m-%d %H:%M:%S} UTC",
        ]
        if incident.silenced:
            lines.append("It started during a silence that has now ended.")
        notify_type = (
            "failure"
            if incident.severity == "critical"
            else ("warning" if incident.severity == "warning" else "info")
        )
    else:
        title = f"[RESOLVED] {incident.rule_name}: {incident.plugin_name or 'Unity'}"
        lasted = (incident.resolved_at or incident.fired_at) - incident.fired_at
        lines = [
            incident.summary,
            f"Resolved: {incident.resolved_reason}",
            f"Value now: {_fmt(incident.resolved_value)}",
            f"Fired for {_duration(lasted.total_seconds())}",
        ]
        notify_type = "success"
    return title, "\n".join(lines), notify_type


# --------------------------------------------------------------------- rule CRUD
async def list_rules(session: AsyncSession) -> list[AlertRule]:
    return list(await session.scalars(select(AlertRule).order_by(AlertRule.id)))


async def state_counts(session: AsyncSession) -> dict[int, dict[str, int]]:
    rows = await session.execute(
        select(AlertState.rule_id, AlertState.state, func.count())
        .where(AlertState.state.in_(ACTIVE))
        .group_by(AlertState.rule_id, AlertState.state)
    )
    out: dict[int, dict[str, int]] = {}
    for rule_id, state, count in rows.all():
        out.setdefault(rule_id, {})[state] = int(count)
    return out


async def get_rule(session: AsyncSession, rule_id: int) -> AlertRule:
    rule = await session.get(AlertRule, rule_id)
    if rule is None:
        raise NotFound(f"No alert rule with id {rule_id}; list them with GET /api/v1/alerts/rules.")
    return rule


async def _channels(session: AsyncSession, ids: list[int]) -> list[NotificationChannel]:
    wanted = sorted(set(ids))
    found = list(
        await session.scalars(select(NotificationChannel).where(NotificationChannel.id.in_(wanted)))
    )
    missing = set(wanted) - {c.id for c in found}
    if missing:
        raise InvalidInput(
            f"No notification channel with id {', '.join(map(str, sorted(missing)))}."
        )
    return found


async def _check_plugin(session: AsyncSession, plugin_id: int | None) -> None:
    if plugin_id is not None and await session.get(Plugin, plugin_id) is None:
        raise InvalidInput(f"No plugin with id {plugin_id}.")


RULE_FIELDS = (
    "name",
    "kind",
    "description",
    "plugin_id",
    "metric",
    "labels",
    "op",
    "threshold",
    "for_seconds",
    "keep_firing_seconds",
    "severity",
    "enabled",
)


def _check_rule(rule: AlertRule) -> None:
    if rule.kind == "metric":
        if not rule.metric:
            raise InvalidInput("A metric rule needs `metric`: the sample name, e.g. cpu_percent.")
    else:
        rule.metric, rule.labels = None, {}


async def create_rule(session: AsyncSession, data: dict[str, Any]) -> AlertRule:
    channel_ids = data.pop("channel_ids", []) or []
    rule = AlertRule(**{k: v for k, v in data.items() if k in RULE_FIELDS})
    _check_rule(rule)
    await _check_plugin(session, rule.plugin_id)
    rule.channels = await _channels(session, channel_ids)
    session.add(rule)
    await _commit_unique(session, rule.name)
    log.info("alert rule created", extra={"rule_id": rule.id, "kind": rule.kind})
    return rule


async def update_rule(session: AsyncSession, rule: AlertRule, changes: dict[str, Any]) -> AlertRule:
    if "channel_ids" in changes:
        rule.channels = await _channels(session, changes.pop("channel_ids") or [])
    nullable = {"plugin_id", "metric"}
    for field in RULE_FIELDS:
        if field in changes and (changes[field] is not None or field in nullable):
            setattr(rule, field, changes[field])
    _check_rule(rule)
    await _check_plugin(session, rule.plugin_id)
    await _commit_unique(session, rule.name)
    log.info("alert rule updated", extra={"rule_id": rule.id, "fields": ",".join(sorted(changes))})
    return rule


async def delete_rule(session: AsyncSession, rule: AlertRule) -> None:
    # Its firing incidents stay in the history and resolve on the next evaluation tick.
    await session.delete(rule)
    await session.commit()
    log.info("alert rule deleted", extra={"rule_id": rule.id})


async def _commit_unique(session: AsyncSession, name: str) -> None:
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"An alert rule named {name!r} already exists; pick another name.") from None


# --------------------------------------------------------------------- states and incidents
async def list_states(
    session: AsyncSession, rule_id: int | None, state: str | None
) -> list[AlertState]:
    q = select(AlertState)
    if rule_id is not None:
        q = q.where(AlertState.rule_id == rule_id)
    q = q.where(AlertState.state == state) if state else q.where(AlertState.state.in_(ACTIVE))
    return list(await session.scalars(q.order_by(AlertState.rule_id, AlertState.id)))


async def list_incidents(
    session: AsyncSession,
    *,
    status: str | None = None,
    rule_id: int | None = None,
    plugin_id: int | None = None,
    severity: str | None = None,
    silenced: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AlertIncident], int]:
    where: list[Any] = []
    if status:
        where.append(AlertIncident.status == status)
    if rule_id is not None:
        where.append(AlertIncident.rule_id == rule_id)
    if plugin_id is not None:
        where.append(AlertIncident.plugin_id == plugin_id)
    if severity:
        where.append(AlertIncident.severity == severity)
    if silenced is not None:
        where.append(AlertIncident.silenced.is_(silenced))
    if since is not None:
        where.append(AlertIncident.fired_at >= since)
    if until is not None:
        where.append(AlertIncident.fired_at < until)
    total = await session.scalar(select(func.count()).select_from(AlertIncident).where(*where))
    rows = await session.scalars(
        select(AlertIncident)
        .where(*where)
        .order_by(AlertIncident.fired_at.desc(), AlertIncident.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total or 0)


async def get_incident(session: AsyncSession, incident_id: int) -> AlertIncident:
    incident = await session.get(AlertIncident, incident_id)
    if incident is None:
        raise NotFound(f"No incident with id {incident_id}.")
    return incident


async def incident_deliveries(
    session: AsyncSession, incident_id: int
) -> list[NotificationDelivery]:
    return list(
        await session.scalars(
            select(NotificationDelivery)
            .where(NotificationDelivery.incident_id == incident_id)
            .order_by(NotificationDelivery.id)
        )
    )


async def firing_incidents(session: AsyncSession) -> list[AlertIncident]:
    """Every firing incident (for the Prometheus export)."""
    return list(
        await session.scalars(
            select(AlertIncident).where(AlertIncident.status == "firing").order_by(AlertIncident.id)
        )
    )


# --------------------------------------------------------------------- silences
async def list_silences(session: AsyncSession, active_at: datetime | None) -> list[AlertSilence]:
    q = select(AlertSilence)
    if active_at is not None:
        q = q.where(AlertSilence.starts_at <= active_at, AlertSilence.ends_at > active_at)
    return list(
        await session.scalars(q.order_by(AlertSilence.starts_at.desc(), AlertSilence.id.desc()))
    )


async def get_silence(session: AsyncSession, silence_id: int) -> AlertSilence:
    silence = await session.get(AlertSilence, silence_id)
    if silence is None:
        raise NotFound(f"No silence with id {silence_id}.")
    return silence


def _check_window(silence: AlertSilence) -> None:
    if silence.ends_at <= silence.starts_at:
        raise InvalidInput("ends_at must be after starts_at.")


async def create_silence(session: AsyncSession, data: dict[str, Any], user: str) -> AlertSilence:
    await _check_plugin(session, data.get("plugin_id"))
    if data.get("rule_id") is not None:
        await get_rule(session, data["rule_id"])
    silence = AlertSilence(**data, created_by=user)
    _check_window(silence)
    session.add(silence)
    await session.commit()
    log.info("silence created", extra={"silence_id": silence.id, "plugin_id": silence.plugin_id})
    return silence


async def update_silence(
    session: AsyncSession, silence: AlertSilence, changes: dict[str, Any]
) -> AlertSilence:
    if "plugin_id" in changes:
        await _check_plugin(session, changes["plugin_id"])
    if changes.get("rule_id") is not None:
        await get_rule(session, changes["rule_id"])
    for field in ("plugin_id", "rule_id", "starts_at", "ends_at", "comment"):
        if field in changes and (changes[field] is not None or field in ("plugin_id", "rule_id")):
            setattr(silence, field, changes[field])
    _check_window(silence)
    await session.commit()
    log.info("silence updated", extra={"silence_id": silence.id})
    return silence


async def delete_silence(session: AsyncSession, silence: AlertSilence) -> None:
    await session.delete(silence)
    await session.commit()
    log.info("silence deleted", extra={"silence_id": silence.id})
