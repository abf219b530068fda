"""Configuration as code on the wire: what an apply (or its dry run) changes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.models.enums import ConfigChangeAction


class FieldChangeOut(BaseModel):
    field: str = Field(description='A dotted path, e.g. "config.port".')
    old: Any = Field(None, description="Null for a secret: its values are never returned.")
    new: Any = None
    secret: bool = False


class ConfigChangeOut(BaseModel):
    section: str = Field(description="The file's list it belongs to, e.g. plugins.")
    action: ConfigChangeAction
    name: str
    fields: list[FieldChangeOut] = Field(description="Only for changes.")
    reason: str | None = Field(None, description="Why a removal follows from another.")


class ConfigApplyOut(BaseModel):
    dry_run: bool
    applied: bool = Field(description="True when the changes were committed.")
    changes: list[ConfigChangeOut]
    unchanged: int
    kept: int = Field(description="Objects in the database that the file does not list, kept.")
    notes: list[str]
    summary: list[str] = Field(description="The diff as `config apply` prints it.")


class ManagedOut(BaseModel):
    """What the UNITY_CONFIG file manages: the UI shows these as read-only."""

    file: str | None = Field(description="The file's name (e.g. unity.yaml); null: none is set.")
    objects: dict[str, list[str]] = Field(
        description="Section (plugins, channels, alert_rules, silences, maintenance_windows) "
        "-> names the file lists; edits to them through the API answer 409."
    )
