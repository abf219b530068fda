"""/api/v1/plugin-types: the catalog of installed plugin types and their config schemas."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.deps import CurrentUser, StateDep
from app.core.errors import AUTH, responses
from app.schemas.plugins import PluginTypeOut

router = APIRouter(prefix="/plugin-types", tags=["plugin-types"])


@router.get(
    "",
    response_model=list[PluginTypeOut],
    responses=responses(*AUTH),
    summary="List plugin types with their JSON Schemas",
)
async def list_plugin_types(state: StateDep, user: CurrentUser) -> list[dict[str, Any]]:
    out = []
    for entry in state.registry.all():
        cls = entry.cls
        out.append(
            {
                "type": entry.type,
                "name": cls.name if cls else entry.type,
                "description": cls.description if cls else "",
                "category": cls.category if cls else "other",
                "config_schema": cls.config_schema() if cls else {},
                "secret_fields": cls.secret_fields() if cls else [],
                "default_interval_seconds": cls.default_interval_seconds if cls else 60,
                "available": entry.available,
                "unavailable_reason": entry.error,
            }
        )
    return out
