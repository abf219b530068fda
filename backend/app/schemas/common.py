"""Shared response pieces: UTC timestamps on the wire and paginated lists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, PlainSerializer

T = TypeVar("T")


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


UTCTime = Annotated[datetime, PlainSerializer(iso_utc, return_type=str)]


class ORM(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: Sequence[object], total: int, limit: int, offset: int) -> Self:
        """A page from the rows of `paginate()` (ORM objects are read by attribute)."""
        return cls.model_validate(
            {"items": items, "total": total, "limit": limit, "offset": offset},
            from_attributes=True,
        )
