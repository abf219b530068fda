"""The seam each kind of configured object plugs into: read, normalise, create, change, remove.

A section is one top-level list of the file (`plugins:`, `alert_rules:`, ...). Adding a kind of
object (status pages, say) means writing one `Section` subclass and adding it
to `SECTIONS` in `app/services/config/registry.py`: export, apply, the diff, `--prune`, the JSON
Schema and the CLI pick it up from there.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import SecretBox
from app.core.validation import sentence
from app.plugins.registry import PluginRegistry
from app.services.config.schema import Entry
from app.services.config.yamlfile import Path


class Problem(Exception):
    """Something wrong with one entry; `path` is relative to the entry, e.g. ("config", "port")."""

    def __init__(self, path: Path, sentence: str) -> None:
        super().__init__(sentence)
        self.path = path
        self.sentence = sentence


class Problems(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].sentence)
        self.problems = problems


def problems_of(exc: ValidationError, model: type[BaseModel] | None = None) -> Problems:
    """Pydantic's errors as Problems with the sentences the API uses elsewhere."""
    out = []
    for err in exc.errors():
        text = sentence(err)
        if err.get("type") == "extra_forbidden" and model is not None:
            text += f"; the known fields are: {', '.join(model.model_fields)}"
        out.append(Problem(tuple(err.get("loc", ())), text))
    return Problems(out)


Reference = tuple[str, str, Path]  # (section key, object key, path of the field naming it)


@dataclass
class Item:
    """One object in its canonical form: what export writes and what a diff compares."""

    key: str  # identity inside its section (a name; for silences plugin/rule/start)
    doc: dict[str, Any]  # secrets in plain text here; export swaps them for ${ENV} references
    secret_fields: frozenset[str] = frozenset()  # dotted paths into doc, e.g. "config.password"
    row: Any = None  # the ORM object, for current items
    # (section, key, path) of the objects it names; for a database item only those it belongs to
    # (removing them removes it), for a file entry all (each must exist).
    references: list[Reference] = field(default_factory=list)


def index(items: list[Item]) -> dict[str, Item]:
    """Items by key, in order; a key the database holds twice gets a ` #2` so none is lost."""
    out: dict[str, Item] = {}
    for item in items:
        key, n = item.key, 1
        while key in out:
            n += 1
            key = f"{item.key} #{n}"
        item.key = key
        out[key] = item
    return out


@dataclass
class Context:
    session: AsyncSession
    box: SecretBox
    registry: PluginRegistry
    now: datetime
    user: str = "config"
    # section key -> object key -> database id; filled from the database, then by creations.
    ids: dict[str, dict[str, int]] = field(default_factory=dict)
    # section key -> object key -> what the database holds (apply only, for defaults kept as is)
    current: dict[str, dict[str, Item]] = field(default_factory=dict)
    plugins_touched: set[int] = field(default_factory=set)
    rules_touched: bool = False
    # plugin id -> the names of the parents the file gives it, set once every plugin exists.
    parents: dict[int, list[str]] = field(default_factory=dict)


class Section(ABC):
    key: ClassVar[str]  # the file's top-level key
    label: ClassVar[str]  # one object, as a sentence names it ("plugin", "alert rule")
    entry: ClassVar[type[Entry]]

    @abstractmethod
    async def current(self, ctx: Context) -> list[Item]:
        """What the database holds, in the stable order export writes."""

    @abstractmethod
    def desired(self, ctx: Context, entry: Entry) -> Item | None:
        """One file entry in canonical form (defaults filled); None to skip it. Raises Problems."""

    def skip_note(self, ctx: Context, entry: Entry) -> str | None:
        """Why an entry of the file is ignored (e.g. a silence that has ended), if it is."""
        return None

    def refuse_change(self, current: Item, item: Item) -> Problem | None:
        """A change this kind cannot take in place (a plugin's type), as a problem at its field."""
        return None

    def env_name_parts(self, item: Item, field_path: str) -> tuple[str, ...]:
        """The words of the variable name a secret is exported as."""
        return (self.label.replace(" ", "_"), item.key, field_path.rsplit(".", 1)[-1])

    @abstractmethod
    async def create(self, ctx: Context, item: Item) -> int: ...

    async def create_many(self, ctx: Context, items: list[Item]) -> list[int]:
        """Create several (a kind with many objects to a file does it in one batch)."""
        return [await self.create(ctx, item) for item in items]

    @abstractmethod
    async def update(self, ctx: Context, current: Item, item: Item) -> None: ...

    @abstractmethod
    async def delete(self, ctx: Context, current: Item) -> None: ...

    async def link(self, ctx: Context) -> None:
        """After every creation and change: links between objects of this kind (which may
        name one created later in the same file)."""
        return None
