"""/api/v1/plugin-types: the catalog of installed plugin types and their config schemas."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import CurrentUser, StateDep
from app.core.errors import AUTH, responses
from app.schemas.plugins import PluginTypeOut
from app.services.plugins import instances as svc

router = APIRouter(prefix="/plugin-types", tags=["plugin-types"])


@router.get(
    "",
    response_model=list[PluginTypeOut],
    responses=responses(*AUTH),
    summary="List plugin types with their JSON Schemas",
)
async def list_plugin_types(state: StateDep, user: CurrentUser) -> list[PluginTypeOut]:
    return svc.catalog(state.registry)
