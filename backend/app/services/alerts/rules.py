"""What an alert rule means (its condition and label matchers) and rule CRUD."""

from __future__ import annotations

import logging
import math
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import InvalidInput
from app.db.queries import commit_unique, get_or_not_found
from app.models import AlertRule, AlertState, NotificationChannel, PluginInstance
from app.models.enums import AlertStateName
from app.schemas.alerts import RuleOut

if TYPE_CHECKING:  # the engine imports this module
    from app.services.alerts.engine import AlertService

log = logging.getLogger(__name__)

OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
ACTIVE = (AlertStateName.PENDING, AlertStateName.FIRING)


def condition(op: str, value: float | None, threshold: float) -> bool:
    if value is None or math.isnan(value):
        return False
    return OPS[op](value, threshold)


def labels_match(matchers: dict[str, str] | None, labels: dict[str, str] | None) -> bool:
    labels = labels or {}
    return all(labels.get(k) == v for k, v in (matchers or {}).items())


def rule_view(rule: AlertRule, counts: dict[int, dict[str, int]]) -> RuleOut:
    """A rule as the API shows it, with how many of its series are pending and firing."""
    mine = counts.get(rule.id, {})
    return RuleOut.model_validate(
        {
            **{f: getattr(rule, f) for f in RULE_FIELDS},
            "id": rule.id,
            "labels": dict(rule.labels or {}),
            "channel_ids": [c.id for c in rule.channels],
            "pending": mine.get("pending", 0),
            "firing": mine.get("firing", 0),
            "created_at": rule.created_at,
            "updated_at": rule.updated_at,
        }
    )


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
    return await get_or_not_found(
        session,
        AlertRule,
        rule_id,
        f"No alert rule with id {rule_id}; list them with GET /api/v1/alerts/rules.",
    )


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


async def check_plugin(session: AsyncSession, plugin_id: int | None) -> None:
    if plugin_id is not None and await session.get(PluginInstance, plugin_id) is None:
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
    "repeat_seconds",
    "enabled",
)


def _check_rule(rule: AlertRule) -> None:
    if rule.kind == "metric":
        if not rule.metric:
            raise InvalidInput("A metric rule needs `metric`: the sample name, e.g. cpu_percent.")
    else:
        rule.metric, rule.labels = None, {}


async def create_rule(
    session: AsyncSession, data: dict[str, Any], engine: AlertService | None = None
) -> AlertRule:
    channel_ids = data.pop("channel_ids", []) or []
    rule = AlertRule(**{k: v for k, v in data.items() if k in RULE_FIELDS})
    _check_rule(rule)
    await check_plugin(session, rule.plugin_id)
    rule.channels = await _channels(session, channel_ids)
    session.add(rule)
    await commit_unique(session, "An alert rule", rule.name)
    log.info("alert rule created", extra={"rule_id": rule.id, "kind": rule.kind})
    if engine is not None:
        engine.rules_changed()
    return rule


async def update_rule(
    session: AsyncSession,
    rule: AlertRule,
    changes: dict[str, Any],
    engine: AlertService | None = None,
) -> AlertRule:
    if "channel_ids" in changes:
        rule.channels = await _channels(session, changes.pop("channel_ids") or [])
    nullable = {"plugin_id", "metric"}
    for field in RULE_FIELDS:
        if field in changes and (changes[field] is not None or field in nullable):
            setattr(rule, field, changes[field])
    _check_rule(rule)
    await check_plugin(session, rule.plugin_id)
    await commit_unique(session, "An alert rule", rule.name)
    log.info("alert rule updated", extra={"rule_id": rule.id, "fields": ",".join(sorted(changes))})
    if engine is not None:
        engine.rules_changed()
    return rule


async def delete_rule(
    session: AsyncSession, rule: AlertRule, engine: AlertService | None = None
) -> None:
    # Its firing incidents stay in the history and resolve on the next evaluation tick.
    await session.delete(rule)
    await session.commit()
    log.info("alert rule deleted", extra={"rule_id": rule.id})
    if engine is not None:
        engine.rules_changed()  # else the engine keeps evaluating the rule it remembers


async def list_states(
    session: AsyncSession, rule_id: int | None, state: str | None
) -> list[AlertState]:
    q = select(AlertState)
    if rule_id is not None:
        q = q.where(AlertState.rule_id == rule_id)
    q = q.where(AlertState.state == state) if state else q.where(AlertState.state.in_(ACTIVE))
    return list(await session.scalars(q.order_by(AlertState.rule_id, AlertState.id)))
