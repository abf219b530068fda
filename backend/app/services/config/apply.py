"""Apply a configuration file: validate it (with line and column), diff it, apply it atomically."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.core.security import SecretBox
from app.core.validation import sentence
from app.models.enums import ConfigChangeAction
from app.plugins.registry import PluginRegistry
from app.services.config.export import document, exported
from app.services.config.registry import SECTIONS
from app.services.config.sections import Context, Item, Problems, Section, index
from app.services.config.yamlfile import ConfigFileError, Marks, parse, path_text, resolve_env

if TYPE_CHECKING:
    from app.services.alerts.engine import AlertService
    from app.services.plugins.scheduler import PluginScheduler

log = logging.getLogger(__name__)
_UNSET = object()


@dataclass
class FieldChange:
    field: str
    old: Any
    new: Any
    secret: bool = False  # the values are never shown


@dataclass
class Change:
    section: str
    label: str
    action: ConfigChangeAction
    key: str
    fields: list[FieldChange] = field(default_factory=list)
    reason: str | None = None
    _section: Section | None = field(default=None, repr=False)
    _current: Item | None = field(default=None, repr=False)
    _item: Item | None = field(default=None, repr=False)


@dataclass
class ApplyResult:
    dry_run: bool
    applied: bool
    changes: list[Change]
    unchanged: int
    kept: int  # in the database, not in the file, and not pruned
    notes: list[str]
    # section key -> the keys of the objects the file lists (what UNITY_CONFIG manages)
    listed: dict[str, frozenset[str]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The diff as people read it; never a secret's value."""
        out = [_line(c) for c in self.changes] or ["no changes"]
        if self.kept:
            out.append(
                f"{self.kept} object(s) in the database are not in the file and were kept; "
                "--prune removes them"
            )
        out += self.notes
        if self.changes:
            out.append(
                "dry run: nothing was changed; apply for real without --dry-run"
                if self.dry_run
                else f"applied {len(self.changes)} change(s)"
            )
        return out


def _show(value: Any) -> str:
    if value is _UNSET:
        return "(unset)"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _line(c: Change) -> str:
    head = {"add": "+", "change": "~", "remove": "-"}[c.action] + f" {c.label} {c.key!r}"
    if c.action == "change":
        parts = [
            f"{f.field} (secret, changed)"
            if f.secret
            else f"{f.field}: {_show(f.old)} -> {_show(f.new)}"
            for f in c.fields
        ]
        head += ": " + ", ".join(parts)
    return head + (f" ({c.reason})" if c.reason else "")


def _flat(doc: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in doc.items():
        if isinstance(v, dict):  # one level down, so a diff names config.port, not config
            out.update({f"{k}.{k2}": v2 for k2, v2 in v.items()})
        else:
            out[k] = v
    return out


def diff(current: Item, item: Item) -> list[FieldChange]:
    old, new = _flat(current.doc), _flat(item.doc)
    secret = current.secret_fields | item.secret_fields
    out = []
    for name in list(old) + [k for k in new if k not in old]:
        a, b = old.get(name, _UNSET), new.get(name, _UNSET)
        if a != b:
            hidden = name in secret
            out.append(FieldChange(name, None if hidden else a, None if hidden else b, hidden))
    return out


Used = list[tuple[tuple[str | int, ...], str]]


def _validate(
    text: str, env: Mapping[str, str], note: str, stored: Mapping[str, str], used: Used
) -> tuple[Any, Marks]:
    """The file as a document model. A `${NAME}` the environment lacks but an export of this
    database would write takes the stored secret; `used` lists where, to be checked."""
    data, marks = parse(text)
    file_env = data.get("env")
    merged = {str(k): str(v) for k, v in file_env.items()} if isinstance(file_env, dict) else {}
    merged.update(env)  # the process environment wins over the file's env:
    resolved: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for key, value in data.items():
        if str(key).startswith("x-"):  # compose's convention: a place for YAML anchors
            continue
        if key == "env":
            resolved[key] = value
        else:
            resolved[key], more = resolve_env(value, merged, marks, (str(key),), note, stored, used)
            problems += more
    if problems:
        raise ConfigFileError(problems)
    model = document()
    try:
        return model.model_validate(resolved), marks
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err.get("loc", ()))
            said = sentence(err)
            if err.get("type") == "extra_forbidden":
                owner = next((s.entry for s in SECTIONS if len(loc) == 3 and loc[0] == s.key), None)
                known = (owner or model).model_fields
                said += f"; the known fields are: {', '.join(known)}"
            problems.append((marks.where(loc), said))
        raise ConfigFileError(problems) from None


async def apply_config(
    session: AsyncSession,
    box: SecretBox,
    registry: PluginRegistry,
    text: str,
    env: Mapping[str, str],
    *,
    dry_run: bool = True,
    prune: bool = False,
    user: str = "config",
    now: datetime | None = None,
    scheduler: PluginScheduler | None = None,
    alerts: AlertService | None = None,
    env_note: str = "",
) -> ApplyResult:
    """Diff the file against the database and, unless dry_run, apply it all or nothing.

    `env` holds the variables ${NAME} may read; `env_note` ends the sentence of a missing one.
    The file's own `prune: true` prunes as `prune=True` does.
    """
    ctx = Context(session, box, registry, now or datetime.now(UTC), user)
    current = ctx.current
    for s in SECTIONS:
        current[s.key] = index(await s.current(ctx))
        ctx.ids[s.key] = {key: item.row.id for key, item in current[s.key].items()}
    # An exported file applied where it came from keeps the stored secrets it names.
    refs = exported(current)[1]
    used: Used = []
    doc, marks = _validate(text, env, env_note, {n: r.value for n, r in refs.items()}, used)
    prune = prune or bool(getattr(doc, "prune", False))  # the file may ask for it itself
    present = doc.model_fields_set & {s.key for s in SECTIONS}
    problems: list[tuple[str, str]] = []
    notes: list[str] = []
    desired: dict[str, dict[str, Item]] = {}
    paths: dict[tuple[str, str], tuple[str | int, ...]] = {}
    for s in SECTIONS:
        desired[s.key] = {}
        for i, entry in enumerate(getattr(doc, s.key)):
            path: tuple[str | int, ...] = (s.key, i)
            note = s.skip_note(ctx, entry)
            if note:
                notes.append(f"note: {path_text(path)} ({marks.where(path)}): {note}")
                continue
            try:
                item = s.desired(ctx, entry)
            except Problems as exc:
                problems += [(marks.where((*path, *p.path)), p.sentence) for p in exc.problems]
                continue
            if item is None:
                continue
            if item.key in desired[s.key]:
                where = (*path, "name") if "name" in s.entry.model_fields else path
                problems.append(
                    (marks.where(where), f"another {s.label} here is also {item.key!r}")
                )
                continue
            desired[s.key][item.key] = item
            paths[(s.key, item.key)] = path
            old = current[s.key].get(item.key)
            refused = s.refuse_change(old, item) if old else None
            if refused:
                problems.append((marks.where((*path, *refused.path)), refused.sentence))
    labels = {s.key: s.label for s in SECTIONS}
    placed = {where: key for (_, key), where in paths.items()}
    for at, name in used:  # a stored secret only goes back where it came from
        ref = refs[name]
        here = (at[0], placed.get(at[:2]), ".".join(map(str, at[2:])))
        if here != (ref.section, ref.key, ref.field):
            problems.append(
                (
                    marks.where(at),
                    f"the environment variable {name} is not set (set it in the environment, "
                    f"or under env: in the file); the stored secret of that name is only kept "
                    f"for {labels[ref.section]} {ref.key!r}'s {ref.field}",
                )
            )
    for s in SECTIONS:
        for item in desired[s.key].values():
            for section, name, rel in item.references:
                known = set(desired[section])
                if not (prune and section in present):
                    known |= set(current[section])
                if name not in known:
                    spot = marks.where((*paths[(s.key, item.key)], *rel))
                    why = (
                        "the file does not list it and --prune removes it"
                        if (name in current[section])
                        else "there is none in this file or in the database"
                    )
                    problems.append((spot, f"names the {labels[section]} {name!r}, but {why}"))
    if problems:
        raise ConfigFileError(problems)

    changes, unchanged, kept = _plan(current, desired, present, prune)
    listed = {key: frozenset(items) for key, items in desired.items()}
    result = ApplyResult(dry_run, False, changes, unchanged, kept, notes, listed)
    if dry_run or not changes:
        return result
    try:
        for c in reversed([c for c in changes if c.action == "remove"]):
            assert c._section and c._current
            await c._section.delete(ctx, c._current)
        await session.flush()
        for s in SECTIONS:  # in order: a kind may name the ids of the kinds before it
            adds = [c for c in changes if c.section == s.key and c.action == "add"]
            # One batch per kind: 10,000 plugins are one INSERT, not 10,000 flushes.
            created = await s.create_many(ctx, [c._item for c in adds if c._item])
            for c, ident in zip(adds, created, strict=True):
                ctx.ids[c.section][c.key] = ident
            for c in changes:
                if c.section == s.key and c.action == "change":
                    assert c._current and c._item
                    await s.update(ctx, c._current, c._item)
        for s in SECTIONS:
            await s.link(ctx)
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(
            "Another change to the same objects landed while this file was applied; nothing "
            "was changed. Apply the file again."
        ) from None
    except BaseException:
        await session.rollback()
        raise
    result.applied = True
    log.info(
        "configuration applied",
        extra={"changes": len(changes), "prune": prune, "user": user},
    )
    if scheduler is not None:
        await scheduler.sync_many(ctx.plugins_touched)
    if alerts is not None and ctx.rules_touched:
        alerts.rules_changed()
    return result


def _plan(
    current: dict[str, dict[str, Item]],
    desired: dict[str, dict[str, Item]],
    present: set[str],
    prune: bool,
) -> tuple[list[Change], int, int]:
    changes: list[Change] = []
    unchanged = kept = 0
    removed: dict[str, set[str]] = {}
    for s in SECTIONS:
        for key, item in desired[s.key].items():
            old = current[s.key].get(key)
            if old is None:
                changes.append(
                    Change(s.key, s.label, ConfigChangeAction.ADD, key, _section=s, _item=item)
                )
            elif old.doc != item.doc:
                changes.append(
                    Change(
                        s.key,
                        s.label,
                        ConfigChangeAction.CHANGE,
                        key,
                        diff(old, item),
                        _section=s,
                        _current=old,
                        _item=item,
                    )
                )
            else:
                unchanged += 1
        for key, old in current[s.key].items():
            if key in desired[s.key]:
                continue
            # An object that belongs to a removed one (a plugin's rule) goes with it, said so.
            owner = next((ref for ref in old.references if ref[1] in removed.get(ref[0], ())), None)
            if (prune and s.key in present) or owner is not None:
                label = next((o.label for o in SECTIONS if owner and o.key == owner[0]), "")
                reason = None if owner is None else f"its {label} {owner[1]!r} is removed"
                changes.append(
                    Change(
                        s.key,
                        s.label,
                        ConfigChangeAction.REMOVE,
                        key,
                        reason=reason,
                        _section=s,
                        _current=old,
                    )
                )
                removed.setdefault(s.key, set()).add(key)
            else:
                kept += 1
    return changes, unchanged, kept
