"""Writes an audit row for each change to a configuration object, in the flush that makes it.

A session event (after_flush) sees every ORM insert, update and delete of the audited classes
with their attribute history, so the diff is exact and the row commits or rolls back with the
change itself. Secret columns are reported as "changed", never with a value.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.core.security import SecretBox
from app.db.session import Database
from app.models import (
    AlertRule,
    AlertSilence,
    ApiToken,
    AuditEntry,
    Event,
    MaintenanceWindow,
    NotificationChannel,
    PluginInstance,
    PushMonitor,
    StatusPage,
    User,
)
from app.models.enums import AuditAction, EventKind
from app.services.audit import actor as actors

log = logging.getLogger(__name__)

CHANGED = "changed"

# The object types the audit log names, by ORM class.
AUDITED: dict[type, str] = {
    PluginInstance: "plugin",
    AlertRule: "alert_rule",
    NotificationChannel: "channel",
    AlertSilence: "silence",
    MaintenanceWindow: "maintenance_window",
    StatusPage: "status_page",
    User: "user",
    ApiToken: "api_token",
    PushMonitor: "push_monitor",
}
OBJECT_TYPES = tuple(sorted(AUDITED.values()))

# Bookkeeping columns that change without anyone changing configuration.
IGNORED = frozenset(
    {
        "id",
        "created_at",
        "updated_at",
        "last_login_at",
        "last_used_at",
        "totp_last_step",
        "token_generation",
        "last_push_at",
        "last_status",
        "last_msg",
        "last_ping_ms",
        "prefix",  # the first characters of an API token
    }
)
# Columns holding a secret (or a digest of one), and the name the log shows them under.
# Column names, not credentials (bandit reads the keys as passwords).
SECRET_NAMES = {
    "url_encrypted": "url",
    "password_hash": "password",  # nosec B105
    "token_hash": "token",  # nosec B105
    "token_encrypted": "token",  # nosec B105
    "totp_secret": "totp_secret",  # nosec B105
}
_SECRET_SUFFIXES = ("_encrypted", "_hash", "secret", "password", "token", "_key")


def _is_secret(column: str) -> bool:
    return column in SECRET_NAMES or column.endswith(_SECRET_SUFFIXES)


def _name_of(obj: Any) -> str:
    for attr in ("name", "username", "slug", "title"):
        value = getattr(obj, attr, None)
        if isinstance(value, str) and value:
            return value
    return f"#{getattr(obj, 'id', '')}"


def _json(value: Any) -> Any:
    """A value as JSON can hold it (datetimes as ISO 8601)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class AuditRecorder:
    """Listens on one database's sessions; `box` reads plugin secrets to name the changed ones."""

    def __init__(self, box: SecretBox | None) -> None:
        self.box = box

    def install(self, db: Database) -> None:
        event.listen(db.session_class, "after_flush", self.after_flush)

    def after_flush(self, session: Session, _context: Any) -> None:
        work: list[tuple[Any, AuditAction]] = []
        for obj in session.new:
            if type(obj) in AUDITED:
                work.append((obj, AuditAction.CREATE))
        for obj in session.dirty:
            if type(obj) in AUDITED:
                work.append((obj, AuditAction.UPDATE))
        for obj in session.deleted:
            if type(obj) in AUDITED:
                work.append((obj, AuditAction.DELETE))
        if not work:
            return
        who = actors.current()
        now = datetime.now(UTC)
        conn = session.connection()
        for obj, action in work:
            changes = {} if action == AuditAction.DELETE else self._diff(obj, action)
            if action == AuditAction.UPDATE and not changes:
                continue
            row = entry_row(who, now, obj, action, changes)
            audit_id = conn.execute(insert(AuditEntry).values(row)).inserted_primary_key
            if row["object_type"] == "plugin":
                conn.execute(insert(Event).values(config_event(who, now, obj, row, audit_id)))

    def _diff(self, obj: Any, action: AuditAction) -> dict[str, Any]:
        state = inspect(obj)
        mapper = state.mapper
        out: dict[str, Any] = {}
        for prop in mapper.column_attrs:
            key = prop.key
            if key in IGNORED:
                continue
            hist = state.attrs[key].history
            if not hist.has_changes():
                continue
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if action == AuditAction.CREATE and new is None:
                continue
            if isinstance(obj, PluginInstance) and key == "secrets":
                out.update(self._secret_fields(old, new))
            elif _is_secret(key):
                out[SECRET_NAMES.get(key, key)] = CHANGED
            elif isinstance(old, dict) or isinstance(new, dict):
                out.update(_dict_diff(key, old or {}, new or {}, action))
            elif old != new:
                out[key] = _change(old, new, action)
        for rel in mapper.relationships:
            if rel.secondary is None:
                continue  # many-to-many links only; the other side of a foreign key logs itself
            hist = state.attrs[rel.key].history
            if hist.added or hist.deleted:
                out[rel.key] = {
                    "added": sorted(_name_of(o) for o in hist.added),
                    "removed": sorted(_name_of(o) for o in hist.deleted),
                }
        return out

    def _secret_fields(self, old: str | None, new: str | None) -> dict[str, str]:
        """Which secret fields of a plugin changed, by decrypting both sides (never logged)."""
        if self.box is None:
            return {"secrets": CHANGED}
        try:
            before = self.box.decrypt(old) if old else {}
            after = self.box.decrypt(new) if new else {}
        except ValueError:
            return {"secrets": CHANGED}
        keys = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        return {f"config.{k}": CHANGED for k in sorted(keys)}


def entry_row(
    who: actors.Actor, now: datetime, obj: Any, action: AuditAction, changes: dict[str, Any]
) -> dict[str, Any]:
    return {
        "at": now,
        "actor": who.name,
        "user_id": who.user_id,
        "token_id": who.token_id,
        "token_name": who.token_name,
        "via": who.via,
        "object_type": AUDITED[type(obj)],
        "object_id": str(getattr(obj, "id", "") or ""),
        "object_name": _name_of(obj)[:200],
        "action": action,
        "changes": changes,
    }


def config_event(
    who: actors.Actor, now: datetime, plugin: Any, row: dict[str, Any], audit_id: Any
) -> dict[str, Any]:
    """The config_changed event on a plugin's timeline that an audit entry of it makes."""
    action = row["action"]
    return {
        "at": now,
        "plugin_id": None if action == AuditAction.DELETE else plugin.id,
        "plugin_name": plugin.name,
        "kind": EventKind.CONFIG_CHANGED,
        "summary": _plugin_summary(plugin.name, action, row["changes"], who),
        "labels": {},
        "details": {"action": action, "fields": sorted(row["changes"])},
        "audit_id": audit_id[0] if audit_id else None,
    }


async def note(session: AsyncSession, obj: Any, changes: dict[str, Any]) -> None:
    """Log an update made with plain SQL (which the flush hook cannot see), e.g. a plugin's
    parents, in the caller's transaction."""
    who = actors.current()
    now = datetime.now(UTC)
    row = entry_row(who, now, obj, AuditAction.UPDATE, changes)
    audit_id = await session.scalar(insert(AuditEntry).values(row).returning(AuditEntry.id))
    if row["object_type"] == "plugin":
        event = config_event(who, now, obj, row, (audit_id,))
        await session.execute(insert(Event).values(event))


def _change(old: Any, new: Any, action: AuditAction) -> dict[str, Any]:
    if action == AuditAction.CREATE:
        return {"new": _json(new)}
    return {"old": _json(old), "new": _json(new)}


def _dict_diff(
    prefix: str, old: dict[str, Any], new: dict[str, Any], action: AuditAction
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in sorted(old.keys() | new.keys()):
        if old.get(key) != new.get(key):
            out[f"{prefix}.{key}"] = _change(old.get(key), new.get(key), action)
    return out


def _plugin_summary(name: str, action: str, changes: dict[str, Any], who: actors.Actor) -> str:
    verb = {"create": "created", "update": "changed", "delete": "deleted"}[action]
    fields = f" ({', '.join(sorted(changes))})" if action == AuditAction.UPDATE else ""
    return f"{name} {verb} by {who.name} via {who.via}{fields}"
