"""/api/v1/tokens: long-lived API tokens for scripts (the secret is shown once)."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import AdminUser, CurrentUser, SessionDep
from app.core.errors import ADMIN, AUTH, InvalidInput, NotFound, responses
from app.models import ApiToken
from app.schemas.auth import ApiTokenCreate, ApiTokenCreated, ApiTokenOut
from app.services.auth import tokens

router = APIRouter(prefix="/tokens", tags=["tokens"])


@router.get(
    "",
    response_model=list[ApiTokenOut],
    responses=responses(*AUTH),
    summary="List API tokens (yours; all of them for admins)",
)
async def list_tokens(user: CurrentUser, session: SessionDep) -> list[ApiToken]:
    return await tokens.list_api_tokens(session, user)


@router.post(
    "",
    response_model=ApiTokenCreated,
    status_code=201,
    responses=responses(*ADMIN, InvalidInput),
    summary="Create an API token for yourself, or a probe token for a remote location",
)
async def create_token(
    body: ApiTokenCreate, user: AdminUser, session: SessionDep
) -> ApiTokenCreated:
    token, secret = await tokens.create_api_token(
        session, user, body.name, body.expires_in_days, body.scope or "full", body.location
    )
    return ApiTokenCreated.model_validate(
        {**ApiTokenOut.model_validate(token).model_dump(), "token": secret}
    )


@router.delete(
    "/{token_id}",
    status_code=204,
    responses=responses(*ADMIN, NotFound),
    summary="Revoke an API token",
)
async def revoke_token(token_id: int, user: AdminUser, session: SessionDep) -> None:
    await tokens.revoke_api_token(session, user, token_id)
