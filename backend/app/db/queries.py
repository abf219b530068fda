"""Query shapes every domain repeats: a counted page of rows, a commit that may clash on a name."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, NotFound

T = TypeVar("T")


async def paginate(
    session: AsyncSession,
    entity: type[T],
    *where: Any,
    order_by: tuple[Any, ...],
    limit: int,
    offset: int,
) -> tuple[list[T], int]:
    """One page of `entity` rows matching `where`, and how many match in all."""
    total = await session.scalar(select(func.count()).select_from(entity).where(*where))
    rows = await session.scalars(
        select(entity).where(*where).order_by(*order_by).limit(limit).offset(offset)
    )
    return list(rows), int(total or 0)


async def get_or_not_found(session: AsyncSession, entity: type[T], ident: int, missing: str) -> T:
    """The row with primary key `ident`, else NotFound with the sentence `missing`."""
    row = await session.get(entity, ident)
    if row is None:
        raise NotFound(missing)
    return row


async def commit_unique(session: AsyncSession, what: str, name: str) -> None:
    """Commit; a unique-name clash (even one raced in by another request) becomes a Conflict."""
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"{what} named {name!r} already exists; pick another name.") from None
