"""Export the configuration as YAML: stable order, names instead of ids, secrets as ${ENV} names."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import SecretBox
from app.plugins.registry import PluginRegistry
from app.services.config.registry import SECTIONS
from app.services.config.schema import FORMAT_VERSION, document_model
from app.services.config.sections import Context, Item, Section, index
from app.services.config.yamlfile import dump, env_name, escape

HEADER = (
    "# Unity configuration: apply it with `python -m app config apply FILE`.\n"
    "# Secrets are ${NAME} references, read from the environment when the file is applied.\n"
)
HEADER_WITH_SECRETS = (
    "# Unity configuration: apply it with `python -m app config apply FILE`.\n"
    "# This file holds credentials in plain text (under env:); keep it private.\n"
)


@cache
def document() -> type[BaseModel]:
    """The Pydantic model of the whole file, from the registered sections."""
    return document_model([(s.key, s.entry) for s in SECTIONS])


def json_schema(registry: PluginRegistry | None = None) -> dict[str, Any]:
    """The file's JSON Schema; with a registry, each plugin type's `config` is described too."""
    schema = document().model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    if registry is not None:
        _plugin_types(schema, registry)
    return schema


def _plugin_types(schema: dict[str, Any], registry: PluginRegistry) -> None:
    defs = schema.setdefault("$defs", {})
    plugin = defs["PluginEntry"]
    plugin["properties"]["type"]["enum"] = [t.type for t in registry.all()]
    cases = []
    for entry in registry.all():
        if entry.cls is None:
            continue
        config = entry.cls.config_schema()
        # Each type's own $defs move to the top, renamed, so its $refs still resolve.
        for name, sub in config.pop("$defs", {}).items():
            defs[f"{entry.type}.{name}"] = _rename_refs(sub, entry.type)
        cases.append(
            {
                "if": {"properties": {"type": {"const": entry.type}}, "required": ["type"]},
                "then": {"properties": {"config": _rename_refs(config, entry.type)}},
            }
        )
    plugin["allOf"] = cases


def _rename_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        out = {k: _rename_refs(v, prefix) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            out["$ref"] = f"#/$defs/{prefix}.{ref.removeprefix('#/$defs/')}"
        return out
    if isinstance(node, list):
        return [_rename_refs(v, prefix) for v in node]
    return node


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    return value


def _export_doc(section: Section, item: Item, refs: dict[str, SecretRef]) -> dict[str, Any]:
    doc: dict[str, Any] = _escaped(copy.deepcopy(item.doc))
    for path in sorted(item.secret_fields):
        *parents, last = path.split(".")
        holder = doc
        for part in parents:
            holder = holder[part]
        base = name = env_name(*section.env_name_parts(item, path))
        n = 1
        while name in refs:
            n += 1
            name = f"{base}_{n}"
        refs[name] = SecretRef(section.key, item.key, path, str(_value(item.doc, path)))
        holder[last] = "${" + name + "}"
    return doc


@dataclass(frozen=True)
class SecretRef:
    """Where the secret an export writes as ${NAME} is stored, and its value."""

    section: str
    key: str
    field: str
    value: str


def exported(
    current: Mapping[str, Mapping[str, Item]],
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, SecretRef]]:
    """Each section's objects as the file writes them, and the secrets behind their ${NAME}s."""
    refs: dict[str, SecretRef] = {}
    sections = {
        s.key: [_export_doc(s, item, refs) for item in current[s.key].values()] for s in SECTIONS
    }
    return sections, refs


def _value(doc: dict[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        value = value[part]
    return value


async def export_config(
    session: AsyncSession,
    box: SecretBox,
    registry: PluginRegistry,
    *,
    include_secrets: bool = False,
    now: datetime | None = None,
) -> str:
    """The YAML text; with include_secrets the values of the ${NAME} references go under env:."""
    ctx = Context(session, box, registry, now or datetime.now(UTC))
    current: dict[str, dict[str, Item]] = {}
    for section in SECTIONS:
        current[section.key] = index(await section.current(ctx))
        ctx.ids[section.key] = {key: item.row.id for key, item in current[section.key].items()}
    sections, refs = exported(current)
    out: dict[str, Any] = {"version": FORMAT_VERSION}
    if include_secrets:
        out["env"] = {name: refs[name].value for name in sorted(refs)}
    out.update(sections)
    return (HEADER_WITH_SECRETS if include_secrets else HEADER) + dump(out)
